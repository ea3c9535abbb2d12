// conversations, messages and message_read_status -> conversation:unread:{user_id}:{conversation_id}
// and user:conversations:{user_id} (a sorted set, most recent message first). apply.lua
// derives both from three structures these mappings keep, whatever order the three
// topics arrive in: the participants, each sender's message ids, each reader's last read id.
import type { Change } from '../../runtime/decode/index.ts';
import type { RedisCommand, RedisOp } from '../commands.ts';
import { readerKeys } from '../reader-keys.ts';
import { op, sides, truncate } from './row.ts';

const participantsKey = (conversation: unknown) => `nova:conversation:participants:${conversation}`;
const messagesKey = (conversation: unknown, sender: unknown) => `nova:conversation:messages:${conversation}:${sender}`;
const lastReadKey = (conversation: unknown) => `nova:conversation:last-read:${conversation}`;
const recompute = (conversation: unknown): RedisCommand => ({ cmd: 'CONVERSATION', conversation: String(conversation) });
// TRUNCATE conversations takes messages and read status with it (their foreign keys demand
// it), so everything goes. Each of those two can be truncated alone: then only its own keys go,
// and every conversation's counts are derived again from what the other two still hold.
const truncatePatterns = ['conversation:unread:*', 'user:conversations:*', 'nova:conversation:*'];
const everyConversation: RedisCommand = { cmd: 'CONVERSATIONS' };

export function mapConversation(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, truncatePatterns);
  const { now, was } = sides(change);
  if (now) {
    return [op(change, [
      { cmd: 'SADD', key: participantsKey(now.id), member: String(now.participant1_id) },
      { cmd: 'SADD', key: participantsKey(now.id), member: String(now.participant2_id) },
      recompute(now.id),
    ])];
  }
  const gone = was as NonNullable<typeof was>;
  const commands: RedisCommand[] = [{ cmd: 'DEL', key: participantsKey(gone.id) }, { cmd: 'DEL', key: lastReadKey(gone.id) }];
  for (const user of [gone.participant1_id, gone.participant2_id]) {
    commands.push({ cmd: 'ZREM', key: readerKeys.conversations(user), member: String(gone.id) }, { cmd: 'DEL', key: readerKeys.conversationUnread(user, gone.id) });
  }
  return [op(change, commands)];
}

export function mapMessage(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, ['nova:conversation:messages:*'], [everyConversation]);
  const { now, was } = sides(change);
  const row = (now ?? was) as NonNullable<typeof now>;
  const visible = now !== null && now.is_deleted !== true;
  const commands: RedisCommand[] = [
    visible
      ? { cmd: 'ZADD', key: messagesKey(row.conversation_id, row.sender_id), score: Number(row.id), member: String(row.id) }
      : { cmd: 'ZREM', key: messagesKey(row.conversation_id, row.sender_id), member: String(row.id) },
    recompute(row.conversation_id),
  ];
  return [op(change, commands)];
}

export function mapReadStatus(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, ['nova:conversation:last-read:*'], [everyConversation]);
  const { now, was } = sides(change);
  const row = (now ?? was) as NonNullable<typeof now>;
  const mark: RedisCommand = now
    ? { cmd: 'HSET', key: lastReadKey(row.conversation_id), member: String(row.user_id), value: String(now.last_read_message_id) }
    : { cmd: 'HDEL', key: lastReadKey(row.conversation_id), member: String(row.user_id) };
  return [op(change, [mark, recompute(row.conversation_id)])];
}
