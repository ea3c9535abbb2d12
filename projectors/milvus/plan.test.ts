// Pure: the guards decide from what the generation holds; no server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reduceByKey } from '../runtime/batch/reduce.ts';
import { UNCHANGED, type Change, type Ordered } from '../runtime/decode/index.ts';
import type { StoreOp } from '../runtime/sink.ts';
import { EMBEDDING_DIM } from './collections.ts';
import { mapChange, type EmbeddingValues, type MilvusOp } from './mapping/index.ts';
import { needsStoredValues, planCollection, vectorProblem, type CollectionPlan, type StoredState } from './plan.ts';

const vector = (value: number) => Array.from({ length: EMBEDDING_DIM }, () => value);
const position = (offset: bigint) => ({ topic: 't', partition: 0, offset: String(offset) });
const item = (op: MilvusOp): StoreOp<MilvusOp> => ({ op, change: { position: position(op.version) } as Change });
/** an order: `version`, committed at `commitOrder` (default: the version) */
const at = (version: bigint, commitOrder = version): Ordered => ({ version, commitOrder });
const upsert = (key: number, order: Ordered, values: Partial<EmbeddingValues> = {}) =>
  item({ kind: 'upsert', collection: 'user_embeddings', key, ...order, values: { embedding: vector(0.5), model_version: 'v1', updated_at: 7, ...values } });
const remove = (key: number, order: Ordered) => item({ kind: 'delete', collection: 'user_embeddings', key, ...order });
const truncate = (order: Ordered) => item({ kind: 'truncate', collection: 'user_embeddings', ...order });
const empty = (): StoredState => ({ rows: new Map(), tombstones: new Map(), truncate: null });
const row = (key: number, order: Ordered) => ({ key, ...order, embedding: vector(0.5), model_version: 'v1', updated_at: 7 });
const keys = (plan: CollectionPlan) => plan.upserts.map(({ key }) => key);

