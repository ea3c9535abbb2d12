// Message reads. The conversations list and each one's unread count come from the Redis views
// (user:conversations:{u}, newest message first; conversation:unread:{u}:{c}); who is on the
// other side, from PostgreSQL on purpose (no view holds participants). History pages come from
// PostgreSQL on purpose (the seed keeps no message view but search). Search goes to
// Elasticsearch `messages`, confined to the caller's conversations as PostgreSQL lists them.
import type pg from 'pg';
import type { estypes } from '@elastic/elasticsearch';
import type { ElasticsearchViews } from '../../../projectors/elasticsearch/views.ts';
import type { RedisClient } from '../../../projectors/redis/client.ts';
import type { ViewKeys } from '../../../projectors/redis/reader-keys.ts';
import { sortedSetPage, type SortedSetPosition } from '../../http/sorted-set-page.ts';
import { asMessage, type MessageRow } from './writes.ts';

/** One page of the caller's conversations, newest message first, each with its unread count. */
export async function conversationsFromView(redis: RedisClient, keys: ViewKeys, userId: string, limit: number, before?: SortedSetPosition) {
  const { entries, more } = await sortedSetPage(redis, keys.conversations(userId), limit, before);
  // one MGET: a user's unread counts are on the user's slot
  const unread = entries.length === 0 ? [] : await redis.mget(entries.map((e) => keys.conversationUnread(userId, e.id)));
  return { entries: entries.map((e, i) => ({ ...e, unread: Number(unread[i] ?? 0) })), more };
}

/** Each conversation's other participant (PostgreSQL: the authority on who is in it). */
export async function peersOf(pool: pg.Pool, userId: string, conversationIds: string[]): Promise<Map<string, string>> {
  if (conversationIds.length === 0) return new Map();
  const { rows } = await pool.query(
    `SELECT id, CASE WHEN participant1_id = $1 THEN participant2_id ELSE participant1_id END AS peer
       FROM conversations WHERE id = ANY ($2::bigint[]) AND $1::bigint IN (participant1_id, participant2_id)`,
    [userId, conversationIds],
  );
  return new Map(rows.map((r) => [String(r.id), String(r.peer)]));
}

/** Is the conversation the caller's? Asked of PostgreSQL, never of a view that may lag. */
export async function isParticipant(pool: pg.Pool, userId: string, conversationId: string): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM conversations WHERE id = $1 AND $2::bigint IN (participant1_id, participant2_id)', [conversationId, userId]);
  return rowCount === 1;
}

export async function historyFromPostgres(pool: pg.Pool, conversationId: string, limit: number, beforeId?: string): Promise<MessageRow[]> {
  const { rows } = await pool.query(
    `SELECT id, conversation_id, sender_id, content, message_type, metadata, created_at FROM messages
      WHERE conversation_id = $1 AND NOT is_deleted AND ($2::bigint IS NULL OR id < $2::bigint)
      ORDER BY id DESC LIMIT $3`,
    [conversationId, beforeId ?? null, limit],
  );
  return rows.map(asMessage);
}

/**
 * The caller's conversation ids: the only ones a search may touch. Capped at the 65,536 with
 * the newest messages, what one Elasticsearch terms query takes (README, Known limitations).
 */
export async function conversationIdsOf(pool: pg.Pool, userId: string): Promise<string[]> {
  const { rows } = await pool.query('SELECT id FROM conversations WHERE participant1_id = $1 OR participant2_id = $1 ORDER BY last_message_id DESC NULLS LAST LIMIT 65536', [userId]);
  return rows.map((r) => String(r.id));
}

type MessageDoc = { message_id: number | string; conversation_id: number | string; sender_id: number | string; content: string; message_type: string; created_at: string };
export type SearchAfter = [number, string];

/**
 * Full-text search over the given conversations only. The query is an object: the caller's
 * text is only ever the value of a simple_query_string (which never fails on syntax), and the
 * conversations are a filter the text cannot widen, whatever it holds.
 */
export async function searchMessages(es: ElasticsearchViews, conversations: string[], q: string, limit: number, after?: SearchAfter) {
  const found = await es.client.search<MessageDoc>({
    index: es.alias('messages'),
    size: limit + 1,
    track_total_hits: false,
    query: {
      bool: {
        must: [{ simple_query_string: { query: q, fields: ['content'], default_operator: 'and' } }],
        filter: [{ terms: { conversation_id: conversations } }, { term: { is_deleted: false } }],
      },
    },
    sort: [{ _score: { order: 'desc' } }, { message_id: { order: 'desc' } }],
    ...(after ? { search_after: after as estypes.SortResults } : {}),
  });
  const hits = found.hits.hits.flatMap((hit) => {
    const doc = hit._source;
    if (!doc) return [];
    const [score, id] = (hit.sort ?? [hit._score ?? 0, doc.message_id]) as [number, number | string];
    return [{
      item: { ...asMessage({ id: doc.message_id, conversation_id: doc.conversation_id, sender_id: doc.sender_id, content: doc.content, message_type: doc.message_type, metadata: null, created_at: doc.created_at }), score },
      position: [score, String(id)] as SearchAfter,
    }];
  });
  return { hits: hits.slice(0, limit), more: hits.length > limit };
}
