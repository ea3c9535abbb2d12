import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UNCHANGED, type Change } from '../decode/index.ts';
import { reduceByKey } from './reduce.ts';

let offset = 0;
const change = (op: Change['op'], id: number | null, lsn: number, after: Record<string, unknown> | null, before: Record<string, unknown> | null = null): Change =>
  ({
    kind: 'change',
    op,
    table: 'public.t',
    key: id === null ? null : { id },
    before,
    after,
    version: BigInt(lsn),
    commitOrder: BigInt(lsn),
    streamSince: 0,
    txId: null,
    commitTs: new Date(0),
    position: { topic: 't', partition: 0, offset: String(offset++) },
  }) as unknown as Change;

test('keeps the newest change per key, in first-seen order; a truncate is never merged', () => {
  const [a1, b1, a2, t, b2] = [change('create', 1, 10, { v: 1 }), change('create', 2, 11, { v: 1 }), change('update', 1, 12, { v: 2 }), change('truncate', null, 13, null), change('delete', 2, 14, null)];
  assert.deepEqual(reduceByKey([a1, b1, a2, t, b2]), [a2, t, b2]);
});

test('an older version never replaces a newer one', () => {
  const [newer, older] = [change('update', 1, 20, { v: 2 }), change('update', 1, 19, { v: 1 })];
  assert.deepEqual(reduceByKey([newer, older]), [newer]);
});

test('a value the newest change left UNCHANGED is taken from an older change of the batch', () => {
  const insert = change('create', 1, 30, { v: 1, blob: 'big' });
  const touch = change('update', 1, 31, { v: 2, blob: UNCHANGED });
  const [reduced] = reduceByKey([insert, touch]);
  assert.deepEqual(reduced?.after, { v: 2, blob: 'big' });
  assert.equal(reduced?.version, 31n);
  // nothing older in the batch knows it: it stays UNCHANGED for the store to keep its own
  const [alone] = reduceByKey([change('update', 1, 32, { v: 3, blob: UNCHANGED })]);
  assert.equal(alone?.after?.['blob'], UNCHANGED);
});
