// Two instances of the Milvus projector, one partition moving between them, against the real
// server: the owner epoch (owners.ts) fences the partition's previous holder. Each instance is a
// sink of its own over a client of its own, as in two processes; the test plays the rebalance
// by claiming (what the runtime does on every assignment, rebalance.test.ts) and holds or fails
// the previous holder's requests where a slow network or a store outage would.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { env } from '../../scripts/stack.d/test/stack.ts';
import type { Change } from '../runtime/decode/index.ts';
import { NovaError } from '../runtime/errors.ts';
import type { Checkpoint, StoreOp } from '../runtime/sink.ts';
import { withRetry } from '../runtime/wrappers/with-retry.ts';
import { EMBEDDING_DIM, collectionName, connectMilvus, createMilvusSink, dropGeneration, ensureGeneration, type MilvusOp } from './index.ts';
import { mapChange } from './mapping/index.ts';
import { ownerCollection } from './owners.ts';
import { readRows } from './test/oracle.ts';

const generation = randomInt(100_000, 1_000_000);
const leaseMs = 1_500;
const admin = await connectMilvus(env('MILVUS_ADDRESS'));
const users = collectionName('user_embeddings', generation);
const topic = 'nova.recommendation.user_embeddings';
const clients: MilvusClient[] = [];

before(() => ensureGeneration(admin, generation, { shadow: true }));
after(async () => {
  await dropGeneration(admin, generation);
  for (const client of [admin, ...clients]) await client.closeConnection();
});

/** What one instance's requests go through: `held` and `fail` stand in for the network and the store. */
type Requests = {
  /** upserts into the user embeddings that reached the server */
  upserts: number;
  /** when set, the next upsert into the user embeddings says so and waits for `until` first */
  hold?: { entered: () => void; until: Promise<void> };
  /** when set, an upsert into the user embeddings fails with it instead of being sent */
  fail?: () => Promise<never>;
  /** when set, a version read of the user embeddings waits for it first */
  beforeRead?: () => Promise<void>;
  /** when each read of the owner epochs was sent, and each version read */
  epochReadsAt: number[];
  versionReadsAt: number[];
};

async function instance(projector: string) {
  const client = await connectMilvus(env('MILVUS_ADDRESS'));
  clients.push(client);
  const requests: Requests = { upserts: 0, epochReadsAt: [], versionReadsAt: [] };
  const [upsert, query] = [client.upsert.bind(client), client.query.bind(client)];
  client.upsert = async (request) => {
    if (request.collection_name === users) {
      const { hold, fail } = requests;
      requests.hold = undefined;
      if (fail) return fail();
      if (hold) {
        hold.entered();
        await hold.until;
      }
      requests.upserts++;
    }
    return upsert(request);
  };
  client.query = async (request) => {
    if (request.collection_name === ownerCollection(generation)) requests.epochReadsAt.push(Date.now());
    if (request.collection_name === users) {
      requests.versionReadsAt.push(Date.now());
      await requests.beforeRead?.();
    }
    return query(request);
  };
  return { sink: createMilvusSink({ client, generation, projector, writeLeaseMs: leaseMs }), requests };
}

/** Holds `requests`' next upsert into the user embeddings: `entered` once it waits, until `release`. */
function holdNextUpsert(requests: Requests) {
  let release = () => {};
  const until = new Promise<void>((resolve) => (release = resolve));
  const entered = new Promise<void>((resolve) => (requests.hold = { entered: resolve, until }));
  return { entered, release };
}

/** Partition `partition`'s change to user 7 at `offset` (its version too). */
function change(partition: number, offset: number): Change {
  const embedding = Array.from({ length: EMBEDDING_DIM }, (_, i) => (i === offset ? 1 : 0.01));
  return {
    kind: 'change', op: 'update', table: 'public.user_embeddings', key: { user_id: 7 + partition * 1000 }, before: null,
    after: { user_id: 7 + partition * 1000, embedding, model_version: `v${offset}`, updated_at: new Date(offset) },
    version: BigInt(offset), commitOrder: BigInt(offset), streamSince: 0, txId: offset, commitTs: new Date(0), position: { topic, partition, offset: String(offset) },
  };
}
const ops = (c: Change): StoreOp<MilvusOp>[] => mapChange(c).map((op) => ({ op, change: c }));
const checkpointAfter = (c: Change): Checkpoint[] => [{ topic, partition: c.position.partition, nextOffset: String(BigInt(c.position.offset) + 1n), commitOrder: c.commitOrder }];
const nothingRejected = async () => assert.fail('nothing is refused');

/** The version stored for partition's user, and the partition's checkpoint of `sink`'s projector. */
async function stored(partition: number, sink: Awaited<ReturnType<typeof instance>>['sink']) {
  const row = (await readRows(admin, generation, 'user_embeddings', { keys: [7 + partition * 1000] })).get(String(7 + partition * 1000));
  const checkpoint = (await sink.load()).find((c) => c.partition === partition);
  return { version: row?.version, nextOffset: checkpoint?.nextOffset };
}

