// notifications -> notification:unread:{user_id} (the count, derived from a set of unread
// ids so replays cannot drift it) and notification:recent:{user_id} (the newest as JSON).
import type { Change, Row } from '../../runtime/decode/index.ts';
import type { RedisCommand, RedisOp } from '../commands.ts';
import { readerKeys } from '../reader-keys.ts';
import { op, sides, stableJson, truncate } from './row.ts';

export const RECENT_LIMIT = 50;
export const notificationItemFields = ['id', 'type', 'actor_id', 'target_type', 'target_id', 'content', 'is_read', 'created_at', 'read_at'];

const keys = (userId: unknown) => ({
  unreadIds: `nova:notification:unread-ids:${userId}`,
  unread: readerKeys.notificationsUnread(userId),
  recentIndex: `nova:notification:recent-index:${userId}`,
  recentItems: `nova:notification:recent-items:${userId}`,
  recent: readerKeys.notificationsRecent(userId),
});

function derived(userId: unknown): RedisCommand[] {
  const k = keys(userId);
  return [
    { cmd: 'COUNT', key: k.unread, set: k.unreadIds },
    { cmd: 'RECENT', key: k.recent, index: k.recentIndex, items: k.recentItems, limit: RECENT_LIMIT },
  ];
}

function remove(row: Row): RedisCommand[] {
  const k = keys(row.user_id);
  const id = String(row.id);
  return [
    { cmd: 'SREM', key: k.unreadIds, member: id },
    { cmd: 'ZREM', key: k.recentIndex, member: id },
    { cmd: 'HDEL', key: k.recentItems, member: id },
    ...derived(row.user_id),
  ];
}

function put(row: Row): RedisCommand[] {
  const k = keys(row.user_id);
  const id = String(row.id);
  return [
    row.is_read ? { cmd: 'SREM', key: k.unreadIds, member: id } : { cmd: 'SADD', key: k.unreadIds, member: id },
    { cmd: 'ZADD', key: k.recentIndex, score: Number(row.id), member: id },
    { cmd: 'HSET', key: k.recentItems, member: id, value: stableJson(row, notificationItemFields) },
    ...derived(row.user_id),
  ];
}

export function mapNotification(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, ['notification:unread:*', 'notification:recent:*', 'nova:notification:*']);
  const { now, was } = sides(change);
  const commands = [...(was && (!now || was.user_id !== now.user_id) ? remove(was) : []), ...(now ? put(now) : [])];
  return [op(change, commands)];
}
