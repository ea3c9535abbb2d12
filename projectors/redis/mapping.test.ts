// Pure: each row is a hand-built Change and the Redis ops it must become, commands written out
// by hand. No server. The two JSON values are held to the goldens in test/golden.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Change, Operation, Row } from '../runtime/decode/index.ts';
import type { RedisCommand, RedisOp } from './commands.ts';
import { mapToRedis } from './mapping/index.ts';
import { goldenNotificationAfter, goldenNotificationItem, goldenStreamAfter, goldenStreamMeta, goldenStreamStart } from './test/golden.ts';

function change(table: string, op: Operation, before: Row | null, after: Row | null, key: Row | null = { id: (after ?? before)?.['id'] }, version = 1000n, commitOrder = 900n): Change {
  return {
    kind: 'change', op, table, key: op === 'truncate' ? null : key, before, after, version, commitOrder, streamSince: 0, txId: 7, commitTs: new Date(0),
    position: { topic: 't', partition: 0, offset: '5' },
  };
}
const one = (table: string, id: string, commands: RedisCommand[], version = 1000n, commitOrder = 900n): RedisOp[] => [{ table, id, version, commitOrder, commands }];
const truncated = (table: string, commands: RedisCommand[]) => one(table, '', commands, 3000n, 2990n);
const truncateOf = (table: string) => change(table, 'truncate', null, null, null, 3000n, 2990n);

const n = 'public.notifications';
const notification = goldenNotificationAfter;
const read = { ...notification, is_read: true, read_at: new Date('2024-03-05T07:00:00Z') };
const readItem = goldenNotificationItem.replace('"is_read":false', '"is_read":true').replace('"read_at":null', '"read_at":"2024-03-05T07:00:00.000Z"');
const derivedOf = (user: number): RedisCommand[] => [
  { cmd: 'COUNT', key: `notification:unread:${user}`, set: `nova:notification:unread-ids:${user}` },
  { cmd: 'RECENT', key: `notification:recent:${user}`, index: `nova:notification:recent-index:${user}`, items: `nova:notification:recent-items:${user}`, limit: 50 },
];
const notificationCases: [string, Change, RedisOp[]][] = [
  [
    'an unread notification: in the unread set, indexed by id, its item the golden JSON',
    change(n, 'create', null, notification),
    one(n, '-41', [
      { cmd: 'SADD', key: 'nova:notification:unread-ids:-7', member: '-41' },
      { cmd: 'ZADD', key: 'nova:notification:recent-index:-7', score: -41, member: '-41' },
      { cmd: 'HSET', key: 'nova:notification:recent-items:-7', member: '-41', value: goldenNotificationItem },
      ...derivedOf(-7),
    ]),
  ],
  [
    'a snapshot read: version 0',
    change(n, 'read', null, notification, { id: -41 }, 0n, 0n),
    one(n, '-41', [
      { cmd: 'SADD', key: 'nova:notification:unread-ids:-7', member: '-41' },
      { cmd: 'ZADD', key: 'nova:notification:recent-index:-7', score: -41, member: '-41' },
      { cmd: 'HSET', key: 'nova:notification:recent-items:-7', member: '-41', value: goldenNotificationItem },
      ...derivedOf(-7),
    ], 0n, 0n),
  ],
  [
    'marked read: out of the unread set, its item rewritten',
    change(n, 'update', notification, read),
    one(n, '-41', [
      { cmd: 'SREM', key: 'nova:notification:unread-ids:-7', member: '-41' },
      { cmd: 'ZADD', key: 'nova:notification:recent-index:-7', score: -41, member: '-41' },
      { cmd: 'HSET', key: 'nova:notification:recent-items:-7', member: '-41', value: readItem },
      ...derivedOf(-7),
    ]),
  ],
  [
    'moved to another user: gone from the first, added to the second',
    change(n, 'update', notification, { ...notification, user_id: -8 }),
    one(n, '-41', [
      { cmd: 'SREM', key: 'nova:notification:unread-ids:-7', member: '-41' },
      { cmd: 'ZREM', key: 'nova:notification:recent-index:-7', member: '-41' },
      { cmd: 'HDEL', key: 'nova:notification:recent-items:-7', member: '-41' },
      ...derivedOf(-7),
      { cmd: 'SADD', key: 'nova:notification:unread-ids:-8', member: '-41' },
      { cmd: 'ZADD', key: 'nova:notification:recent-index:-8', score: -41, member: '-41' },
      { cmd: 'HSET', key: 'nova:notification:recent-items:-8', member: '-41', value: goldenNotificationItem },
      ...derivedOf(-8),
    ]),
  ],
  [
    'deleted: out of every structure of its user',
    change(n, 'delete', notification, null),
    one(n, '-41', [
      { cmd: 'SREM', key: 'nova:notification:unread-ids:-7', member: '-41' },
      { cmd: 'ZREM', key: 'nova:notification:recent-index:-7', member: '-41' },
      { cmd: 'HDEL', key: 'nova:notification:recent-items:-7', member: '-41' },
      ...derivedOf(-7),
    ]),
  ],
  ['truncated', truncateOf(n), truncated(n, [{ cmd: 'TRUNCATE', patterns: ['notification:unread:*', 'notification:recent:*', 'nova:notification:*'] }])],
];

