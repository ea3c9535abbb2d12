// notifications -> notification:unread:{user_id} (the count, derived from a set of unread
// ids so replays cannot drift it) and notification:recent:{user_id} (the newest as JSON), all on
// the user's slot. Bounded: a user's keys hold the newest RECENT_KEEP notifications and every
// unread one older than them (apply.lua's RECENT evicts the older read ones), whatever the history.
import type { Change, Row } from '../../runtime/decode/index.ts';
import type { RedisCommand, RedisOp } from '../commands.ts';
import { tagged, viewKeys } from '../reader-keys.ts';
import { op, rowsKey, sides, stableJson, truncate } from './row.ts';

export const RECENT_LIMIT = 50;
/**
 * Read notifications held beyond the newest RECENT_LIMIT: deletes of up to RECENT_KEEP -
 * RECENT_LIMIT of the newest still leave the list as PostgreSQL would give it (the API never
 * deletes one; a bulk delete below that shows as drift until a rebuild).
 */
export const RECENT_KEEP = 2 * RECENT_LIMIT;
export const notificationItemFields = ['id', 'type', 'actor_id', 'target_type', 'target_id', 'content', 'is_read', 'created_at', 'read_at'];
const table = 'public.notifications';

const keys = (userId: unknown) => ({
  unreadIds: tagged('nova:notification:unread-ids', userId),
  index: tagged('nova:notification:index', userId),
  items: tagged('nova:notification:items', userId),
  unread: viewKeys.notificationsUnread(userId),
  recent: viewKeys.notificationsRecent(userId),
});

function derived(userId: unknown): RedisCommand[] {
  const k = keys(userId);
  return [
    { cmd: 'COUNT', key: k.unread, set: k.unreadIds },
    { cmd: 'RECENT', key: k.recent, index: k.index, items: k.items, unread: k.unreadIds, rows: rowsKey(table, userId), limit: RECENT_LIMIT, keep: RECENT_KEEP },
  ];
}

function remove(row: Row): RedisCommand[] {
  const k = keys(row.user_id);
  const id = String(row.id);
  return [{ cmd: 'SREM', key: k.unreadIds, member: id }, { cmd: 'ZREM', key: k.index, member: id }, { cmd: 'HDEL', key: k.items, member: id }, ...derived(row.user_id)];
}

function put(row: Row): RedisCommand[] {
  const k = keys(row.user_id);
  const id = String(row.id);
  return [
    row.is_read ? { cmd: 'SREM', key: k.unreadIds, member: id } : { cmd: 'SADD', key: k.unreadIds, member: id },
    { cmd: 'ZADD', key: k.index, score: Number(row.id), member: id },
    { cmd: 'HSET', key: k.items, member: id, value: stableJson(row, notificationItemFields) },
    ...derived(row.user_id),
  ];
}

export function mapNotification(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, ['notification:unread:', 'notification:recent:', 'nova:notification:']);
  const { now, was } = sides(change);
  const ops: RedisOp[] = [];
  // a notification moved to another user leaves the old user's slot and enters the new one's
  if (was && (!now || was.user_id !== now.user_id)) ops.push(op(change, was.user_id, false, remove(was)));
  if (now) ops.push(op(change, now.user_id, true, put(now)));
  return ops;
}