describe('milvus plan', () => {
  test('an empty generation takes every op', () => {
    assert.deepEqual(planCollection([upsert(1, at(10n)), remove(2, at(11n))], empty()), { truncate: null, deletes: [{ key: 2, ...at(11n) }], upserts: [row(1, at(10n))], rejected: [] });
  });

  test('an op no newer than the live row or its tombstone is skipped; a newer one applies', () => {
    const stored: StoredState = { ...empty(), rows: new Map([[1, at(10n)]]), tombstones: new Map([[2, at(20n)]]) };
    const plan = planCollection([upsert(1, at(10n)), upsert(2, at(19n)), remove(1, at(25n)), upsert(3, at(30n))], stored);
    assert.deepEqual(plan, { truncate: null, deletes: [{ key: 1, ...at(25n) }], upserts: [row(3, at(30n))], rejected: [] });
    assert.deepEqual(keys(planCollection([upsert(2, at(21n))], stored)), [2], 'an insert newer than a tombstone brings the key back');
  });

  test('a snapshot read (version 0) fills only a key with neither a live row nor a tombstone', () => {
    const stored: StoredState = { ...empty(), rows: new Map([[1, at(5n)], [3, at(0n, 40n)]]), tombstones: new Map([[2, at(6n)]]) };
    assert.deepEqual(keys(planCollection([upsert(1, at(0n)), upsert(2, at(0n, 900n)), upsert(3, at(0n, 50n)), upsert(4, at(0n, 60n))], stored)), [4]);
    assert.deepEqual(keys(planCollection([upsert(3, at(1n))], stored)), [3], 'any streamed change beats a read, whatever its LSN');
    assert.deepEqual(planCollection([upsert(5, at(0n)), upsert(5, at(3n))], empty()).upserts, [row(5, at(3n))], 'in one batch too');
  });

  test('versions past 2^53 compare exactly', () => {
    const high = 5n << 56n;
    const stored: StoredState = { ...empty(), rows: new Map([[1, at(high + 1n)]]) };
    assert.deepEqual(keys(planCollection([upsert(1, at(high + 1n))], stored)), []);
    assert.deepEqual(planCollection([upsert(1, at(high + 2n))], stored).upserts, [row(1, at(high + 2n))]);
  });

  test('a truncate skips what precedes it in commit order, of any key, read or streamed, and keeps what follows', () => {
    const T = at(510n, 500n);
    const before = [upsert(1, at(100n, 90n)), upsert(2, at(0n)), upsert(5, at(0n, 400n)), remove(8, at(505n, 499n))];
    const after = [upsert(3, at(520n, 505n)), upsert(4, at(0n, 600n)), upsert(6, at(530n, 500n))];
    const plan = planCollection([...after, ...before, truncate(T)], empty());
    assert.deepEqual(plan, { truncate: T, deletes: [], upserts: [row(3, at(520n, 505n)), row(4, at(0n, 600n)), row(6, at(530n, 500n))], rejected: [] });
    const remembered = planCollection([...before, truncate(T), ...after], { ...empty(), truncate: T });
    assert.deepEqual(remembered, { ...plan, truncate: null }, 'remembered: it ran, and still guards');
  });

  test('the newest truncate wins; one older than the remembered one does not run', () => {
    assert.deepEqual(planCollection([truncate(at(40n, 30n)), truncate(at(20n, 35n)), truncate(at(60n, 30n))], empty()).truncate, at(20n, 35n), 'commit order first');
    assert.equal(planCollection([truncate(at(40n))], { ...empty(), truncate: at(41n, 40n) }).truncate, null);
    assert.deepEqual(planCollection([truncate(at(42n, 40n))], { ...empty(), truncate: at(41n, 40n) }).truncate, at(42n, 40n));
  });

  test('a row or tombstone the truncate removed no longer stands for its key', () => {
    const stored: StoredState = { ...empty(), rows: new Map([[1, { ...at(100n), embedding: vector(0.25), model_version: 'old' }]]), tombstones: new Map([[2, at(200n)]]) };
    const plan = planCollection([truncate(at(300n)), upsert(2, at(0n, 400n)), upsert(1, at(310n), { embedding: UNCHANGED })], stored);
    assert.deepEqual(keys(plan), [2], 'a read after the truncate fills the key its tombstone held');
    assert.match(plan.rejected[0]?.reason ?? '', /embedding was not sent/, 'the removed row lends no vector');
  });

  test('UNCHANGED columns are taken from the stored row', () => {
    const stored: StoredState = { ...empty(), rows: new Map([[1, { ...at(10n), embedding: vector(0.25), model_version: 'old' }]]) };
    const plan = planCollection([upsert(1, at(11n), { embedding: UNCHANGED, model_version: 'v2' })], stored);
    assert.deepEqual(plan.upserts, [{ ...row(1, at(11n)), embedding: vector(0.25), model_version: 'v2' }]);
    assert.equal(needsStoredValues([upsert(1, at(11n), { model_version: UNCHANGED })]), true);
    assert.equal(needsStoredValues([upsert(1, at(11n)), remove(2, at(3n))]), false);
  });

  test('an UNCHANGED vector with no stored row is refused with the rebuild it needs', () => {
    const plan = planCollection([upsert(1, at(11n), { embedding: UNCHANGED })], empty());
    assert.deepEqual(plan.upserts, []);
    assert.match(plan.rejected[0]?.reason ?? '', /embedding was not sent .* rebuild the generation/);
  });

  test('an insert and an update that did not send the vector, in one batch: the runtime carries the vector forward, nothing is refused', () => {
    const change = (op: Change['op'], version: bigint, embedding: unknown, model_version: string): Change => ({
      kind: 'change', op, table: 'public.user_embeddings', key: { user_id: 5 }, before: null, after: { user_id: 5, embedding, model_version, updated_at: new Date(Number(version)) },
      version, commitOrder: version, streamSince: 0, txId: Number(version), commitTs: new Date(0), position: position(version),
    });
    const batch = reduceByKey([change('create', 50n, vector(0.25), 'v1'), change('update', 51n, UNCHANGED, 'v2')]);
    const plan = planCollection(batch.flatMap((c) => mapChange(c).map((op) => ({ op, change: c }))), empty());
    assert.deepEqual(plan, { truncate: null, deletes: [], upserts: [{ key: 5, ...at(51n), embedding: vector(0.25), model_version: 'v2', updated_at: 51 }], rejected: [] });
  });

  test('vectors Milvus cannot hold are refused, each with its own position; the rest applies', () => {
    const nan = vector(0.5);
    nan[3] = NaN;
    const plan = planCollection([upsert(1, at(11n), { embedding: nan }), upsert(2, at(12n), { embedding: [1, 2] }), upsert(3, at(13n), { model_version: 'x'.repeat(201) }), upsert(4, at(14n))], empty());
    assert.deepEqual(plan.upserts, [row(4, at(14n))]);
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
