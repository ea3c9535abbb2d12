// Who may write a partition's effects and checkpoint: an owner epoch per (projector, topic,
// partition) in the generation's `nova_owners_v<N>`, beside its checkpoint (its own collection,
// so that generations made before it need no schema change: ensureGeneration adds it).
//
// Milvus reads a row's version and then upserts it (sink.ts), so two holders of a partition
// interleaving between the read and the write could regress the row; and Milvus has no
// conditional write to refuse the older one. The fence, in three parts:
//  - claim: each assignment bumps the epoch of the partitions it gets and writes this claim's
//    token (read, then write: only the instance Kafka assigned them to claims them);
//  - check: every attempt of a sink call first reads the epochs of its partitions, and one
//    claimed since by someone else is not written (NOVA_S1006, a stall: the partition waits for
//    its revocation); so a revoked holder that has not heard of it yet stops at its next retry;
//  - lease: an attempt sends no write later than `leaseMs` after its check, and every write
//    carries the rest of the lease as its gRPC deadline. A claim that took a partition from an
//    earlier holder writes nothing for `leaseMs` plus a margin, so whatever that holder sent
//    after its last check has landed (or been given up) before the new holder reads a version.
// The argument holds while a request's deadline bounds when Milvus applies it: a request held
// in the network past its deadline, or a server finishing one later than the margin, is the
// window that remains (as with any lease the store does not check itself).
import { randomUUID } from 'node:crypto';
import { DataType, type MilvusClient } from '@zilliz/milvus2-sdk-node';
import { codes, NovaError } from '../runtime/errors.ts';
import { sleepUnlessAborted } from '../runtime/retry.ts';
import type { Checkpoint } from '../runtime/sink.ts';
import { collectionName, placeholderField, placeholderIndex, placeholderVector, type CollectionSpec } from './collections.ts';
import { call, int64, int64Of, quote } from './milvus-call.ts';

export const ownerCollection = (generation: number) => collectionName('nova_owners', generation);

export const ownerSpec = (generation: number): CollectionSpec => ({
  name: ownerCollection(generation),
  fields: [
    { name: 'id', data_type: DataType.VarChar, is_primary_key: true, max_length: 512 },
    { name: 'owner_epoch', data_type: DataType.Int64 },
    // the claim's own token: two claims racing to the same epoch still differ here
    { name: 'owner', data_type: DataType.VarChar, max_length: 36 },
    placeholderField,
  ],
  index: placeholderIndex,
});

type Partition = Pick<Checkpoint, 'topic' | 'partition'>;
type Claim = { epoch: bigint; owner: string; writableAt: number };

/** Time for a write sent at the end of a lease to be applied, or given up, by the server. */
const leaseMarginMs = 1_000;

// a monotonic clock: a step of the wall clock must not stretch a lease or shorten a grace
const now = () => performance.now();

