// The Milvus sink. Milvus has no transaction and no conditional write, so for each collection a
// batch touches it reads the stored versions and commit orders of the batch's keys (rows and
// tombstones, one query each) and the last truncate, plans the writes that are newer (plan.ts),
// writes them, and only then the checkpoints: a crash in between replays work the guards skip.
// Several instances share the partitions: an owner epoch fences a partition's previous holder
// between that read and that write (owners.ts).
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import type { Ordered } from '../runtime/decode/index.ts';
import type { CheckpointStore, Rejected, Sink, StoreOp } from '../runtime/sink.ts';
import { loadCheckpoints, writeCheckpoints } from './checkpoint.ts';
import { collectionName, primaryKeys } from './collections.ts';
import type { EmbeddingCollection, MilvusOp } from './mapping/index.ts';
import { call, int64 } from './milvus-call.ts';
import { createFence } from './owners.ts';
import { needsStoredValues, planCollection, type CollectionPlan, type StoredRow, type StoredState } from './plan.ts';
import { orderOf, readTombstones, rememberDeletes, rememberTruncate } from './tombstones.ts';

export type MilvusSinkOptions = {
  /** handed over: close() closes it */
  client: MilvusClient;
  generation: number;
  projector: string;
  /** how long an attempt may write after checking its partitions' owner epochs (owners.ts) */
  writeLeaseMs: number;
};

type Target = { client: MilvusClient; generation: number; collection: EmbeddingCollection };

const keysOf = (ops: StoreOp<MilvusOp>[]) => [...new Set(ops.flatMap(({ op }) => (op.kind === 'truncate' ? [] : [op.key])))];

/** What the generation holds for the ops' keys: live rows (with their values when an op needs them) and tombstones. */
async function readStored({ client, generation, collection }: Target, ops: StoreOp<MilvusOp>[]): Promise<StoredState> {
  const name = collectionName(collection, generation);
  const primaryKey = primaryKeys[collection];
  const keys = keysOf(ops);
  const rows = new Map<number, StoredRow>();
  if (keys.length > 0) {
    const values = needsStoredValues(ops) ? ['embedding', 'model_version'] : [];
    const found = await call(
      client,
      `read the versions in ${name}`,
      () => client.query({ collection_name: name, filter: `${primaryKey} in [${keys.join(', ')}]`, output_fields: [primaryKey, 'version', 'commit_order', ...values] }),
      { collection: name },
    );
    for (const row of found.data) {
      rows.set(Number(row[primaryKey]), { ...orderOf(row), embedding: row['embedding'] as number[] | undefined, model_version: row['model_version'] as string | undefined });
    }
  }
  const tombstones = await readTombstones(client, generation, collection, keys);
  return { rows, tombstones: tombstones.byKey, truncate: tombstones.truncate };
}

/** The rows before `truncate` in commit order (decode/version.ts isBeforeTruncate), as a filter of checked integers. */
const beforeTruncate = ({ version, commitOrder }: Ordered) => `commit_order < ${int64(commitOrder)} or (commit_order == ${int64(commitOrder)} and version < ${int64(version)})`;

/**
 * Writes a plan. A truncate is remembered after its rows are deleted (plan.ts takes a
 * remembered truncate as one that has run); a delete's tombstone is written before its row
 * goes (a row never disappears without its memory). Every step is safe to repeat.
 */
async function writePlan({ client, generation, collection }: Target, plan: CollectionPlan): Promise<void> {
  const name = collectionName(collection, generation);
  const primaryKey = primaryKeys[collection];
  const { truncate } = plan;
  if (truncate !== null) {
    // rows after it (a partition that ran ahead, or its own transaction's later writes) stay
    await call(client, `truncate ${name}`, () => client.delete({ collection_name: name, filter: beforeTruncate(truncate) }), { collection: name });
    await rememberTruncate(client, generation, collection, truncate);
  }
  if (plan.deletes.length > 0) {
    await rememberDeletes(client, generation, collection, plan.deletes);
    const keys = plan.deletes.map(({ key }) => key).join(', ');
    await call(client, `delete from ${name}`, () => client.delete({ collection_name: name, filter: `${primaryKey} in [${keys}]` }), { collection: name });
  }
  if (plan.upserts.length > 0) {
    const data = plan.upserts.map(({ key, version, commitOrder, embedding, model_version, updated_at }) => ({
      [primaryKey]: key,
      embedding,
      model_version,
      updated_at,
      version: int64(version),
      commit_order: int64(commitOrder),
    }));
    await call(client, `upsert into ${name}`, () => client.upsert({ collection_name: name, data }), { collection: name });
  }
}

export function createMilvusSink(options: MilvusSinkOptions): Sink<MilvusOp> & CheckpointStore {
  const { client, generation, projector } = options;
  const scope = { projector, generation };
  const fence = createFence(client, scope, options.writeLeaseMs);
  // The guards read, then write: that is sound only while no other write to the collection comes
  // in between. Keys never meet across partitions, but a truncate covers them all, so calls run
  // one at a time (milvus-lite serves one request at a time anyway).
  let previous: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const next = previous.then(work, work);
    previous = next.catch(() => {}); // its caller sees the failure; the next call must still run
    return next;
  };

  return {
    apply: (ops, checkpoints, onRejected, sinkCall) =>
      oneAtATime(async () => {
        // every write of the attempt goes through `writer`: refused once its lease has passed
        const writer = await fence.begin(checkpoints, sinkCall?.signal);
        const rejected: Rejected[] = [];
        for (const collection of new Set(ops.map(({ op }) => op.collection))) {
          const target = { client: writer, generation, collection };
          const collectionOps = ops.filter(({ op }) => op.collection === collection);
          const plan = planCollection(collectionOps, await readStored(target, collectionOps));
          await writePlan(target, plan);
          rejected.push(...plan.rejected);
        }
        // dead-lettered before the checkpoint moves past them, so none is lost
        if (rejected.length > 0) await onRejected(rejected);
        await writeCheckpoints(writer, scope, checkpoints);
      }),
    claim: (partitions) => oneAtATime(() => fence.claim(partitions)),
    load: () => loadCheckpoints(client, scope),
    // the projector's createSink builds the client for this sink alone, so the sink owns it
    close: () => client.closeConnection().then(() => {}),
  };
}
