// The follow graph: follow, unfollow, mute, block (PostgreSQL); followers and following (Redis
// views); suggestions (Neo4j, cached).
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../../app.ts';
import type { ApiDeps } from '../../deps.ts';
import { readAfterToken } from '../../http/consistency.ts';
import { cursorFrom, encodeCursor, pageQuery } from '../../http/cursor.ts';
import { rowId } from '../../http/ids.ts';
import { actingUser, jsonContent } from '../../http/route-helpers.ts';
import { fromView } from '../../http/views.ts';
import { respondToWrite } from '../../http/writes.ts';
import { cacheSuggestions, cachedSuggestions, followSets, membersPage, suggestionsFromGraph } from './reads.ts';
import { block, follow, mute, unfollow } from './writes.ts';

const tags = ['social'];
const idParam = z.object({ id: rowId });
// an SSCAN cursor is an unsigned 64-bit integer: a larger one is a bad cursor (400), not a Redis error
const cursorShape = z.object({ scan: z.string().regex(/^[0-9]{1,20}$/).refine((scan) => BigInt(scan) < 2n ** 64n) });
const memberPage = z.object({ items: z.array(z.string()), count: z.number().int(), next_cursor: z.string().nullable() }).openapi('UserIdPage');
const suggestion = z.object({ id: z.string(), username: z.string().nullable() });

export function socialRoutes(deps: ApiDeps) {
  const app = router();

  const change = (method: 'post' | 'delete', path: string, description: string, act: (tx: Parameters<typeof follow>[0], me: string, them: string) => Promise<object>) =>
    app.openapi(
      createRoute({ method, path, tags, description, request: { params: idParam }, responses: { 200: jsonContent(z.object({ user_id: z.string() }).passthrough(), 'done'), 404: { description: 'no such user' } } }),
      async (c) => {
        const me = actingUser(c);
        const { id } = c.req.valid('param');
        return respondToWrite(c, deps, c.get('caller'), { id }, async (tx) => ({ status: 200, body: { user_id: id, ...(await act(tx, me, id)) } }));
      },
    );
  change('post', '/users/{id}/follow', 'Follows a user: the follow, both counters and a `follow` notification, in one transaction. Following again changes nothing (`new` false).', follow);
  change('delete', '/users/{id}/follow', 'Unfollows a user (a block they made stays).', unfollow);
  change('post', '/users/{id}/mute', 'Mutes a user: the caller\'s follow of them, if any, no longer counts. Where they blocked the caller the block stays as it is (the answer does not reveal the block).', async (tx, me, them) => (await mute(tx, me, them), { status: 'muted' }));
  change('post', '/users/{id}/block', 'Blocks a user: their follow of the caller ends and cannot start again.', async (tx, me, them) => (await block(tx, me, them), { status: 'blocked' }));

  for (const which of ['followers', 'following'] as const) {
    app.openapi(
      createRoute({
        method: 'get', path: `/users/{id}/${which}`, tags, request: { params: idParam, query: pageQuery },
        description: `The user's ${which} (ids, in no particular order) from the Redis view; the count from user_stats (PostgreSQL). Honours Nova-Read-After (stale on lag).`,
        responses: { 200: jsonContent(memberPage, 'a page') },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const { limit, cursor } = c.req.valid('query');
        const position = cursorFrom(cursor, cursorShape) ?? { scan: '0' };
        await readAfterToken(c, deps, ['redis'], 'stale');
        const page = await fromView('redis', () => deps.redis.read((redis, keys) => membersPage(redis, followSets[which](keys)(id), position.scan, limit)));
        const column = which === 'followers' ? 'follower_count' : 'following_count';
        const { rows } = await deps.pool.query(`SELECT ${column} AS n FROM user_stats WHERE user_id = $1`, [id]);
        return c.json({ items: page.ids, count: Number(rows[0]?.n ?? 0), next_cursor: page.next === '0' ? null : encodeCursor({ scan: page.next }) }, 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'get', path: '/suggestions', tags,
      description: 'People the caller\'s follows follow (the seed\'s friend-of-friend query on Neo4j), cached for an hour in user:recommended:{u}. With Nova-Read-After the cache is skipped and the graph waited for (503 view-lagging on lag). With Neo4j down, a cached answer is served with `Nova-Served-By: cache`; without one, 503.',
      responses: { 200: jsonContent(z.object({ items: z.array(suggestion) }), 'up to 20'), 503: { description: 'the graph is down or lagging' } },
    }),
    async (c) => {
      const me = actingUser(c);
      const tokened = c.req.header('nova-read-after') !== undefined;
      const cached = tokened ? undefined : await cachedSuggestions(deps.ephemeral, me).catch(() => undefined);
      if (cached) return c.json({ items: cached }, 200, { 'Nova-Served-By': 'cache' });
      await readAfterToken(c, deps, ['neo4j'], 'unavailable');
      const items = await fromView('neo4j', () => deps.neo4j.read((session, label) => suggestionsFromGraph(session, label, me)));
      await cacheSuggestions(deps.ephemeral, me, items).catch((error: unknown) => deps.log.warn({ err: error }, 'suggestions not cached'));
      return c.json({ items }, 200);
    },
  );
  return app;
}
