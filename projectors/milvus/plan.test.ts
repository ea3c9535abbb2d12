// Pure: the guards decide from what the generation holds; no server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reduceByKey } from '../runtime/batch/reduce.ts';
import { UNCHANGED, type Change } from '../runtime/decode/index.ts';
import type { StoreOp } from '../runtime/sink.ts';
import { EMBEDDING_DIM } from './collections.ts';
import { mapChange, type EmbeddingValues, type MilvusOp } from './mapping/index.ts';
import { needsStoredValues, planCollection, vectorProblem, type StoredState } from './plan.ts';

const vector = (value: number) => Array.from({ length: EMBEDDING_DIM }, () => value);
const position = (offset: number) => ({ topic: 't', partition: 0, offset: String(offset) });
const item = (op: MilvusOp): StoreOp<MilvusOp> => ({ op, change: { position: position(op.lsn) } as Change });
const upsert = (key: number, lsn: number, values: Partial<EmbeddingValues> = {}) =>
  item({ kind: 'upsert', collection: 'user_embeddings', key, lsn, values: { embedding: vector(0.5), model_version: 'v1', updated_at: 7, ...values } });
const remove = (key: number, lsn: number) => item({ kind: 'delete', collection: 'user_embeddings', key, lsn });
const truncate = (lsn: number) => item({ kind: 'truncate', collection: 'user_embeddings', lsn });
const empty = (): StoredState => ({ rows: new Map(), tombstones: new Map(), truncatedAt: null });
const row = (key: number, lsn: number) => ({ key, lsn, embedding: vector(0.5), model_version: 'v1', updated_at: 7 });

describe('milvus plan', () => {
  test('an empty generation takes every op', () => {
    assert.deepEqual(planCollection([upsert(1, 10), remove(2, 11)], empty()), { truncateBefore: null, deletes: [{ key: 2, lsn: 11 }], upserts: [row(1, 10)], rejected: [] });
  });

  test('an op no newer than the live row, its tombstone or the last truncate is skipped', () => {
    const stored: StoredState = { rows: new Map([[1, { lsn: 10 }]]), tombstones: new Map([[2, 20]]), truncatedAt: 30 };
    const plan = planCollection([upsert(1, 10), upsert(2, 19), remove(1, 25), upsert(3, 30), upsert(4, 31)], stored);
    assert.deepEqual(plan, { truncateBefore: null, deletes: [], upserts: [row(4, 31)], rejected: [] });
  });

  test('an insert newer than a tombstone brings the key back', () => {
    const plan = planCollection([upsert(2, 21)], { ...empty(), tombstones: new Map([[2, 20]]) });
    assert.deepEqual(plan.upserts, [row(2, 21)]);
  });

  test('a truncate in the batch skips older ops of any key, and runs once', () => {
    const plan = planCollection([upsert(1, 10), truncate(40), upsert(2, 41)], empty());
    assert.deepEqual(plan, { truncateBefore: 40, deletes: [], upserts: [row(2, 41)], rejected: [] });
    assert.equal(planCollection([truncate(40)], { ...empty(), truncatedAt: 40 }).truncateBefore, null, 'remembered: it ran');
  });

  test('UNCHANGED columns are taken from the stored row', () => {
    const stored: StoredState = { ...empty(), rows: new Map([[1, { lsn: 10, embedding: vector(0.25), model_version: 'old' }]]) };
    const plan = planCollection([upsert(1, 11, { embedding: UNCHANGED, model_version: 'v2' })], stored);
    assert.deepEqual(plan.upserts, [{ ...row(1, 11), embedding: vector(0.25), model_version: 'v2' }]);
    assert.equal(needsStoredValues([upsert(1, 11, { model_version: UNCHANGED })]), true);
    assert.equal(needsStoredValues([upsert(1, 11), remove(2, 3)]), false);
  });

  test('an UNCHANGED vector with no stored row is refused with the rebuild it needs', () => {
    const plan = planCollection([upsert(1, 11, { embedding: UNCHANGED })], empty());
    assert.deepEqual(plan.upserts, []);
    assert.match(plan.rejected[0]?.reason ?? '', /embedding was not sent .* rebuild the generation/);
  });

  test('an insert and an update that did not send the vector, in one batch: the runtime carries the vector forward, nothing is refused', () => {
    const change = (op: Change['op'], lsn: number, embedding: unknown, model_version: string) =>
      ({ kind: 'change', op, table: 'public.user_embeddings', key: { user_id: 5 }, before: null, after: { user_id: 5, embedding, model_version, updated_at: new Date(lsn) }, lsn, txId: lsn, commitTs: new Date(0), position: position(lsn) }) as Change;
    const batch = reduceByKey([change('create', 50, vector(0.25), 'v1'), change('update', 51, UNCHANGED, 'v2')]);
    const plan = planCollection(batch.flatMap((c) => mapChange(c).map((op) => ({ op, change: c }))), empty());
    assert.deepEqual(plan, { truncateBefore: null, deletes: [], upserts: [{ key: 5, lsn: 51, embedding: vector(0.25), model_version: 'v2', updated_at: 51 }], rejected: [] });
  });

  test('vectors Milvus cannot hold are refused, each with its own position; the rest applies', () => {
    const nan = vector(0.5);
    nan[3] = NaN;
    const plan = planCollection([upsert(1, 11, { embedding: nan }), upsert(2, 12, { embedding: [1, 2] }), upsert(3, 13, { model_version: 'x'.repeat(201) }), upsert(4, 14)], empty());
    assert.deepEqual(plan.upserts, [row(4, 14)]);
    assert.deepEqual(plan.rejected.map((r) => r.position.offset), ['11', '12', '13']);
    assert.match(plan.rejected[0]?.reason ?? '', /embedding\[3\] is NaN/);
    assert.match(plan.rejected[1]?.reason ?? '', /2 dimensions, the collection holds 256/);
  });

  test('vectorProblem: nulls, infinities and values beyond float32', () => {
    const withNull: Array<number | null> = vector(1);
    withNull[0] = null;
    const huge = vector(1);
    huge[5] = 1e39;
    assert.match(vectorProblem(withNull) ?? '', /embedding\[0\] is null/);
    assert.match(vectorProblem(huge) ?? '', /embedding\[5\]/);
    assert.equal(vectorProblem(vector(-3.5)), undefined);
  });
});