/** The client, with every upsert and delete refused once `deadline` has passed and otherwise given what is left of it as its deadline. */
function leasedWrites(client: MilvusClient, deadline: number): MilvusClient {
  const remaining = (what: string) => {
    const ms = deadline - now();
    // bounded: the call was too slow for its lease (perhaps too big); retried with a new check, then split
    if (ms <= 0) throw new NovaError('bounded', codes.storeTimeout, `milvus: ${what}: the attempt's write lease ran out before it was sent`);
    return ms;
  };
  type Deletion = Parameters<MilvusClient['deleteEntities']>[0];
  // a delete goes as deleteEntities: one request, where the SDK's delete first describes the collection (twice)
  const deletion = (request: Deletion) => client.deleteEntities({ ...request, timeout: remaining(`delete from ${request.collection_name}`) });
  return new Proxy(client, {
    get(target, property) {
      if (property === 'upsert') return (request: Parameters<MilvusClient['upsert']>[0]) => target.upsert({ ...request, timeout: remaining(`upsert into ${request.collection_name}`) });
      if (property === 'delete' || property === 'deleteEntities') return deletion;
      if (property === 'insert' || property === 'bulkInsert') throw new Error(`milvus: ${String(property)} is not leased: write through upsert or delete`);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export type Fence = {
  /** Takes the partitions of a new assignment (and forgets the previous one's). */
  claim(partitions: Partition[]): Promise<void>;
  /**
   * Before an attempt: waits out a claim's grace, checks that every partition of the call is
   * still this claim's, and returns the client the attempt must write through. A sink that
   * never claimed (a tool or a test driving it itself) is not fenced.
   */
  begin(checkpoints: Partition[], signal?: AbortSignal): Promise<MilvusClient>;
};

/** The fence of one sink; `leaseMs`: how long an attempt may write after its check. */
export function createFence(client: MilvusClient, { projector, generation }: { projector: string; generation: number }, leaseMs: number): Fence {
  const name = ownerCollection(generation);
  const idOf = ({ topic, partition }: Partition) => `${projector}:${topic}:${partition}`;
  const claims = new Map<string, Claim>();
  /** this sink's last claim's token: a partition it held itself needs no grace (its attempts run one at a time, before the claim) */
  let lastOwner: string | undefined;

  async function readEpochs(ids: string[]): Promise<Map<string, { epoch: bigint; owner: string }>> {
    const found = await call(client, 'read owner epochs', () => client.query({ collection_name: name, filter: `id in [${ids.map(quote).join(', ')}]`, output_fields: ['id', 'owner_epoch', 'owner'] }), { collection: name });
    return new Map(found.data.map((row) => [String(row['id']), { epoch: int64Of(row['owner_epoch']), owner: String(row['owner']) }]));
  }

  return {
    async claim(partitions) {
      claims.clear();
      if (partitions.length === 0) return;
      const ids = partitions.map(idOf);
      const stored = await readEpochs(ids);
      const owner = randomUUID();
      const next = ids.map((id) => ({ id, epoch: (stored.get(id)?.epoch ?? 0n) + 1n, previous: stored.get(id) }));
      const data = next.map(({ id, epoch }) => ({ id, owner_epoch: int64(epoch), owner, placeholder: placeholderVector }));
      await call(client, 'claim partitions', () => client.upsert({ collection_name: name, data }), { collection: name });
      const claimedAt = now();
      for (const { id, epoch, previous } of next) {
        const fromAnother = previous !== undefined && previous.owner !== lastOwner;
        claims.set(id, { epoch, owner, writableAt: fromAnother ? claimedAt + leaseMs + leaseMarginMs : 0 });
      }
      lastOwner = owner;
    },

    async begin(checkpoints, signal) {
      if (lastOwner === undefined) return client; // never claimed: a tool or a test driving the sink itself
      const mine = checkpoints.map((p) => {
        const claim = claims.get(idOf(p));
        // fail closed: once this sink claims, a partition outside its claim is not its to write
        if (!claim) throw new NovaError('stall', codes.fenced, `milvus: ${p.topic}[${p.partition}] is not in this instance's claim: it writes nothing to it`);
        return { p, id: idOf(p), claim };
      });
      if (mine.length === 0) return client;
      const wait = Math.max(...mine.map(({ claim }) => claim.writableAt)) - now();
      if (wait > 0) await sleepUnlessAborted(wait, signal);
      const checkedAt = now();
      const stored = await readEpochs(mine.map(({ id }) => id));
      for (const { p, id, claim } of mine) {
        const found = stored.get(id);
        if (found?.epoch === claim.epoch && found.owner === claim.owner) continue;
        throw new NovaError(
          'stall',
          codes.fenced,
          `milvus: ${p.topic}[${p.partition}] was claimed again since this instance claimed it at owner epoch ${claim.epoch} (now ${found ? `epoch ${found.epoch}, another token` : 'no claim'}): another instance holds it, so this one writes nothing more to it`,
        );
      }
      return leasedWrites(client, checkedAt + leaseMs);
    },
  };
}
