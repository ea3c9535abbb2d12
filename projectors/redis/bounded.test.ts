// Bounded views on the real server: after a long history, what a user's notifications and a
// conversation keep does not grow with it (the bounds in mapping/notifications.ts and
// apply.lua's CONVERSATION), and what readers see is still what PostgreSQL would answer.
// `scripts/nova bench redis-memory` runs the same histories at 50,000 and prints the bytes.
import assert from 'node:assert/strict';
import { after, beforeEach, test } from 'node:test';
import type { Change, Row } from '../runtime/decode/index.ts';
import { redisTarget } from './client.ts';
import { RECENT_KEEP, RECENT_LIMIT } from './mapping/notifications.ts';
import { createRedisSink } from './sink.ts';
import { conversationHistory, feed, notificationHistory, retained } from './test/history.ts';
import { claimGeneration } from './test/own-generation.ts';

const own = await claimGeneration(process.env);
after(() => own.release());
beforeEach(() => own.reset());

async function applied(history: Iterable<Change>) {
  const sink = await createRedisSink({ target: redisTarget(process.env), generation: own.generation, projector: 'bounded-test' });
  try {
    await feed(sink, history);
  } finally {
    await sink.close();
  }
}

test('notifications: one user\'s keys hold the newest ones and every older unread one, whatever the history', async () => {
  const held = async () => (await retained(own.redis, own.key('*{7}*'))).members;
  await applied(notificationHistory({ users: 1, count: 500, firstUser: 7, readAfter: 20 }));
  const at500 = await held();
  await own.reset();
  await applied(notificationHistory({ users: 1, count: 3_000, firstUser: 7, readAfter: 20 }));
  const at3000 = await held();
  assert.equal(at3000, at500, 'six times the history, the same members held');
  // the index and items hold the newest RECENT_KEEP (the 20 unread among them); the list shows the newest RECENT_LIMIT
  assert.equal(await own.redis.zcard(own.key('nova:notification:index:{7}')), RECENT_KEEP);
  const recent = JSON.parse((await own.redis.get(own.keys.notificationsRecent(7))) as string) as Array<{ id: number; is_read: boolean }>;
  assert.deepEqual(recent.map((n) => n.id), Array.from({ length: RECENT_LIMIT }, (_, i) => 3_000 - i), 'the newest 50, newest first');
  assert.equal(await own.redis.get(own.keys.notificationsUnread(7)), '20');
});

test('a conversation read as it goes: its keys hold the newest few messages, whatever the history', async () => {
  const held = async () => (await retained(own.redis, own.key('*{1}*'))).members;
  await applied(conversationHistory({ count: 500, users: [1, 2] }));
  const at500 = await held();
  await own.reset();
  await applied(conversationHistory({ count: 3_000, users: [1, 2] }));
  assert.equal(await held(), at500, 'six times the history, the same members held');
  const messages = (await own.redis.zcard(own.key('nova:conversation:messages:{1}:1'))) + (await own.redis.zcard(own.key('nova:conversation:messages:{1}:2')));
  assert.ok(messages <= 8, `at most the newest 8 messages held, not ${messages}`);
  // what readers see: nothing unread for either, the conversation at its newest message
  assert.deepEqual([await own.redis.get(own.keys.conversationUnread(1, 1)), await own.redis.get(own.keys.conversationUnread(2, 1))], ['0', '0']);
  assert.equal(await own.redis.zscore(own.keys.conversations(2), '1'), '3000');
});

test('an old notification left unread is held beyond the newest ones, and counted', async () => {
  await applied([...notificationHistory({ users: 1, count: 1_000, firstUser: 7, readAfter: 20 })].filter((c) => !(c.op === 'update' && c.key?.['id'] === 3)));
  assert.notEqual(await own.redis.zscore(own.key('nova:notification:index:{7}'), '3'), null, 'notification 3 is still unread: held');
  assert.equal(await own.redis.zscore(own.key('nova:notification:index:{7}'), '4'), null, 'notification 4 was read long ago: gone');
  assert.equal(await own.redis.get(own.keys.notificationsUnread(7)), '21');
});

test('a notification evicted by the bound: marked unread later it is back and counted; deleted later, nothing breaks; its create redelivered, refused', async () => {
  const history = [...notificationHistory({ users: 1, count: 1_000, firstUser: 7, readAfter: 20 })];
  await applied(history);
  const index = own.key('nova:notification:index:{7}');
  assert.equal(await own.redis.zscore(index, '5'), null, 'notification 5 was evicted');
  const last = history.at(-1) as Change;
  let offset = Number(last.position.offset);
  const later = (change: Partial<Change> & Pick<Change, 'op' | 'key' | 'before' | 'after'>, version: bigint): Change => ({ ...last, ...change, version, commitOrder: version, position: { ...last.position, offset: String(++offset) } });
  const row5 = history.find((c) => c.key?.['id'] === 5 && c.op === 'update')?.after as Row;
  const row6 = history.find((c) => c.key?.['id'] === 6 && c.op === 'update')?.after as Row;
  const create7 = history.find((c) => c.key?.['id'] === 7 && c.op === 'create') as Change;
  await applied([
    later({ op: 'update', key: { id: 5 }, before: row5, after: { ...row5, is_read: false, read_at: null } }, last.version + 10n),
    later({ op: 'delete', key: { id: 6 }, before: row6, after: null }, last.version + 20n),
    { ...create7, position: { ...create7.position, offset: String(++offset) } },
  ]);
  assert.notEqual(await own.redis.zscore(index, '5'), null, 'notification 5, unread again, is held again');
  assert.equal(await own.redis.get(own.keys.notificationsUnread(7)), '21', 'and counted');
  assert.equal(await own.redis.zscore(index, '6'), null, 'the delete of an evicted one changed nothing');
  assert.equal(await own.redis.zscore(index, '7'), null, 'a redelivered create of an evicted one is refused (rule 4: below high)');
});

test('a conversation nobody reads: every unread message is held (unread is what readers need)', async () => {
  const sink = await createRedisSink({ target: redisTarget(process.env), generation: own.generation, projector: 'bounded-test' });
  try {
    // the history without its read statuses
    await feed(sink, [...conversationHistory({ count: 300, users: [1, 2] })].filter((c) => c.table !== 'public.message_read_status'));
  } finally {
    await sink.close();
  }
  assert.deepEqual([await own.redis.get(own.keys.conversationUnread(1, 1)), await own.redis.get(own.keys.conversationUnread(2, 1))], ['150', '150']);
});
