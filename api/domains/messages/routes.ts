// Direct messages: sending (PostgreSQL, one transaction), the conversations list (Redis),
// history (PostgreSQL on purpose), marking read, and search (Elasticsearch, the caller's
// conversations only). A conversation that is not the caller's is not found (404).
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../../app.ts';
import type { ApiDeps } from '../../deps.ts';
import { readAfter, readAfterToken } from '../../http/consistency.ts';
import { cursorFrom, encodeCursor, pageQuery } from '../../http/cursor.ts';
import { isRowId } from '../../http/ids.ts';
import { problems } from '../../http/problem.ts';
import { actingUser, idempotencyKey, jsonBody, jsonContent } from '../../http/route-helpers.ts';
import { fromView } from '../../http/views.ts';
import { sortedSetCursor } from '../../http/sorted-set-page.ts';
import { respondToWrite } from '../../http/writes.ts';
import { conversationIdsOf, conversationsFromView, historyFromPostgres, isParticipant, peersOf, searchMessages } from './reads.ts';
import { conversationIdParam, conversationPage, message, messagePage, newMessage, readUpTo, searchPage, searchQuery } from './schemas.ts';
import { readConversation, sendMessage } from './writes.ts';

const tags = ['messages'];
const historyCursor = z.object({ before: z.string().refine(isRowId) });
const searchCursor = z.object({ score: z.number().finite(), id: z.string().refine(isRowId) });

export function messageRoutes(deps: ApiDeps) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'post', path: '/messages', tags, request: { ...jsonBody(newMessage), headers: idempotencyKey },
      description: 'Sends a direct message. In one transaction: the conversation (created on the first message), the message, the conversation\'s last message, the sender\'s read position and a `message` notification for the recipient. A recipient who does not exist or blocked the sender is not found.',
      responses: { 201: jsonContent(message, 'sent'), 404: { description: 'no such recipient' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      const input = c.req.valid('json');
      return respondToWrite(c, deps, c.get('caller'), input, async (tx) => ({ status: 201, body: await sendMessage(tx, userId, input) }));
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/conversations', tags, request: { query: pageQuery },
      description: 'The caller\'s conversations, newest message first, with unread counts, from the Redis views (user:conversations:{u}, conversation:unread:{u}:{c}); the other participant from PostgreSQL on purpose (no view holds participants). Honours Nova-Read-After; on lag answers what the view holds with `Nova-Consistency: stale`.',
      responses: { 200: jsonContent(conversationPage, 'a page'), 503: { description: 'the Redis view is down' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { limit, cursor } = c.req.valid('query');
      const before = cursorFrom(cursor, sortedSetCursor);
      await readAfterToken(c, deps, ['redis'], 'stale');
      const { entries: page, more } = await fromView('redis', () => deps.redis.read((redis, keys) => conversationsFromView(redis, keys, userId, limit, before)));
      const peers = await peersOf(deps.pool, userId, page.map((e) => e.id));
      // a conversation the view still lists after PostgreSQL dropped it is left out
      const items = page.flatMap((e) => {
        const peer = peers.get(e.id);
        return peer === undefined ? [] : [{ id: e.id, peer_id: peer, unread: e.unread, last_message_id: e.score === '0' ? null : e.score }];
      });
      const last = page.at(-1);
      return c.json({ items, next_cursor: more && last ? encodeCursor({ score: last.score, id: last.id }) : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/conversations/{id}/messages', tags, request: { params: conversationIdParam, query: pageQuery },
      description: 'A page of the conversation\'s history, newest first, from PostgreSQL on purpose: the seed keeps no message view but search, and history must be exact (`Nova-Served-By: postgresql`).',
      responses: { 200: jsonContent(messagePage, 'a page'), 404: { description: 'no such conversation of the caller' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { id } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      const before = cursorFrom(cursor, historyCursor);
      if (!(await isParticipant(deps.pool, userId, id))) throw problems.notFound(`conversation ${id}`);
      const items = await historyFromPostgres(deps.pool, id, limit, before?.before);
      c.header('Nova-Served-By', 'postgresql');
      const last = items.at(-1);
      return c.json({ items, next_cursor: items.length === limit && last ? encodeCursor({ before: last.id }) : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post', path: '/conversations/{id}/read', tags, request: { params: conversationIdParam, ...jsonBody(readUpTo) },
      description: 'Marks the caller\'s conversation read up to one of its messages (by default the newest). A read position never moves back.',
      responses: { 200: jsonContent(z.object({ conversation_id: z.string(), last_read_message_id: z.string().nullable() }), 'marked'), 404: { description: 'no such conversation of the caller' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      return respondToWrite(c, deps, c.get('caller'), body, async (tx) => ({ status: 200, body: await readConversation(tx, userId, id, body.last_read_message_id) }));
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/messages/search', tags, request: { query: searchQuery },
      description: 'Full-text search of the caller\'s own messages (Elasticsearch `messages`), best match first. Only conversations the caller is in, as PostgreSQL lists them, are ever searched, whatever `q` holds; `conversation_id` narrows to one of them (404 for anyone else\'s). Honours Nova-Read-After; on lag answers what the index holds with `Nova-Consistency: stale`.',
      responses: { 200: jsonContent(searchPage, 'hits'), 404: { description: 'no such conversation of the caller' }, 503: { description: 'the search view is down' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { q, conversation_id: only, limit, cursor } = c.req.valid('query');
      const after = cursorFrom(cursor, searchCursor);
      readAfter(c, deps); // a bad token is a 400 even when there is nothing to search
      if (only !== undefined && !(await isParticipant(deps.pool, userId, only))) throw problems.notFound(`conversation ${only}`);
      const scope = only === undefined ? await conversationIdsOf(deps.pool, userId) : [only];
      if (scope.length === 0) return c.json({ items: [], next_cursor: null }, 200);
      const applied = await readAfterToken(c, deps, ['elasticsearch'], 'stale');
      const { hits, more } = await fromView('elasticsearch', async () => {
        // applied means indexed, and searchable only after a refresh: one makes the write visible
        if (applied) await deps.elasticsearch.client.indices.refresh({ index: deps.elasticsearch.alias('messages') });
        return searchMessages(deps.elasticsearch, scope, q, limit, after && [after.score, after.id]);
      });
      const last = hits.at(-1);
      return c.json({ items: hits.map((h) => h.item), next_cursor: more && last ? encodeCursor({ score: last.position[0], id: last.position[1] }) : null }, 200);
    },
  );
  return app;
}
