// Notification reads: the newest 50 and the unread count from the Redis views
// (notification:recent:{u}, notification:unread:{u}); pages older than the newest 50 from
// PostgreSQL on purpose, since the view keeps only those 50 (the seed's bound).
import type pg from 'pg';
import type { RedisClient } from '../../../projectors/redis/client.ts';
import type { ViewKeys } from '../../../projectors/redis/reader-keys.ts';
import { RECENT_LIMIT } from '../../../projectors/redis/mapping/notifications.ts';
import { isoOrNull, textOrNull } from '../../http/columns.ts';

export type NotificationItem = {
  id: string; type: string; actor_id: string; target_type: string | null; target_id: string | null;
  content: unknown; is_read: boolean; created_at: string | null; read_at: string | null;
};

const json = (value: unknown) => (typeof value === 'string' ? (JSON.parse(value) as unknown) : (value ?? null));

/** One item as the API shows it, from the view's JSON or a PostgreSQL row alike. */
export const asItem = (row: Record<string, unknown>): NotificationItem => ({
  id: String(row['id']), type: String(row['type']), actor_id: String(row['actor_id']), target_type: textOrNull(row['target_type']), target_id: textOrNull(row['target_id']),
  content: json(row['content']), is_read: row['is_read'] === true, created_at: isoOrNull(row['created_at']), read_at: isoOrNull(row['read_at']),
});

export async function recentFromView(redis: RedisClient, keys: ViewKeys, userId: string): Promise<{ items: NotificationItem[]; full: boolean }> {
  const held = await redis.get(keys.notificationsRecent(userId));
  const items = held === null ? [] : (JSON.parse(held) as Record<string, unknown>[]).map(asItem);
  return { items, full: items.length >= RECENT_LIMIT };
}

export async function unreadFromView(redis: RedisClient, keys: ViewKeys, userId: string): Promise<number> {
  return Number((await redis.get(keys.notificationsUnread(userId))) ?? 0);
}

/** Notifications older than `beforeId` (all, without it), newest first: past the view's 50, or in its place while Redis is down. */
export async function olderFromPostgres(pool: pg.Pool, userId: string, beforeId: string | undefined, limit: number): Promise<NotificationItem[]> {
  const { rows } = await pool.query(
    `SELECT id, type, actor_id, target_type, target_id, content, is_read, created_at, read_at
       FROM notifications WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3`,
    [userId, beforeId ?? null, limit],
  );
  return rows.map(asItem);
}

/** The unread count the view keeps, counted in PostgreSQL (idx_notifications_user_unread), while Redis is down. */
export async function unreadFromPostgres(pool: pg.Pool, userId: string): Promise<number> {
  const { rows } = await pool.query('SELECT count(*) AS n FROM notifications WHERE user_id = $1 AND NOT is_read', [userId]);
  return Number(rows[0].n);
}
