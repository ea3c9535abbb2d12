// Live streams: created, started and ended by the streamer (PostgreSQL); the live-now list and
// each stream's metadata from the Redis views (stream:live, stream:meta:{id}).
import { createRoute } from '@hono/zod-openapi';
import { router } from '../../app.ts';
import type { ApiDeps } from '../../deps.ts';
import { readAfterToken } from '../../http/consistency.ts';
import { cursorFrom, encodeCursor, pageQuery } from '../../http/cursor.ts';
import { problems } from '../../http/problem.ts';
import { actingUser, idempotencyKey, jsonBody, jsonContent } from '../../http/route-helpers.ts';
import { sortedSetCursor } from '../../http/sorted-set-page.ts';
import { fromView } from '../../http/views.ts';
import { respondToWrite } from '../../http/writes.ts';
import { liveFromView, streamFromView } from './reads.ts';
import { newStream, ownStream, stream, streamIdParam, streamPage } from './schemas.ts';
import { createStream, moveStream } from './writes.ts';

const tags = ['live'];

export function liveRoutes(deps: ApiDeps) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'post', path: '/live-streams', tags, request: { ...jsonBody(newStream), headers: idempotencyKey },
      description: 'Creates one of the caller\'s streams, `preparing`. Only this answer carries `rtmp_url`, the publishing address with its stream key.',
      responses: { 201: jsonContent(ownStream, 'created') },
    }),
    async (c) => {
      const userId = actingUser(c);
      const input = c.req.valid('json');
      return respondToWrite(c, deps, c.get('caller'), input, async (tx) => ({ status: 201, body: await createStream(tx, userId, deps.streamUrls, input) }));
    },
  );

  for (const move of ['start', 'end'] as const) {
    app.openapi(
      createRoute({
        method: 'post', path: `/live-streams/{id}/${move}`, tags, request: { params: streamIdParam },
        description: move === 'start' ? 'Goes live: a `preparing` stream of the caller\'s becomes `live`.' : 'Ends one of the caller\'s streams (`preparing` or `live`).',
        responses: { 200: jsonContent(stream, 'moved'), 404: { description: 'no such stream of the caller' }, 409: { description: 'its status does not allow this' } },
      }),
      async (c) => {
        const userId = actingUser(c);
        const { id } = c.req.valid('param');
        return respondToWrite(c, deps, c.get('caller'), null, async (tx) => ({ status: 200, body: await moveStream(tx, userId, id, move) }));
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'get', path: '/live-streams/live', tags, request: { query: pageQuery },
      description: 'The streams live now, newest start first, from the Redis views stream:live and stream:meta:{id}. Honours Nova-Read-After; on lag answers what the view holds with `Nova-Consistency: stale`.',
      responses: { 200: jsonContent(streamPage, 'a page'), 503: { description: 'the Redis view is down' } },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const before = cursorFrom(cursor, sortedSetCursor);
      await readAfterToken(c, deps, ['redis'], 'stale');
      const { items, last, more } = await fromView('redis', () => deps.redis.read((redis, keys) => liveFromView(redis, keys, limit, before)));
      return c.json({ items, next_cursor: more && last ? encodeCursor(last) : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/live-streams/{id}', tags, request: { params: streamIdParam },
      description: 'A stream\'s public metadata, from the Redis view stream:meta:{id}. Honours Nova-Read-After; on lag answers what the view holds with `Nova-Consistency: stale`.',
      responses: { 200: jsonContent(stream, 'the stream'), 404: { description: 'no such stream (in the view)' }, 503: { description: 'the Redis view is down' } },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await readAfterToken(c, deps, ['redis'], 'stale');
      const found = await fromView('redis', () => deps.redis.read((redis, keys) => streamFromView(redis, keys, id)));
      if (!found) throw problems.notFound(`live stream ${id}`);
      return c.json(found, 200);
    },
  );
  return app;
}