const f = 'public.follows';
const follow = { id: 31, follower_id: 1, followee_id: 2, status: 'active', created_at: new Date(0) };
const edge = (follower: number, followee: number): RedisCommand => ({
  cmd: 'EDGE',
  rows: `nova:follows:active:${follower}:${followee}`,
  following: `user:following:${follower}`,
  followers: `user:followers:${followee}`,
  follower: String(follower),
  followee: String(followee),
});
const followCases: [string, Change, RedisOp[]][] = [
  ['an active follow: an active row of its pair', change(f, 'create', null, follow), one(f, '31', [{ cmd: 'SADD', key: 'nova:follows:active:1:2', member: '31' }, edge(1, 2)])],
  ['a blocked follow: not an active row', change(f, 'create', null, { ...follow, status: 'blocked' }), one(f, '31', [{ cmd: 'SREM', key: 'nova:follows:active:1:2', member: '31' }, edge(1, 2)])],
  [
    'active -> muted: the old side is let go, the new one is not active',
    change(f, 'update', follow, { ...follow, status: 'muted' }),
    one(f, '31', [{ cmd: 'SREM', key: 'nova:follows:active:1:2', member: '31' }, edge(1, 2), { cmd: 'SREM', key: 'nova:follows:active:1:2', member: '31' }, edge(1, 2)]),
  ],
  [
    'moved to another followee: the old pair loses the row, the new pair gains it',
    change(f, 'update', follow, { ...follow, followee_id: 3 }),
    one(f, '31', [{ cmd: 'SREM', key: 'nova:follows:active:1:2', member: '31' }, edge(1, 2), { cmd: 'SADD', key: 'nova:follows:active:1:3', member: '31' }, edge(1, 3)]),
  ],
  ['deleted', change(f, 'delete', follow, null), one(f, '31', [{ cmd: 'SREM', key: 'nova:follows:active:1:2', member: '31' }, edge(1, 2)])],
  ['truncated', truncateOf(f), truncated(f, [{ cmd: 'TRUNCATE', patterns: ['user:following:*', 'user:followers:*', 'nova:follows:*'] }])],
];

