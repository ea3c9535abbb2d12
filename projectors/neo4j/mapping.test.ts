// Pure: each row is a hand-built Change and the graph ops it must become. No server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UNCHANGED, type Change, type Operation, type Row } from '../runtime/decode/index.ts';
import { mapToGraph, type GraphOp } from './mapping/index.ts';

const at = new Date('2024-01-01T00:00:00.999Z'); // epoch seconds 1704067200
const seconds = 1704067200;

function change(table: string, op: Operation, before: Row | null, after: Row | null, lsn: number | null = 1000): Change {
  const id = (after ?? before)?.['id'];
  return {
    kind: 'change', op, table, key: op === 'truncate' ? null : { id }, before, after, lsn, txId: 7, commitTs: at,
    position: { topic: 't', partition: 0, offset: '5' },
  };
}

const user = { id: 9, username: 'linus', avatar_url: 'https://a/9.png', bio: null, created_at: at };
const userProps = { username: 'linus', avatar_url: 'https://a/9.png', bio: null, created_at: seconds };
const follow = { id: 31, follower_id: 9, followee_id: 12, status: 'active', created_at: at };
const edge = { created_at: seconds };

const maps: [string, Change, GraphOp[]][] = [
  ['user insert', change('public.users', 'create', null, user), [{ kind: 'user', id: 9, lsn: 1000, user: userProps }]],
  ['user snapshot read', change('public.users', 'read', null, user, 50), [{ kind: 'user', id: 9, lsn: 50, user: userProps }]],
  [
    'user update with a null created_at',
    change('public.users', 'update', user, { ...user, bio: '你好 🎉', created_at: null }),
    [{ kind: 'user', id: 9, lsn: 1000, user: { ...userProps, bio: '你好 🎉', created_at: null } }],
  ],
  ['user delete', change('public.users', 'delete', user, null, 2000), [{ kind: 'user', id: 9, lsn: 2000, user: null }]],
  ['users truncate', change('public.users', 'truncate', null, null, 3000), [{ kind: 'truncate', table: 'users', lsn: 3000 }]],
  ['active follow insert', change('public.follows', 'create', null, follow), [{ kind: 'follows', follower: 9, followee: 12, lsn: 1000, edge }]],
  ['follow snapshot read', change('public.follows', 'read', null, follow, 60), [{ kind: 'follows', follower: 9, followee: 12, lsn: 60, edge }]],
  ['blocked follow insert: no FOLLOWS', change('public.follows', 'create', null, { ...follow, status: 'blocked' }), [{ kind: 'follows', follower: 9, followee: 12, lsn: 1000, edge: null }]],
  ['NULL status: no FOLLOWS', change('public.follows', 'create', null, { ...follow, status: null }), [{ kind: 'follows', follower: 9, followee: 12, lsn: 1000, edge: null }]],
  [
    'active -> muted removes FOLLOWS',
    change('public.follows', 'update', follow, { ...follow, status: 'muted' }),
    [{ kind: 'follows', follower: 9, followee: 12, lsn: 1000, edge: null }],
  ],
  [
    'blocked -> active restores FOLLOWS',
    change('public.follows', 'update', { ...follow, status: 'blocked' }, follow),
    [{ kind: 'follows', follower: 9, followee: 12, lsn: 1000, edge }],
  ],
  [
    'an update moving the row to another pair ends the old pair',
    change('public.follows', 'update', follow, { ...follow, followee_id: 13 }),
    [
      { kind: 'follows', follower: 9, followee: 12, lsn: 1000, edge: null },
      { kind: 'follows', follower: 9, followee: 13, lsn: 1000, edge },
    ],
  ],
  ['follow delete', change('public.follows', 'delete', follow, null, 2000), [{ kind: 'follows', follower: 9, followee: 12, lsn: 2000, edge: null }]],
  ['follows truncate', change('public.follows', 'truncate', null, null, 3000), [{ kind: 'truncate', table: 'follows', lsn: 3000 }]],
];

const refusals: [string, Change, RegExp][] = [
  ['unchanged user bio', change('public.users', 'update', null, { ...user, bio: UNCHANGED }), /public\.users\.bio: unchanged/],
  ['unchanged follow status', change('public.follows', 'update', follow, { ...follow, status: UNCHANGED }), /public\.follows\.status: unchanged/],
  ['follow delete without before', { ...change('public.follows', 'delete', null, null), key: { id: 31 } }, /REPLICA IDENTITY FULL/],
  ['a change without an LSN', change('public.users', 'create', null, user, null), /without an LSN/],
  ['a truncate without an LSN', change('public.follows', 'truncate', null, null, null), /without an LSN/],
  ['a table this projector does not own', change('public.posts', 'create', null, { id: 1 }), /no mapping for public\.posts/],
];

describe('neo4j mapping', () => {
  for (const [name, input, expected] of maps) test(name, () => assert.deepEqual(mapToGraph(input), expected));
  for (const [name, input, error] of refusals) test(`refuses ${name}`, () => assert.throws(() => mapToGraph(input), error));
});
