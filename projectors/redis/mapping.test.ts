// Pure: each row is a hand-built Change and the Redis ops it must become, commands written out
// by hand. No server. The two JSON values are held to the goldens in test/golden.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Change, Operation, Row } from '../runtime/decode/index.ts';
import type { RedisCommand, RedisOp } from './commands.ts';
import { mapToRedis } from './mapping/index.ts';
import { tagOf } from './reader-keys.ts';
import { goldenNotificationAfter, goldenNotificationItem, goldenStreamAfter, goldenStreamMeta, goldenStreamStart } from './test/golden.ts';

function change(table: string, op: Operation, before: Row | null, after: Row | null, key: Row | null = { id: (after ?? before)?.['id'] }, version = 1000n, commitOrder = 900n): Change {
  return {
    kind: 'change', op, table, key: op === 'truncate' ? null : key, before, after, version, commitOrder, streamSince: 0, txId: 7, commitTs: new Date(0),
    position: { topic: 't', partition: 0, offset: '5' },
  };
}
/** One op on one tag's keys (mapping/row.ts op). */
const on = (tag: string, table: string, id: string, holds: boolean, commands: RedisCommand[], version = 1000n, commitOrder = 900n): RedisOp => ({ kind: 'row', tag, table, id, version, commitOrder, holds, commands });
const truncateOf = (table: string) => change(table, 'truncate', null, null, null, 3000n, 2990n);
const truncated = (table: string, families: string[], recomputeConversations = false): RedisOp[] => [
  { kind: 'truncate', table, version: 3000n, commitOrder: 2990n, families: [...families, `nova:rows:${table}:`], recomputeConversations },
];

const n = 'public.notifications';
const notification = goldenNotificationAfter;
const read = { ...notification, is_read: true, read_at: new Date('2024-03-05T07:00:00Z') };
const readItem = goldenNotificationItem.replace('"is_read":false', '"is_read":true').replace('"read_at":null', '"read_at":"2024-03-05T07:00:00.000Z"');
const derivedOf = (user: number): RedisCommand[] => [
  { cmd: 'COUNT', key: `notification:unread:{${user}}`, set: `nova:notification:unread-ids:{${user}}` },
  {
    cmd: 'RECENT', key: `notification:recent:{${user}}`, index: `nova:notification:index:{${user}}`, items: `nova:notification:items:{${user}}`,
    unread: `nova:notification:unread-ids:{${user}}`, rows: `nova:rows:public.notifications:{${user}}`, limit: 50, keep: 100,
  },
];
const putOf = (user: number, unread: boolean, item: string): RedisCommand[] => [
  { cmd: unread ? 'SADD' : 'SREM', key: `nova:notification:unread-ids:{${user}}`, member: '-41' },
  { cmd: 'ZADD', key: `nova:notification:index:{${user}}`, score: -41, member: '-41' },
  { cmd: 'HSET', key: `nova:notification:items:{${user}}`, member: '-41', value: item },
  ...derivedOf(user),
];
const removeOf = (user: number): RedisCommand[] => [
  { cmd: 'SREM', key: `nova:notification:unread-ids:{${user}}`, member: '-41' },
  { cmd: 'ZREM', key: `nova:notification:index:{${user}}`, member: '-41' },
  { cmd: 'HDEL', key: `nova:notification:items:{${user}}`, member: '-41' },
  ...derivedOf(user),
];
const notificationCases: [string, Change, RedisOp[]][] = [
  ['an unread notification: on its user\'s slot, in the unread set, indexed by id, its item the golden JSON', change(n, 'create', null, notification), [on('-7', n, '-41', true, putOf(-7, true, goldenNotificationItem))]],
  ['a snapshot read: version 0', change(n, 'read', null, notification, { id: -41 }, 0n, 0n), [on('-7', n, '-41', true, putOf(-7, true, goldenNotificationItem), 0n, 0n)]],
  ['marked read: out of the unread set, its item rewritten', change(n, 'update', notification, read), [on('-7', n, '-41', true, putOf(-7, false, readItem))]],
  [
    'moved to another user: one op leaves the first user\'s slot (not held there), one enters the second\'s',
    change(n, 'update', notification, { ...notification, user_id: -8 }),
    [on('-7', n, '-41', false, removeOf(-7)), on('-8', n, '-41', true, putOf(-8, true, goldenNotificationItem))],
  ],
  ['deleted: out of every structure of its user, no longer held', change(n, 'delete', notification, null), [on('-7', n, '-41', false, removeOf(-7))]],
  ['truncated', truncateOf(n), truncated(n, ['notification:unread:', 'notification:recent:', 'nova:notification:'])],
];

