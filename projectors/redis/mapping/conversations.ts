// conversations, messages and message_read_status -> conversation:unread:{user_id}:{conversation_id}
// and user:conversations:{user_id} (a sorted set, most recent message first). The three tables
// keep three structures on the conversation's slot, whatever order their topics arrive in: the
// participants, each sender's message ids, each reader's last read id. apply.lua's CONVERSATION
// derives each participant's (unread, newest) from them and publishes it; the sink then writes it
// on the participant's own slot (sink.ts, phase 2). Bounded: a sender's ids are held while some
// participant has not read them, plus the conversation's newest few (apply.lua says which).
import type { Change } from '../../runtime/decode/index.ts';
import type { RedisCommand, RedisOp } from '../commands.ts';
import { tagged } from '../reader-keys.ts';
import { op, sides, truncate } from './row.ts';

// apply.lua spells these too (it derives from them)
const participantsKey = (conversation: unknown) => tagged('nova:conversation:participants', conversation);
const messagesKey = (conversation: unknown, sender: unknown) => tagged('nova:conversation:messages', conversation, `:${sender}`);
const lastReadKey = (conversation: unknown) => tagged('nova:conversation:last-read', conversation);
const recompute = (conversation: unknown): RedisCommand => ({ cmd: 'CONVERSATION', conversation: String(conversation) });

// TRUNCATE conversations takes messages and read status with it (their foreign keys demand it),
// so everything goes, on the conversations' slots and the users'. Each of those two can be
// truncated alone: then only its own keys go, and every conversation is derived again from what
// the other two still hold.
const everything = ['conversation:unread:', 'user:conversations:', 'nova:conversation:', 'nova:user:conversation-seqs:', 'nova:rows:public.messages:', 'nova:rows:public.message_read_status:'];

export function mapConversation(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, everything);
  const { now, was } = sides(change);
  if (now) {
    return [op(change, now.id, true, [
      { cmd: 'SADD', key: participantsKey(now.id), member: String(now.participant1_id) },
      { cmd: 'SADD', key: participantsKey(now.id), member: String(now.participant2_id) },
      recompute(now.id),
    ])];
  }
  const gone = was as NonNullable<typeof was>;
  return [op(change, gone.id, false, [{ cmd: 'DEL', key: participantsKey(gone.id) }, { cmd: 'DEL', key: lastReadKey(gone.id) }, recompute(gone.id)])];
}

export function mapMessage(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, ['nova:conversation:messages:'], true);
  const { now, was } = sides(change);
  const row = (now ?? was) as NonNullable<typeof now>;
  const visible = now !== null && now.is_deleted !== true;
  const key = messagesKey(row.conversation_id, row.sender_id);
  const mark: RedisCommand = visible ? { cmd: 'ZADD', key, score: Number(row.id), member: String(row.id) } : { cmd: 'ZREM', key, member: String(row.id) };
  return [op(change, row.conversation_id, visible, [mark, recompute(row.conversation_id)])];
}

export function mapReadStatus(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, ['nova:conversation:last-read:'], true);
  const { now, was } = sides(change);
  const row = (now ?? was) as NonNullable<typeof now>;
  const mark: RedisCommand = now
    ? { cmd: 'HSET', key: lastReadKey(row.conversation_id), member: String(row.user_id), value: String(now.last_read_message_id) }
    : { cmd: 'HDEL', key: lastReadKey(row.conversation_id), member: String(row.user_id) };
  return [op(change, row.conversation_id, now !== null, [mark, recompute(row.conversation_id)])];
}
