// Pure: each row is a hand-built Change and the ClickhouseOps it must become. No server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UNCHANGED, type Change, type Operation, type Row } from '../runtime/decode/index.ts';
import { mapChange, type ClickhouseOp } from './mapping/index.ts';

const at = new Date('2024-05-01T08:30:00.750Z');
const seconds = Math.floor(at.getTime() / 1000);

function change(op: Operation, before: Row | null, after: Row | null, version = 1000n, table = 'public.user_interactions', commitOrder = version - 100n): Change {
  const id = (after ?? before)?.['id'];
  return {
    kind: 'change', op, table, key: op === 'truncate' ? null : { id }, before, after, version, commitOrder, streamSince: 0, txId: 7, commitTs: at,
    position: { topic: 'nova.user.user_interactions', partition: 3, offset: '5' },
  };
}

const interaction = { id: 41, user_id: 9, target_type: 'post', target_id: 77, interaction_type: 'like', interaction_value: 0.5, metadata: { src: 'feed' }, created_at: at };
const event = { id: 41, user_id: 9, target_type: 'post', target_id: 77, interaction_type: 'like', interaction_value: 0.5, created_at: seconds, version: '1000', commit_order: '900', is_deleted: 0 };
type EventRow = Extract<ClickhouseOp, { kind: 'row' }>['row'];
const row = (values: Partial<Record<keyof typeof event, unknown>>): ClickhouseOp[] => [{ kind: 'row', table: 'user_behavior_events', row: { ...event, ...values } as EventRow }];
const tombstone = (id: number, version: string, commit_order: string): ClickhouseOp[] => [
  { kind: 'row', table: 'user_behavior_events', row: { id, user_id: 0, target_type: '', target_id: 0, interaction_type: '', interaction_value: null, created_at: null, version, commit_order, is_deleted: 1 } },
];
// epoch 5 (decode/version.ts): past 2^53, where a JSON number would round
const epoch5 = (5n << 56n) | 4242n;

const maps: [string, Change, ClickhouseOp[]][] = [
  ['insert', change('create', null, interaction), row({})],
  ['snapshot read: version 0, read at its commit order', change('read', null, interaction, 0n, undefined, 700n), row({ version: '0', commit_order: '700' })],
  ['initial snapshot read: version and commit order 0', change('read', null, interaction, 0n, undefined, 0n), row({ version: '0', commit_order: '0' })],
  ['update: the whole new row, a new version', change('update', null, { ...interaction, interaction_type: 'share', target_type: 'user' }, 2000n), row({ interaction_type: 'share', target_type: 'user', version: '2000', commit_order: '1900' })],
  ['versions and commit orders past 2^53 as exact decimal text', change('update', null, interaction, epoch5 + 1n, undefined, epoch5), row({ version: '360287970189643923', commit_order: '360287970189643922' })],
  ['update with metadata unchanged (TOAST): metadata is not projected', change('update', null, { ...interaction, metadata: UNCHANGED }), row({})],
  ['NULL interaction_value and created_at stay NULL', change('create', null, { ...interaction, interaction_value: null, created_at: null }), row({ interaction_value: null, created_at: null })],
  ['NaN and infinities in ClickHouse spelling', change('create', null, { ...interaction, interaction_value: Number.NaN }), row({ interaction_value: 'nan' })],
  ['-Infinity', change('create', null, { ...interaction, interaction_value: -Infinity }), row({ interaction_value: '-inf' })],
  ['created_at keeps whole seconds', change('create', null, { ...interaction, created_at: new Date('1970-01-01T00:00:00.999Z') }), row({ created_at: 0 })],
  ['the last second DateTime holds', change('create', null, { ...interaction, created_at: new Date(4_294_967_295_000) }), row({ created_at: 4_294_967_295 })],
  ['ids past 2^53 (decoded as bigint) go as decimal strings', change('create', null, { ...interaction, target_id: 2n ** 63n - 1n }), row({ target_id: '9223372036854775807' })],
  ['hostile text is data, untouched', change('create', null, { ...interaction, target_type: "'; DROP TABLE x; --\0", interaction_type: '你好 🎉' }), row({ target_type: "'; DROP TABLE x; --\0", interaction_type: '你好 🎉' })],
  ['delete: a tombstone from the key alone (REPLICA IDENTITY DEFAULT)', change('delete', { id: 41, user_id: 0, target_type: '', target_id: 0, interaction_type: '', interaction_value: null, metadata: null, created_at: null }, null, 3000n), tombstone(41, '3000', '2900')],
  ['delete without any before row', { ...change('delete', null, null, 3000n), key: { id: 41 } }, tombstone(41, '3000', '2900')],
  ['truncate: its commit order and version', change('truncate', null, null, 5000n), [{ kind: 'truncate', table: 'user_behavior_events', row: { version: '5000', commit_order: '4900', truncated_at: seconds } }]],
];

const refusals: [string, Change, RegExp][] = [
  ['a negative version', change('create', null, interaction, -1n), /version: -1 does not fit a UInt64/],
  ['a truncate with a negative commit order', change('truncate', null, null, 5n, undefined, -5n), /commit order: -5 does not fit a UInt64/],
  ['unchanged target_type', change('update', null, { ...interaction, target_type: UNCHANGED }), /target_type: unchanged TOASTed/],
  ['unchanged interaction_type', change('update', null, { ...interaction, interaction_type: UNCHANGED }), /interaction_type: unchanged TOASTed/],
  ['a negative target_id', change('create', null, { ...interaction, target_id: -5 }), /target_id: -5 does not fit a UInt64/],
  ['a created_at before 1970', change('create', null, { ...interaction, created_at: new Date('1969-12-31T23:59:59Z') }), /created_at: 1969-12-31T23:59:59.000Z is outside DateTime's range/],
  ['a created_at after 2106', change('create', null, { ...interaction, created_at: new Date('2200-01-01T00:00:00Z') }), /outside DateTime's range/],
  ['an invalid created_at', change('create', null, { ...interaction, created_at: new Date(Number.NaN) }), /created_at: an invalid date/],
  ['an insert without an after row', change('create', null, null), /create without an after row/],
  ['a delete without a key', { ...change('delete', interaction, null), key: null }, /id: undefined does not fit a UInt64/],
  ['a table this projector does not own', change('create', null, { id: 1 }, 1n, 'public.posts'), /no mapping for public\.posts/],
];

describe('clickhouse mapping', () => {
  for (const [name, input, expected] of maps) test(name, () => assert.deepEqual(mapChange(input), expected));
  for (const [name, input, error] of refusals) test(`refuses ${name}`, () => assert.throws(() => mapChange(input), error));
});