describe('milvus owner epochs', () => {
  test('control, no claims: a previous holder\'s write landing after its successor\'s regresses the row (what the fence is for)', async () => {
    const [a, b] = [await instance('owners-control'), await instance('owners-control')];
    const held = holdNextUpsert(a.requests);
    const aApply = a.sink.apply(ops(change(0, 5)), checkpointAfter(change(0, 5)), nothingRejected);
    await held.entered; // A read the version and sent its write, which the network holds
    await b.sink.apply(ops(change(0, 7)), checkpointAfter(change(0, 7)), nothingRejected);
    held.release();
    await aApply;
    assert.deepEqual(await stored(0, b.sink), { version: 5n, nextOffset: '8' }, 'the older write won: the row went back from 7 to 5');
  });

  test('a takeover writes nothing until the previous holder\'s lease is over, so a write it still had in flight lands first and the newer one wins', async () => {
    const [a, b] = [await instance('owners-lease'), await instance('owners-lease')];
    await a.sink.claim?.([{ topic, partition: 1 }]);
    const held = holdNextUpsert(a.requests);
    const aApply = a.sink.apply(ops(change(1, 5)), checkpointAfter(change(1, 5)), nothingRejected).then(
      () => 'applied',
      (error: NovaError) => error.code,
    );
    await held.entered; // A checked its epoch, read the version and sent its write, which the network holds
    await b.sink.claim?.([{ topic, partition: 1 }]); // the rebalance: B is assigned partition 1
    // the network delivers B's first read only after A's held write is through (the order the lease makes sure of)
    b.requests.beforeRead = async () => void (await aApply);
    const bApply = b.sink.apply(ops(change(1, 7)), checkpointAfter(change(1, 7)), nothingRejected);
    held.release();
    await bApply;
    const aCheckedAt = a.requests.epochReadsAt.at(-1) as number;
    const bReadAt = b.requests.versionReadsAt[0] as number;
    assert.ok(bReadAt >= aCheckedAt + leaseMs, `B read versions ${bReadAt - aCheckedAt} ms after A's last epoch check, at least the lease (${leaseMs} ms) later`);
    assert.ok(['applied', 'NOVA_S1003'].includes(await aApply), 'A finished its write, or its lease ran out before its checkpoint');
    assert.deepEqual(await stored(1, b.sink), { version: 7n, nextOffset: '8' }, 'the newer change and B\'s checkpoint stand');
  });

  test('a previous holder retrying through an outage, deaf to its revocation, stops at its next attempt: its retry writes nothing', async () => {
    const [a, b] = [await instance('owners-retry'), await instance('owners-retry')];
    await a.sink.claim?.([{ topic, partition: 2 }]);
    // A's first upsert fails (the store went away after A read the version); meanwhile B is assigned the partition
    a.requests.fail = async () => {
      a.requests.fail = undefined;
      await b.sink.claim?.([{ topic, partition: 2 }]);
      throw Object.assign(new Error('14 UNAVAILABLE: connection refused'), { code: 14 });
    };
    const retrying = withRetry(a.sink, { initialMs: 1, maxMs: 2 }); // the runtime's retries, no revocation signal
    const outcome = await retrying.apply(ops(change(2, 5)), checkpointAfter(change(2, 5)), nothingRejected).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(outcome instanceof NovaError, `A's apply was refused: ${String(outcome)}`);
    assert.deepEqual([outcome.kind, outcome.code], ['stall', 'NOVA_S1006'], outcome.message);
    assert.equal(a.requests.upserts, 0, 'A wrote no row, before or after the fence');
    assert.equal((await stored(2, b.sink)).nextOffset, undefined, 'nor its checkpoint');
    await b.sink.apply(ops(change(2, 7)), checkpointAfter(change(2, 7)), nothingRejected);
    assert.deepEqual(await stored(2, b.sink), { version: 7n, nextOffset: '8' });
  });

  test('once an instance has claimed, a partition outside its claim is refused (fail closed), not written unfenced', async () => {
    const a = await instance('owners-closed');
    await a.sink.claim?.([{ topic, partition: 4 }]);
    const outcome = await a.sink.apply(ops(change(5, 5)), checkpointAfter(change(5, 5)), nothingRejected).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(outcome instanceof NovaError && outcome.code === 'NOVA_S1006' && /not in this instance's claim/.test(outcome.message), String(outcome));
    assert.equal(a.requests.upserts, 0);
  });

  test('an attempt that outlived its lease sends no write: it is refused as bounded (retried with a new check, then split)', async () => {
    const a = await instance('owners-slow');
    await a.sink.claim?.([{ topic, partition: 3 }]);
    a.requests.beforeRead = () => new Promise((resolve) => setTimeout(resolve, leaseMs + 50)); // a read slower than the lease
    const outcome = await a.sink.apply(ops(change(3, 5)), checkpointAfter(change(3, 5)), nothingRejected).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(outcome instanceof NovaError && outcome.kind === 'bounded' && /write lease ran out/.test(outcome.message), String(outcome));
    assert.equal(a.requests.upserts, 0);
    a.requests.beforeRead = undefined;
    await a.sink.apply(ops(change(3, 5)), checkpointAfter(change(3, 5)), nothingRejected);
    assert.deepEqual(await stored(3, a.sink), { version: 5n, nextOffset: '6' }, 'the next attempt, inside its lease, writes');
  });
});
