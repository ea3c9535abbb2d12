import { z } from '@hono/zod-openapi';
import { rowId } from '../../http/ids.ts';

export const notificationTypes = ['like', 'comment', 'follow', 'mention', 'message'] as const;

export const notification = z
  .object({
    id: z.string(),
    type: z.string(),
    actor_id: z.string(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    content: z.unknown(),
    is_read: z.boolean(),
    created_at: z.string().nullable(),
    read_at: z.string().nullable(),
  })
  .openapi('Notification');

export const notificationPage = z.object({ items: z.array(notification), next_cursor: z.string().nullable() }).openapi('NotificationPage');
export const unreadCount = z.object({ unread: z.number().int() }).openapi('UnreadCount');
export const notificationIdParam = z.object({ id: rowId });
export const settings = z
  .object({
    push_enabled: z.boolean(),
    email_enabled: z.boolean(),
    types_disabled: z.array(z.enum(notificationTypes)).max(notificationTypes.length),
  })
  .strict()
  .openapi('NotificationSettings');
