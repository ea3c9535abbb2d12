// What the Milvus sink does beyond the shared contract, against the real server, in a generation
// of its own: tombstones, truncates, versions past 2^53, UNCHANGED vectors, records Milvus cannot
// hold, a released collection, and the errors of a request past its deadline and of an
// unreachable server.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { env } from '../../scripts/stack.d/test/stack.ts';
import { UNCHANGED, type Change, type Operation } from '../runtime/decode/index.ts';
import { NovaError } from '../runtime/errors.ts';
import type { Checkpoint, Rejected, StoreOp } from '../runtime/sink.ts';
import { EMBEDDING_DIM, collectionName, connectMilvus, createMilvusSink, dropGeneration, ensureGeneration, milvusProjector, type MilvusOp } from './index.ts';
import { mapChange } from './mapping/index.ts';
import { call } from './milvus-call.ts';
import { readGeneration, readRows } from './test/oracle.ts';

const generation = randomInt(100_000, 1_000_000);
const client = await connectMilvus(env('MILVUS_ADDRESS'));
const sink = createMilvusSink({ client, generation, projector: 'sink-test', writeLeaseMs: 5_000 });
const users = collectionName('user_embeddings', generation);

before(() => ensureGeneration(client, generation, { shadow: true }));
after(async () => {
  await dropGeneration(client, generation);
  await sink.close();
});

/** A vector pointing mostly along `axis`: cosine similarity singles it out. */
const towards = (axis: number): number[] => Array.from({ length: EMBEDDING_DIM }, (_, i) => (i === axis ? 1 : 0.01));

/** A change at `version` (epoch 0 when a number), committed in that order. */
function change(op: Operation, version: number | bigint, user_id: number | null, embedding: unknown = towards(user_id ?? 0), model_version: unknown = 'm1'): Change {
  const v = BigInt(version);
  const after = op === 'delete' || op === 'truncate' ? null : { user_id, embedding, model_version, updated_at: new Date(Number(v % 1_000_000n)) };
  return {
    kind: 'change', op, table: 'public.user_embeddings', key: user_id === null ? null : { user_id }, before: null, after, version: v, commitOrder: v, streamSince: 0, txId: 1, commitTs: new Date(0),
    position: { topic: 'nova.recommendation.user_embeddings', partition: Number(v % 32n), offset: String(v) },
  };
}

const ops = (...changes: Change[]): StoreOp<MilvusOp>[] => changes.flatMap((c) => mapChange(c).map((op) => ({ op, change: c })));
// the last change's own partition: checkpoints only move forward, and each test's offsets (its versions) start below the last test's
const checkpoint = (last: Change | undefined): Checkpoint[] => [{ topic: 'nova.recommendation.user_embeddings', partition: last?.position.partition ?? 0, nextOffset: last?.position.offset ?? '0', commitOrder: last?.commitOrder ?? null }];

/** Applies, returning what the sink rejected. */
async function apply(...changes: Change[]): Promise<Rejected[]> {
  const rejected: Rejected[] = [];
  await sink.apply(ops(...changes), checkpoint(changes.at(-1)), async (r) => void rejected.push(...r));
  return rejected;
}

const stored = async (...keys: number[]) => readRows(client, generation, 'user_embeddings', { keys });
const nearest = async (axis: number) =>
  (await client.search({ collection_name: users, data: [towards(axis)], limit: 3, output_fields: ['user_id'] })).results.map((hit) => Number(hit['user_id']));

