// Pure: each row is a hand-built Change and the graph ops it must become. No server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UNCHANGED, type Change, type Operation, type Row } from '../runtime/decode/index.ts';
import { mapToGraph, type GraphOp } from './mapping/index.ts';

const at = new Date('2024-01-01T00:00:00.999Z'); // epoch seconds 1704067200
const seconds = 1704067200;
// a change of source epoch 3: past 2^53, so only a bigint holds it exactly
const epoch3 = (position: bigint) => (3n << 56n) | position;

function change(table: string, op: Operation, before: Row | null, after: Row | null, version = 1000n, commitOrder = 900n): Change {
  const id = (after ?? before)?.['id'];
  return {
    kind: 'change', op, table, key: op === 'truncate' ? null : { id }, before, after, version, commitOrder, streamSince: 0, txId: 7, commitTs: at,
    position: { topic: 't', partition: 0, offset: '5' },
  };
}

const user = { id: 9, username: 'linus', avatar_url: 'https://a/9.png', bio: null, created_at: at };
const userProps = { username: 'linus', avatar_url: 'https://a/9.png', bio: null, created_at: seconds };
const follow = { id: 31, follower_id: 9, followee_id: 12, status: 'active', created_at: at };
const edge = { created_at: seconds };
const ordered = { version: 1000n, commitOrder: 900n };

const maps: [string, Change, GraphOp[]][] = [
  ['user insert', change('public.users', 'create', null, user), [{ kind: 'user', id: 9, user: userProps, ...ordered }]],
  ['user snapshot read: version 0, read at its commit order', change('public.users', 'read', null, user, 0n, 50n), [{ kind: 'user', id: 9, user: userProps, version: 0n, commitOrder: 50n }]],
  [
    'user update with a null created_at',
    change('public.users', 'update', user, { ...user, bio: '你好 🎉', created_at: null }),
    [{ kind: 'user', id: 9, user: { ...userProps, bio: '你好 🎉', created_at: null }, ...ordered }],
  ],
  [
    'a version and commit order of epoch 3, exactly',
    change('public.users', 'update', user, user, epoch3(2001n), epoch3(2000n)),
    [{ kind: 'user', id: 9, user: userProps, version: epoch3(2001n), commitOrder: epoch3(2000n) }],
  ],
  ['user delete', change('public.users', 'delete', user, null, 2000n, 1990n), [{ kind: 'user', id: 9, user: null, version: 2000n, commitOrder: 1990n }]],
  ['users truncate', change('public.users', 'truncate', null, null, 3000n, 2990n), [{ kind: 'truncate', table: 'users', version: 3000n, commitOrder: 2990n }]],
  ['active follow insert', change('public.follows', 'create', null, follow), [{ kind: 'follows', follower: 9, followee: 12, edge, ...ordered }]],
  ['follow snapshot read', change('public.follows', 'read', null, follow, 0n, 0n), [{ kind: 'follows', follower: 9, followee: 12, edge, version: 0n, commitOrder: 0n }]],
  ['blocked follow insert: no FOLLOWS', change('public.follows', 'create', null, { ...follow, status: 'blocked' }), [{ kind: 'follows', follower: 9, followee: 12, edge: null, ...ordered }]],
  ['NULL status: no FOLLOWS', change('public.follows', 'create', null, { ...follow, status: null }), [{ kind: 'follows', follower: 9, followee: 12, edge: null, ...ordered }]],
  ['active -> muted removes FOLLOWS', change('public.follows', 'update', follow, { ...follow, status: 'muted' }), [{ kind: 'follows', follower: 9, followee: 12, edge: null, ...ordered }]],
  ['blocked -> active restores FOLLOWS', change('public.follows', 'update', { ...follow, status: 'blocked' }, follow), [{ kind: 'follows', follower: 9, followee: 12, edge, ...ordered }]],
  [
    'an update moving the row to another pair ends the old pair',
    change('public.follows', 'update', follow, { ...follow, followee_id: 13 }),
    [
      { kind: 'follows', follower: 9, followee: 12, edge: null, ...ordered },
      { kind: 'follows', follower: 9, followee: 13, edge, ...ordered },
    ],
  ],
  ['follow delete', change('public.follows', 'delete', follow, null, 2000n, 1990n), [{ kind: 'follows', follower: 9, followee: 12, edge: null, version: 2000n, commitOrder: 1990n }]],
  ['follows truncate', change('public.follows', 'truncate', null, null, 3000n, 2990n), [{ kind: 'truncate', table: 'follows', version: 3000n, commitOrder: 2990n }]],
];

const refusals: [string, Change, RegExp][] = [
  ['unchanged user bio', change('public.users', 'update', null, { ...user, bio: UNCHANGED }), /public\.users\.bio: unchanged/],
  ['unchanged follow status', change('public.follows', 'update', follow, { ...follow, status: UNCHANGED }), /public\.follows\.status: unchanged/],
  ['follow delete without before', { ...change('public.follows', 'delete', null, null), key: { id: 31 } }, /REPLICA IDENTITY FULL/],
  ['a table this projector does not own', change('public.posts', 'create', null, { id: 1 }), /no mapping for public\.posts/],
];

describe('neo4j mapping', () => {
  for (const [name, input, expected] of maps) test(name, () => assert.deepEqual(mapToGraph(input), expected));
  for (const [name, input, error] of refusals) test(`refuses ${name}`, () => assert.throws(() => mapToGraph(input), error));
});