const f = 'public.follows';
const follow = { id: 31, follower_id: 1, followee_id: 2, status: 'active', created_at: new Date(0) };
/** A follow row's mark on one side: the follower's slot ('out') or the followee's ('in'). */
const mark = (side: 'out' | 'in', follower: number, followee: number, active: boolean): RedisCommand[] => {
  const [owner, other] = side === 'out' ? [follower, followee] : [followee, follower];
  const rows = `nova:follows:${side}:{${owner}}:${other}`;
  return [
    { cmd: active ? 'SADD' : 'SREM', key: rows, member: '31' },
    { cmd: 'EDGE', rows, edge: `${side === 'out' ? 'user:following' : 'user:followers'}:{${owner}}`, member: String(other) },
  ];
};
const followCases: [string, Change, RedisOp[]][] = [
  [
    'an active follow: an active row of its pair on both users\' slots',
    change(f, 'create', null, follow),
    [on('1', f, '31:out', true, mark('out', 1, 2, true)), on('2', f, '31:in', true, mark('in', 1, 2, true))],
  ],
  [
    'a blocked follow: not an active row, not held',
    change(f, 'create', null, { ...follow, status: 'blocked' }),
    [on('1', f, '31:out', false, mark('out', 1, 2, false)), on('2', f, '31:in', false, mark('in', 1, 2, false))],
  ],
  [
    'active -> muted: the old side is let go, the new one is not active',
    change(f, 'update', follow, { ...follow, status: 'muted' }),
    [on('1', f, '31:out', false, [...mark('out', 1, 2, false), ...mark('out', 1, 2, false)]), on('2', f, '31:in', false, [...mark('in', 1, 2, false), ...mark('in', 1, 2, false)])],
  ],
  [
    'moved to another followee: the old pair loses the row, the new pair gains it, each on its owner\'s slot',
    change(f, 'update', follow, { ...follow, followee_id: 3 }),
    [
      on('1', f, '31:out', true, [...mark('out', 1, 2, false), ...mark('out', 1, 3, true)]),
      on('2', f, '31:in', false, mark('in', 1, 2, false)),
      on('3', f, '31:in', true, mark('in', 1, 3, true)),
    ],
  ],
  ['deleted', change(f, 'delete', follow, null), [on('1', f, '31:out', false, mark('out', 1, 2, false)), on('2', f, '31:in', false, mark('in', 1, 2, false))]],
  ['truncated', truncateOf(f), truncated(f, ['user:following:', 'user:followers:', 'nova:follows:'])],
];

const c = 'public.conversations';
const m = 'public.messages';
const r = 'public.message_read_status';
const conversation = { id: 5, participant1_id: 10, participant2_id: 11 };
const message = { id: 100, conversation_id: 5, sender_id: 10, content: 'hi', is_deleted: false };
const readStatus = { user_id: 11, conversation_id: 5, last_read_message_id: 100 };
const readKey = { user_id: 11, conversation_id: 5 };
const derive: RedisCommand = { cmd: 'CONVERSATION', conversation: '5' };
const conversationCases: [string, Change, RedisOp[]][] = [
  [
    'a conversation: its participants on its slot, then its counts derived',
    change(c, 'create', null, conversation),
    [on('5', c, '5', true, [{ cmd: 'SADD', key: 'nova:conversation:participants:{5}', member: '10' }, { cmd: 'SADD', key: 'nova:conversation:participants:{5}', member: '11' }, derive])],
  ],
  [
    'a conversation deleted: its participants and read marks go, and derived again (the participants\' views are published gone)',
    change(c, 'delete', conversation, null),
    [on('5', c, '5', false, [{ cmd: 'DEL', key: 'nova:conversation:participants:{5}' }, { cmd: 'DEL', key: 'nova:conversation:last-read:{5}' }, derive])],
  ],
  [
    'conversations truncated: everything they derive, on both kinds of slot',
    truncateOf(c),
    truncated(c, ['conversation:unread:', 'user:conversations:', 'nova:conversation:', 'nova:user:conversation-seqs:', 'nova:rows:public.messages:', 'nova:rows:public.message_read_status:']),
  ],
  ['a message: among its sender\'s, scored by id, on the conversation\'s slot', change(m, 'create', null, message), [on('5', m, '100', true, [{ cmd: 'ZADD', key: 'nova:conversation:messages:{5}:10', score: 100, member: '100' }, derive])]],
  [
    'a message marked deleted: no longer counted, not held',
    change(m, 'update', message, { ...message, is_deleted: true }),
    [on('5', m, '100', false, [{ cmd: 'ZREM', key: 'nova:conversation:messages:{5}:10', member: '100' }, derive])],
  ],
  ['a message deleted', change(m, 'delete', message, null), [on('5', m, '100', false, [{ cmd: 'ZREM', key: 'nova:conversation:messages:{5}:10', member: '100' }, derive])]],
  ['messages truncated: every conversation derived again', truncateOf(m), truncated(m, ['nova:conversation:messages:'], true)],
  [
    'a read status: the reader\'s last read id (the row id is the composite key)',
    change(r, 'create', null, readStatus, readKey),
    [on('5', r, '11:5', true, [{ cmd: 'HSET', key: 'nova:conversation:last-read:{5}', member: '11', value: '100' }, derive])],
  ],
  [
    'a read status deleted (REPLICA IDENTITY DEFAULT: before holds the key only)',
    change(r, 'delete', { user_id: 11, conversation_id: 5, last_read_message_id: null }, null, readKey),
    [on('5', r, '11:5', false, [{ cmd: 'HDEL', key: 'nova:conversation:last-read:{5}', member: '11' }, derive])],
  ],
  ['read statuses truncated', truncateOf(r), truncated(r, ['nova:conversation:last-read:'], true)],
];