const c = 'public.conversations';
const m = 'public.messages';
const r = 'public.message_read_status';
const conversation = { id: 5, participant1_id: 10, participant2_id: 11 };
const message = { id: 100, conversation_id: 5, sender_id: 10, content: 'hi', is_deleted: false };
const readStatus = { user_id: 11, conversation_id: 5, last_read_message_id: 100 };
const readKey = { user_id: 11, conversation_id: 5 };
const conversationCases: [string, Change, RedisOp[]][] = [
  [
    'a conversation: its participants, then its counts derived',
    change(c, 'create', null, conversation),
    one(c, '5', [
      { cmd: 'SADD', key: 'nova:conversation:participants:5', member: '10' },
      { cmd: 'SADD', key: 'nova:conversation:participants:5', member: '11' },
      { cmd: 'CONVERSATION', conversation: '5' },
    ]),
  ],
  [
    'a conversation deleted: gone from both participants',
    change(c, 'delete', conversation, null),
    one(c, '5', [
      { cmd: 'DEL', key: 'nova:conversation:participants:5' },
      { cmd: 'DEL', key: 'nova:conversation:last-read:5' },
      { cmd: 'ZREM', key: 'user:conversations:10', member: '5' },
      { cmd: 'DEL', key: 'conversation:unread:10:5' },
      { cmd: 'ZREM', key: 'user:conversations:11', member: '5' },
      { cmd: 'DEL', key: 'conversation:unread:11:5' },
    ]),
  ],
  ['conversations truncated: everything they derive', truncateOf(c), truncated(c, [{ cmd: 'TRUNCATE', patterns: ['conversation:unread:*', 'user:conversations:*', 'nova:conversation:*'] }])],
  [
    'a message: among its sender\'s, scored by id',
    change(m, 'create', null, message),
    one(m, '100', [{ cmd: 'ZADD', key: 'nova:conversation:messages:5:10', score: 100, member: '100' }, { cmd: 'CONVERSATION', conversation: '5' }]),
  ],
  [
    'a message marked deleted: no longer counted',
    change(m, 'update', message, { ...message, is_deleted: true }),
    one(m, '100', [{ cmd: 'ZREM', key: 'nova:conversation:messages:5:10', member: '100' }, { cmd: 'CONVERSATION', conversation: '5' }]),
  ],
  [
    'a message deleted',
    change(m, 'delete', message, null),
    one(m, '100', [{ cmd: 'ZREM', key: 'nova:conversation:messages:5:10', member: '100' }, { cmd: 'CONVERSATION', conversation: '5' }]),
  ],
  ['messages truncated: every conversation derived again', truncateOf(m), truncated(m, [{ cmd: 'TRUNCATE', patterns: ['nova:conversation:messages:*'] }, { cmd: 'CONVERSATIONS' }])],
  [
    'a read status: the reader\'s last read id (the row id is the composite key)',
    change(r, 'create', null, readStatus, readKey),
    one(r, '11:5', [{ cmd: 'HSET', key: 'nova:conversation:last-read:5', member: '11', value: '100' }, { cmd: 'CONVERSATION', conversation: '5' }]),
  ],
  [
    'a read status deleted (REPLICA IDENTITY DEFAULT: before holds the key only)',
    change(r, 'delete', { user_id: 11, conversation_id: 5, last_read_message_id: null }, null, readKey),
    one(r, '11:5', [{ cmd: 'HDEL', key: 'nova:conversation:last-read:5', member: '11' }, { cmd: 'CONVERSATION', conversation: '5' }]),
  ],
  ['read statuses truncated', truncateOf(r), truncated(r, [{ cmd: 'TRUNCATE', patterns: ['nova:conversation:last-read:*'] }, { cmd: 'CONVERSATIONS' }])],
];

const s = 'public.live_streams';
const stream = goldenStreamAfter;
const streamCases: [string, Change, RedisOp[]][] = [
  [
    'a live stream: scored by its start, its metadata the golden JSON',
    change(s, 'create', null, stream),
    one(s, '-42', [{ cmd: 'ZADD', key: 'stream:live', score: goldenStreamStart, member: '-42' }, { cmd: 'SET', key: 'stream:meta:-42', value: goldenStreamMeta }]),
  ],
  [
    'live without a start: score 0',
    change(s, 'update', stream, { ...stream, started_at: null }),
    one(s, '-42', [
      { cmd: 'ZADD', key: 'stream:live', score: 0, member: '-42' },
      { cmd: 'SET', key: 'stream:meta:-42', value: goldenStreamMeta.replace('"started_at":"2024-03-05T06:00:00.999Z"', '"started_at":null') },
    ]),
  ],
  [
    'ended: out of the live set, metadata kept',
    change(s, 'update', stream, { ...stream, status: 'ended' }),
    one(s, '-42', [{ cmd: 'ZREM', key: 'stream:live', member: '-42' }, { cmd: 'SET', key: 'stream:meta:-42', value: goldenStreamMeta.replace('"status":"live"', '"status":"ended"') }]),
  ],
  ['deleted', change(s, 'delete', stream, null), one(s, '-42', [{ cmd: 'ZREM', key: 'stream:live', member: '-42' }, { cmd: 'DEL', key: 'stream:meta:-42' }])],
  ['truncated', truncateOf(s), truncated(s, [{ cmd: 'TRUNCATE', patterns: ['stream:live', 'stream:meta:*'] }])],
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

test('refuses a table this projector does not own', () => assert.throws(() => mapToRedis(change('public.posts', 'create', null, { id: 1 })), /no mapping for public\.posts/));
