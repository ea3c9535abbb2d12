// Notifications are written by the action that causes them, in its transaction (a like, a
// comment, a mention, a follow, a message), never to the actor themself, and never of a type
// the recipient disabled (notification_settings.types_disabled): one INSERT ... SELECT decides
// both in SQL.
import type { Tx } from '../../db.ts';

export type NotificationType = 'like' | 'comment' | 'follow' | 'mention' | 'message';

export async function notify(
  tx: Tx,
  n: { userId: string; type: NotificationType; actorId: string; targetType: 'post' | 'comment' | 'user' | 'conversation'; targetId: string; content?: object },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO notifications (user_id, type, actor_id, target_type, target_id, content)
     SELECT $1::bigint, $2::varchar, $3::bigint, $4::varchar, $5::bigint, $6::jsonb
      WHERE $1::bigint <> $3::bigint
        AND NOT EXISTS (SELECT 1 FROM notification_settings s WHERE s.user_id = $1::bigint AND $2::text = ANY (s.types_disabled))`,
    [n.userId, n.type, n.actorId, n.targetType, n.targetId, n.content === undefined ? null : JSON.stringify(n.content)],
  );
  return rowCount === 1;
}

export async function markRead(tx: Tx, userId: string, notificationId: string): Promise<boolean> {
  // a notification of someone else's matches no row: the caller learns only "not found"
  const { rows } = await tx.query(
    `WITH mine AS (SELECT id FROM notifications WHERE id = $2 AND user_id = $1),
          marked AS (UPDATE notifications SET is_read = TRUE, read_at = now() WHERE id IN (SELECT id FROM mine) AND NOT is_read RETURNING id)
     SELECT (SELECT count(*) FROM mine) AS found`,
    [userId, notificationId],
  );
  return Number(rows[0]?.found) === 1;
}

export async function markAllRead(tx: Tx, userId: string): Promise<number> {
  const { rowCount } = await tx.query('UPDATE notifications SET is_read = TRUE, read_at = now() WHERE user_id = $1 AND NOT is_read', [userId]);
  return rowCount ?? 0;
}

export async function saveSettings(tx: Tx, userId: string, s: { push_enabled: boolean; email_enabled: boolean; types_disabled: NotificationType[] }) {
  const { rows } = await tx.query(
    `INSERT INTO notification_settings (user_id, push_enabled, email_enabled, types_disabled, updated_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (user_id) DO UPDATE SET push_enabled = EXCLUDED.push_enabled, email_enabled = EXCLUDED.email_enabled,
       types_disabled = EXCLUDED.types_disabled, updated_at = now()
     RETURNING push_enabled, email_enabled, types_disabled, updated_at`,
    [userId, s.push_enabled, s.email_enabled, s.types_disabled],
  );
  return rows[0];
}
