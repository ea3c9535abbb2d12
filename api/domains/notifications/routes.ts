// Notifications: the list and unread count (Redis views), marking read and the settings
// (PostgreSQL writes; settings are read from PostgreSQL on purpose: no view holds them).
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../../app.ts';
import type { ApiDeps } from '../../deps.ts';
import { cursorFrom, encodeCursor, pageQuery } from '../../http/cursor.ts';
import { isRowId } from '../../http/ids.ts';
import { problems } from '../../http/problem.ts';
import { actingUser, jsonContent } from '../../http/route-helpers.ts';
import { viewOrPostgres } from '../../http/views.ts';
import { respondToWrite } from '../../http/writes.ts';
import { olderFromPostgres, recentFromView, unreadFromPostgres, unreadFromView } from './reads.ts';
import { notificationIdParam, notificationPage, settings, unreadCount } from './schemas.ts';
import { markAllRead, markRead, saveSettings } from './writes.ts';

const tags = ['notifications'];
const cursorShape = z.object({ before: z.string().refine(isRowId) });

export function notificationRoutes(deps: ApiDeps) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get', path: '/notifications', tags, request: { query: pageQuery },
      description: 'The caller\'s notifications, newest first: the newest 50 from the Redis view; older pages from PostgreSQL (say `Nova-Served-By: postgresql`), and every page while Redis is down (also `Nova-Degraded: redis`; such an answer meets any Nova-Read-After). Honours Nova-Read-After; on lag answers what the view holds with `Nova-Consistency: stale`.',
      responses: { 200: jsonContent(notificationPage, 'a page') },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { limit, cursor } = c.req.valid('query');
      const position = cursorFrom(cursor, cursorShape);
      const view = await viewOrPostgres(c, deps, {
        view: 'redis', onLag: 'stale',
        read: () => deps.redis.read((redis, keys) => recentFromView(redis, keys, userId)),
        fallback: async () => ({ items: await olderFromPostgres(deps.pool, userId, position?.before, limit), full: false }),
      });
      const newer = position === undefined ? view.items : view.items.filter((item) => BigInt(item.id) < BigInt(position.before));
      let items = newer.slice(0, limit);
      if (items.length < limit && view.full) {
        // past the newest 50: PostgreSQL, on purpose
        const before = items.at(-1)?.id ?? position?.before ?? view.items.at(-1)?.id;
        if (before !== undefined) {
          items = [...items, ...(await olderFromPostgres(deps.pool, userId, before, limit - items.length))];
          c.header('Nova-Served-By', 'postgresql');
        }
      }
      const last = items.at(-1);
      const more = items.length === limit && last !== undefined;
      return c.json({ items, next_cursor: more ? encodeCursor({ before: last.id }) : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/notifications/unread-count', tags,
      description: 'From the Redis view notification:unread:{u}; counted in PostgreSQL while Redis is down (`Nova-Served-By: postgresql`, `Nova-Degraded: redis`; such an answer meets any Nova-Read-After). Honours Nova-Read-After; on lag answers 503 view-lagging (a count is useless stale).',
      responses: { 200: jsonContent(unreadCount, 'the count'), 503: { description: 'the view is lagging' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      const unread = await viewOrPostgres(c, deps, {
        view: 'redis', onLag: 'unavailable',
        read: () => deps.redis.read((redis, keys) => unreadFromView(redis, keys, userId)),
        fallback: () => unreadFromPostgres(deps.pool, userId),
      });
      return c.json({ unread }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post', path: '/notifications/{id}/read', tags, request: { params: notificationIdParam },
      description: 'Marks one of the caller\'s notifications read (404 for anyone else\'s).',
      responses: { 200: jsonContent(z.object({ id: z.string(), is_read: z.literal(true) }), 'marked'), 404: { description: 'no such notification of the caller' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { id } = c.req.valid('param');
      return respondToWrite(c, deps, c.get('caller'), null, async (tx) => {
        if (!(await markRead(tx, userId, id))) throw problems.notFound(`notification ${id}`);
        return { status: 200, body: { id, is_read: true } };
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post', path: '/notifications/read-all', tags,
      responses: { 200: jsonContent(z.object({ marked: z.number().int() }), 'how many were unread') },
    }),
    async (c) => {
      const userId = actingUser(c);
      return respondToWrite(c, deps, c.get('caller'), null, async (tx) => ({ status: 200, body: { marked: await markAllRead(tx, userId) } }));
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/notification-settings', tags,
      description: 'From PostgreSQL on purpose: no view holds settings.',
      responses: { 200: jsonContent(settings, 'the caller\'s settings') },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { rows } = await deps.pool.query('SELECT push_enabled, email_enabled, types_disabled FROM notification_settings WHERE user_id = $1', [userId]);
      return c.json(rows[0] ?? { push_enabled: true, email_enabled: true, types_disabled: [] }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put', path: '/notification-settings', tags, request: { body: { content: { 'application/json': { schema: settings } }, required: true } },
      responses: { 200: jsonContent(settings, 'saved') },
    }),
    async (c) => {
      const userId = actingUser(c);
      const body = c.req.valid('json');
      return respondToWrite(c, deps, c.get('caller'), body, async (tx) => {
        const saved = await saveSettings(tx, userId, body);
        return { status: 200, body: { push_enabled: saved.push_enabled, email_enabled: saved.email_enabled, types_disabled: saved.types_disabled } };
      });
    },
  );
  return app;
}
