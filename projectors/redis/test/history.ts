// Long histories fed straight to the Redis sink (no Kafka): what the views keep after them, for
// the bounded-views test and `scripts/nova bench redis-memory`. Each history is the changes an
// app's lifetime would stream, in commit order, as one partition per topic delivers them:
// notifications created unread and later read, messages sent and read by the other side.
import type { Change, Row } from '../../runtime/decode/index.ts';
import type { Sink, StoreOp } from '../../runtime/sink.ts';
import type { Redis } from 'ioredis';
import { masters, type RedisClient } from '../client.ts';
import type { RedisOp } from '../commands.ts';
import { mapToRedis } from '../mapping/index.ts';

/** Builds changes in commit order, each the next record of its table's topic (partition 0). */
export function changeStream() {
  let position = 0n;
  const offsets = new Map<string, number>();
  return (table: string, op: 'create' | 'update', key: Row, after: Row, before: Row | null = null): Change => {
    position += 10n;
    const topic = topicOf[table] as string;
    const offset = offsets.get(topic) ?? 0;
    offsets.set(topic, offset + 1);
    return {
      kind: 'change', op, table, key, before, after, version: position, commitOrder: position, streamSince: 0, txId: null, commitTs: new Date(0),
      position: { topic, partition: 0, offset: String(offset) },
    };
  };
}

const topicOf: Record<string, string> = {
  'public.notifications': 'nova.notification.notifications',
  'public.conversations': 'nova.message.conversations',
  'public.messages': 'nova.message.messages',
  'public.message_read_status': 'nova.message.message_read_status',
};

const at = new Date('2026-01-01T00:00:00Z');

/** `count` notifications over `users` users (ids from `firstUser`), each created unread and read `readAfter` notifications later (the last `readAfter` stay unread). */
export function* notificationHistory(options: { users: number; count: number; firstUser?: number; readAfter?: number }): Generator<Change> {
  const { users, count, firstUser = 1, readAfter = 20 } = options;
  const next = changeStream();
  const row = (id: number, read: boolean): Row => ({
    id, user_id: firstUser + (id % users), type: 'like', actor_id: 99, target_type: 'post', target_id: id, content: `{"n":${id}}`, is_read: read, created_at: at, read_at: read ? at : null,
  });
  for (let id = 1; id <= count; id++) {
    yield next('public.notifications', 'create', { id }, row(id, false));
    const read = id - readAfter;
    if (read >= 1) yield next('public.notifications', 'update', { id: read }, row(read, true), row(read, false));
  }
}

/** One conversation (id `conversation`) of two users; `count` messages, alternating senders, each read by the other at once. */
export function* conversationHistory(options: { count: number; conversation?: number; users?: [number, number] }): Generator<Change> {
  const { count, conversation = 1, users = [1, 2] } = options;
  const next = changeStream();
  yield next('public.conversations', 'create', { id: conversation }, { id: conversation, participant1_id: users[0], participant2_id: users[1] });
  for (let id = 1; id <= count; id++) {
    const [sender, reader] = id % 2 === 0 ? users : [users[1], users[0]];
    yield next('public.messages', 'create', { id }, { id, conversation_id: conversation, sender_id: sender, content: `message ${id}`, is_deleted: false });
    const status = { user_id: reader, conversation_id: conversation, last_read_message_id: id };
    yield next('public.message_read_status', id <= 2 ? 'create' : 'update', { user_id: reader, conversation_id: conversation }, status);
  }
}

/** Applies `changes` to `sink` in batches of `batch`; `onBatch` after each with how many were applied. */
export async function feed(sink: Sink<RedisOp>, changes: Iterable<Change>, options: { batch?: number; onBatch?: (applied: number) => void } = {}) {
  const { batch = 500, onBatch } = options;
  let ops: StoreOp<RedisOp>[] = [];
  let applied = 0;
  const flush = async () => {
    await sink.apply(ops, [], async () => {});
    applied += new Set(ops.map((o) => o.change)).size;
    ops = [];
    onBatch?.(applied);
  };
  let inBatch = 0;
  for (const change of changes) {
    ops.push(...mapToRedis(change).map((op) => ({ op, change })));
    if (++inBatch === batch) {
      await flush();
      inBatch = 0;
    }
  }
  if (ops.length > 0) await flush();
}

export type Retained = { keys: number; bytes: number; members: number };

/**
 * What a generation's keys hold: their count, MEMORY USAGE summed (each key's value, its name
 * and Redis's per-key overhead, SAMPLES 0: every element counted), and their members (a
 * string is one).
 */
export async function retained(redis: RedisClient, pattern: string): Promise<Retained> {
  const total: Retained = { keys: 0, bytes: 0, members: 0 };
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = nextCursor;
      for (const key of keys) {
        const [bytes, type] = await Promise.all([node.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') as Promise<number>, node.type(key)]);
        total.keys += 1;
        total.bytes += bytes;
        total.members += type === 'string' ? 1 : await sizeOf(node, key, type);
      }
    } while (cursor !== '0');
  }
  return total;
}

async function sizeOf(node: Redis, key: string, type: string): Promise<number> {
  if (type === 'hash') return node.hlen(key);
  if (type === 'set') return node.scard(key);
  if (type === 'zset') return node.zcard(key);
  return 1;
}