describe('milvus sink', () => {
  test('a delete leaves a tombstone: an older insert replayed never brings the vector back, and search never finds it', async () => {
    await apply(change('create', 1000, 11));
    assert.deepEqual(await nearest(11), [11]);
    await apply(change('delete', 1010, 11));
    await apply(change('create', 1000, 11), change('update', 1005, 11));
    assert.equal((await stored(11)).size, 0);
    assert.ok(!(await nearest(11)).includes(11), 'the deleted vector is not searchable');
    await apply(change('create', 1020, 11, towards(12)));
    assert.equal((await stored(11)).get('11')?.version, 1020n, 'a newer insert brings the key back');
  });

  test('versions and commit orders past 2^53 round-trip exactly through a write and a query, and still guard', async () => {
    const high = (5n << 56n) | 4242n; // epoch 5
    await apply(change('create', high + 1n, 13));
    assert.equal((await stored(13)).get('13')?.version, high + 1n);
    // a float64 holds neither: high + 1n and high + 2n are the same number to it
    await apply(change('update', high + 2n, 13, towards(14)));
    await apply(change('update', high + 1n, 13, towards(15)));
    assert.deepEqual((await stored(13)).get('13')?.embedding, towards(14).map(Math.fround));
    assert.equal((await stored(13)).get('13')?.version, high + 2n);
    assert.ok((await sink.load()).some((c) => c.commitOrder === high + 1n), 'the checkpoint keeps it too');
  });

  test('a truncate removes every older row, blocks older changes from any partition, and keeps newer ones', async () => {
    await apply(change('create', 2000, 21), change('create', 2001, 22), change('create', 2050, 23));
    // 23 was written after the truncate (a partition that ran ahead); 24 and 25 arrive late from others
    const rejected = await apply(change('truncate', 2040, null), change('create', 2030, 24), change('update', 2045, 25));
    assert.deepEqual(rejected, []);
    assert.deepEqual([...(await stored(21, 22, 23, 24, 25)).keys()].sort(), ['23', '25']);
    await apply(change('update', 2010, 21), change('create', 2002, 26));
    assert.deepEqual([...(await stored(21, 26)).keys()], [], 'the truncate is remembered');
    const before = await readGeneration(client, generation);
    await apply(change('truncate', 2040, null));
    assert.deepEqual(await readGeneration(client, generation), before, 'replaying the truncate changes nothing');
  });

  test('an update that did not send the vector keeps the stored one; with none stored it is dead-lettered', async () => {
    await apply(change('create', 3000, 31, towards(31), 'm1'));
    assert.deepEqual(await apply(change('update', 3010, 31, UNCHANGED, 'm2')), []);
    const row = (await stored(31)).get('31');
    assert.equal(row?.model_version, 'm2');
    assert.deepEqual(row?.embedding, towards(31).map(Math.fround));
    const rejected = await apply(change('update', 3020, 32, UNCHANGED, 'm2'));
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]?.reason ?? '', /user_embeddings 32: embedding was not sent .* rebuild the generation/);
  });

  test('a NaN or a wrong dimension goes to onRejected; the rest of the batch and the checkpoint are written', async () => {
    const nan = towards(41);
    nan[7] = NaN;
    const rejected = await apply(change('create', 4000, 41, nan), change('create', 4001, 42, [1, 2, 3]), change('create', 4002, 43));
    assert.deepEqual(rejected.map((r) => r.position.offset), ['4000', '4001']);
    assert.match(rejected[0]?.reason ?? '', /embedding\[7\] is NaN/);
    assert.deepEqual([...(await stored(41, 42, 43)).keys()], ['43']);
    assert.ok((await sink.load()).some((c) => c.nextOffset === '4002' && c.commitOrder === 4002n));
  });

  test('a released collection (milvus-lite after a restart) is a transient error, and loaded again for the retry', async () => {
    await client.releaseCollection({ collection_name: users });
    await assert.rejects(apply(change('create', 5000, 51)), (error: unknown) => error instanceof NovaError && error.kind === 'transient');
    await apply(change('create', 5000, 51));
    assert.equal((await stored(51)).get('51')?.version, 5000n);
  });

  test('a request past its deadline is bounded: the runtime retries it, then splits the batch', async () => {
    // a deadline already past: gRPC ends the call with DEADLINE_EXCEEDED, whatever the server's speed
    const late = () => client.query({ collection_name: users, filter: 'user_id >= 0', output_fields: ['user_id'], timeout: -1 });
    await assert.rejects(call(client, 'a late query', late), (error: unknown) => error instanceof NovaError && error.kind === 'bounded' && error.code === 'NOVA_S1003');
  });

  test('tombstones below the horizon are collected; those above it, and the truncate\'s, still refuse older changes', async () => {
    await apply(change('create', 9000, 61), change('create', 9001, 62));
    await apply(change('delete', 9010, 61), change('delete', 9030, 62));
    const tombstoneIds = async () => {
      const { data } = await call(client, 'read tombstones', () => client.query({ collection_name: collectionName('embedding_tombstones', generation), filter: 'version >= 0', output_fields: ['id'] }));
      return data.map((row) => String(row['id'])).filter((id) => ['user_embeddings:61', 'user_embeddings:62', 'user_embeddings:*'].includes(id)).sort();
    };
    assert.deepEqual(await tombstoneIds(), ['user_embeddings:*', 'user_embeddings:61', 'user_embeddings:62']);
    const horizon = (topic: string) => (topic === 'nova.recommendation.user_embeddings' ? 9020n : 0n);
    const collected = await milvusProjector.collectTombstones?.({ generation, env: process.env, horizon });
    assert.ok((collected?.['user_embeddings tombstones'] ?? 0) >= 1, JSON.stringify(collected));
    assert.equal(collected?.['post_embeddings tombstones'], 0, 'the post embeddings\' horizon is 0: nothing of theirs goes');
    assert.deepEqual(await tombstoneIds(), ['user_embeddings:*', 'user_embeddings:62'], 'the delete at 9010 is forgotten; the one at 9030 and the truncate stay');
    await apply(change('create', 9025, 62));
    assert.equal((await stored(62)).size, 0, 'the kept tombstone still refuses an older insert');
  });

  test('an unreachable server is a transient error', async () => {
    await assert.rejects(connectMilvus('127.0.0.1:1'), (error: unknown) => error instanceof NovaError && error.kind === 'transient');
  });
});
