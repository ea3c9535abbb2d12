// Pure: each row is a hand-built Change and the MilvusOps it must become. No server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UNCHANGED, type Change, type Operation, type Row } from '../runtime/decode/index.ts';
import { mapChange, type MilvusOp } from './mapping/index.ts';

const at = new Date('2024-05-01T08:30:00.000Z');
const vector = [0.5, -0.25, 0];

// a version of epoch 3 (past 2^53: kept exact), committed at `commitOrder`
const v = (3n << 56n) | 1000n;
function change(table: string, op: Operation, key: Row | null, after: Row | null, version = v, commitOrder = v - 10n): Change {
  return { kind: 'change', op, table, key, before: null, after, version, commitOrder, streamSince: 0, txId: 7, commitTs: at, position: { topic: 't', partition: 0, offset: '5' } };
}
const order = { version: v, commitOrder: v - 10n };

const userRow = { user_id: 9, embedding: vector, model_version: 'v1', updated_at: at };
const postRow = { post_id: 21, embedding: vector, model_version: 'v2', updated_at: at };
const values = (model_version: string) => ({ embedding: vector, model_version, updated_at: at.getTime() });

const maps: [string, Change, MilvusOp[]][] = [
  ['user insert', change('public.user_embeddings', 'create', { user_id: 9 }, userRow), [{ kind: 'upsert', collection: 'user_embeddings', key: 9, ...order, values: values('v1') }]],
  ['user snapshot read: version 0, read at its commit order', change('public.user_embeddings', 'read', { user_id: 9 }, userRow, 0n, 50n), [{ kind: 'upsert', collection: 'user_embeddings', key: 9, version: 0n, commitOrder: 50n, values: values('v1') }]],
  [
    'user update that did not touch the vector keeps it UNCHANGED for the sink',
    change('public.user_embeddings', 'update', { user_id: 9 }, { ...userRow, embedding: UNCHANGED, model_version: 'v3' }),
    [{ kind: 'upsert', collection: 'user_embeddings', key: 9, ...order, values: { ...values('v3'), embedding: UNCHANGED } }],
  ],
  ['user delete (REPLICA IDENTITY DEFAULT: the key only)', change('public.user_embeddings', 'delete', { user_id: 9 }, null), [{ kind: 'delete', collection: 'user_embeddings', key: 9, ...order }]],
  ['user truncate', change('public.user_embeddings', 'truncate', null, null, 3000n, 2990n), [{ kind: 'truncate', collection: 'user_embeddings', version: 3000n, commitOrder: 2990n }]],
  ['post insert', change('public.post_embeddings', 'create', { post_id: 21 }, postRow), [{ kind: 'upsert', collection: 'post_embeddings', key: 21, ...order, values: values('v2') }]],
  [
    'a NaN or a short vector is passed on: the sink refuses it through the dead-letter topic',
    change('public.post_embeddings', 'update', { post_id: 21 }, { ...postRow, embedding: [NaN, 1] }),
    [{ kind: 'upsert', collection: 'post_embeddings', key: 21, ...order, values: { ...values('v2'), embedding: [NaN, 1] } }],
  ],
  ['post delete', change('public.post_embeddings', 'delete', { post_id: 21 }, null), [{ kind: 'delete', collection: 'post_embeddings', key: 21, ...order }]],
  ['post truncate', change('public.post_embeddings', 'truncate', null, null), [{ kind: 'truncate', collection: 'post_embeddings', ...order }]],
];

const refusals: [string, Change, RegExp][] = [
  ['a key no filter can carry exactly', change('public.user_embeddings', 'create', { user_id: 2 ** 53 + 2 }, userRow), /user_id key is not a safe integer/],
  ['a change keyed by the other table’s column', change('public.post_embeddings', 'create', { user_id: 9 }, postRow), /post_id key is not a safe integer/],
  ['an insert without its row', change('public.user_embeddings', 'create', { user_id: 9 }, null), /create without an after row/],
  ['a table this projector does not own', change('public.posts', 'create', { id: 1 }, { id: 1 }), /no mapping for public\.posts/],
];

describe('milvus mapping', () => {
  for (const [name, input, expected] of maps) test(name, () => assert.deepEqual(mapChange(input), expected));
  for (const [name, input, error] of refusals) test(`refuses ${name}`, () => assert.throws(() => mapChange(input), error));
});