const s = 'public.live_streams';
const stream = goldenStreamAfter;
const meta = (value: string): RedisCommand[] => [{ cmd: 'SET', key: 'stream:meta:{-42}', value }];
const streamCases: [string, Change, RedisOp[]][] = [
  [
    'a live stream: its metadata the golden JSON on its own slot, scored by its start in the one live set',
    change(s, 'create', null, stream),
    [on('-42', s, '-42', true, meta(goldenStreamMeta)), on('stream:live', s, '-42', true, [{ cmd: 'ZADD', key: '{stream:live}', score: goldenStreamStart, member: '-42' }])],
  ],
  [
    'live without a start: score 0',
    change(s, 'update', stream, { ...stream, started_at: null }),
    [
      on('-42', s, '-42', true, meta(goldenStreamMeta.replace('"started_at":"2024-03-05T06:00:00.999Z"', '"started_at":null'))),
      on('stream:live', s, '-42', true, [{ cmd: 'ZADD', key: '{stream:live}', score: 0, member: '-42' }]),
    ],
  ],
  [
    'ended: out of the live set (not held there), metadata kept',
    change(s, 'update', stream, { ...stream, status: 'ended' }),
    [on('-42', s, '-42', true, meta(goldenStreamMeta.replace('"status":"live"', '"status":"ended"'))), on('stream:live', s, '-42', false, [{ cmd: 'ZREM', key: '{stream:live}', member: '-42' }])],
  ],
  [
    'deleted',
    change(s, 'delete', stream, null),
    [on('-42', s, '-42', false, [{ cmd: 'DEL', key: 'stream:meta:{-42}' }]), on('stream:live', s, '-42', false, [{ cmd: 'ZREM', key: '{stream:live}', member: '-42' }])],
  ],
  ['truncated', truncateOf(s), truncated(s, ['{stream:live}', 'stream:meta:'])],
];

const tables: [string, [string, Change, RedisOp[]][]][] = [
  ['notifications', notificationCases],
  ['follows', followCases],
  ['conversations, messages, message_read_status', conversationCases],
  ['live_streams', streamCases],
];

for (const [table, cases] of tables) {
  describe(`redis mapping: ${table}`, () => {
    for (const [name, input, expected] of cases) test(name, () => assert.deepEqual(mapToRedis(input), expected));
  });
}

// apply.lua runs one script per tag: a key of another tag would work on one node (breaking the
// per-slot argument silently) and be refused on a cluster. Every key of every op carries its tag.
test('every key an op touches carries the op\'s hash tag', () => {
  const keyFields = ['key', 'index', 'items', 'unread', 'rows', 'edge', 'set'] as const;
  for (const [, cases] of tables) {
    for (const [name, input] of cases) {
      for (const op of mapToRedis(input)) {
        if (op.kind !== 'row') continue;
        for (const command of op.commands) {
          if (command.cmd === 'CONVERSATION') assert.equal(command.conversation, op.tag, name);
          for (const field of keyFields) {
            const key = (command as Record<string, unknown>)[field];
            if (typeof key === 'string') assert.equal(tagOf(key), op.tag, `${name}: ${command.cmd} ${field} ${key}`);
          }
        }
      }
    }
  }
});

test('refuses a table this projector does not own', () => assert.throws(() => mapToRedis(change('public.posts', 'create', null, { id: 1 })), /no mapping for public\.posts/));
