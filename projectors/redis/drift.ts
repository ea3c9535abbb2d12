// What the Redis view must hold, computed from PostgreSQL (the source of truth), and the
// same keys read back from Redis, both as sorted [key, value] lists to compare whole: the
// reconcile tool's comparison and the end-to-end tests' oracle. It shares nothing with the
// mappings it checks: the JSON values are built in SQL from the seed's columns, written out here,
// with timestamps formatted in SQL, so a field a mapping drops, reorders or formats otherwise
// shows as drift.
import pg from 'pg';
import { novaConfig } from '../../config/nova-config.ts';
import type { CompareWithPostgres, Drift } from '../runtime/sink.ts';
import { assertGeneration } from './generations.ts';
import { connect, openRedis, redisTarget, scan, type RedisClient } from './client.ts';
import { generationPrefix, seedName, viewKeys } from './reader-keys.ts';

export type Entries = Array<[string, string]>;
const sorted = (entries: Entries) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const members = (values: Iterable<string>) => JSON.stringify([...values].sort());

/**
 * How many notifications notification:recent:{user_id} lists, newest first. The seed
 * (shared/seed/nova-architecture.zh.md, 1.2) names the key "a JSON list" without a length; 50
 * is Nova's choice, kept here apart from the mapping's own constant.
 */
const RECENT_NOTIFICATIONS = 50;

/** A timestamptz as JavaScript's toISOString writes it: UTC, milliseconds (truncated, as the decoder's Date does). */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// the seed's notifications columns but user_id (the key names it), in the order the view writes them
const notificationItem = `json_build_object(
  'id', id, 'type', type, 'actor_id', actor_id, 'target_type', target_type, 'target_id', target_id,
  'content', content, 'is_read', is_read, 'created_at', ${iso('created_at')}, 'read_at', ${iso('read_at')})`;

// the seed's live_streams columns but rtmp_url (the streamer's ingest address: readers never get it)
const streamMeta = `json_build_object(
  'id', id, 'user_id', user_id, 'title', title, 'description', description, 'thumbnail_url', thumbnail_url,
  'hls_url', hls_url, 'status', status, 'viewer_count', viewer_count, 'peak_viewer_count', peak_viewer_count,
  'started_at', ${iso('started_at')}, 'ended_at', ${iso('ended_at')}, 'created_at', ${iso('created_at')})`;

export async function expectedFromPostgres(db: pg.Client): Promise<Entries> {
  const out: Entries = [];
  const groups = new Map<string, Set<string>>();
  const add = (key: string, member: string) => (groups.get(key) ?? groups.set(key, new Set()).get(key)!).add(member);
  for (const f of (await db.query(`SELECT follower_id, followee_id FROM follows WHERE status = 'active'`)).rows) {
    add(`user:following:${f.follower_id}`, String(f.followee_id));
    add(`user:followers:${f.followee_id}`, String(f.follower_id));
  }
  for (const [key, set] of groups) out.push([key, members(set)]);

  // node-pg parses json: JSON.stringify gives it back compact, keys in the order SQL built them
  const notifications = await db.query(
    `SELECT user_id, count(*) FILTER (WHERE is_read IS NOT TRUE) AS unread, json_agg(item ORDER BY id DESC) FILTER (WHERE newest <= $1) AS recent
       FROM (SELECT user_id, id, is_read, ${notificationItem} AS item, row_number() OVER (PARTITION BY user_id ORDER BY id DESC) AS newest FROM notifications) n
      GROUP BY user_id`,
    [RECENT_NOTIFICATIONS],
  );
  for (const n of notifications.rows) {
    // Redis keeps a zero count once a user's notifications are read; compared as absent, like actualFromRedis
    if (Number(n.unread) > 0) out.push([`notification:unread:${n.user_id}`, String(n.unread)]);
    out.push([`notification:recent:${n.user_id}`, JSON.stringify(n.recent)]);
  }

  const streams = await db.query(`SELECT id, status, floor(extract(epoch FROM started_at) * 1000)::bigint AS started_ms, ${streamMeta} AS meta FROM live_streams`);
  for (const s of streams.rows) out.push([`stream:meta:${s.id}`, JSON.stringify(s.meta)]);
  const live = streams.rows.filter((s) => s.status === 'live').map((s) => `${s.id}=${s.started_ms ?? 0}`);
  if (live.length > 0) out.push(['stream:live', members(live)]);

  const unread = await db.query(`
    SELECT c.id AS conversation, p.user_id,
           count(m.id) FILTER (WHERE m.sender_id <> p.user_id AND m.id > coalesce(r.last_read_message_id, 0)) AS unread,
           coalesce(max(m.id) FILTER (WHERE m.sender_id IN (c.participant1_id, c.participant2_id)), 0) AS newest
      FROM conversations c
      CROSS JOIN LATERAL (VALUES (c.participant1_id), (c.participant2_id)) AS p(user_id)
      LEFT JOIN messages m ON m.conversation_id = c.id AND NOT coalesce(m.is_deleted, false)
      LEFT JOIN message_read_status r ON r.conversation_id = c.id AND r.user_id = p.user_id
     GROUP BY c.id, p.user_id, r.last_read_message_id`);
  const recentConversations = new Map<string, string[]>();
  for (const row of unread.rows) {
    out.push([`conversation:unread:${row.user_id}:${row.conversation}`, String(row.unread)]);
    (recentConversations.get(String(row.user_id)) ?? recentConversations.set(String(row.user_id), []).get(String(row.user_id))!).push(`${row.conversation}=${row.newest}`);
  }
  for (const [user, list] of recentConversations) out.push([`user:conversations:${user}`, members(list)]);
  return sorted(out);
}

/** Generation N's view keys under their seed names (reader-keys.ts seedName), read from every master. */
export async function actualFromRedis(redis: RedisClient, generation: number): Promise<Entries> {
  const out: Entries = [];
  const prefix = generationPrefix(generation);
  for (const family of ['user:following:', 'user:followers:', 'notification:unread:', 'notification:recent:', 'stream:meta:', viewKeys.liveNow, 'conversation:unread:', 'user:conversations:']) {
    for await (const page of scan(redis, `${prefix}${family}*`)) {
      for (const key of page) {
        const name = seedName(generation, key);
        const type = await redis.type(key);
        if (type === 'set') {
          const set = await redis.smembers(key);
          if (set.length > 0) out.push([name, members(set)]);
        } else if (type === 'zset') {
          const z = await redis.zrange(key, 0, -1, 'WITHSCORES');
          const pairs: string[] = [];
          for (let i = 0; i < z.length; i += 2) pairs.push(`${z[i]}=${z[i + 1]}`);
          if (pairs.length > 0) out.push([name, members(pairs)]);
        } else if (type === 'string') {
          const value = (await redis.get(key)) as string;
          // a user whose notifications are all gone keeps a zero count; PostgreSQL has no row for them
          if (!(name.startsWith('notification:unread:') && value === '0')) out.push([name, value]);
        }
      }
    }
  }
  return sorted(out);
}

/** The key family a Redis key belongs to: `user:following:7` is in `user:following`. */
const familyOf = (key: string) => key.replace(/(:-?\d+)+$/, '');
const clip = (value: string | undefined) => (value === undefined ? '(absent)' : value.length > 200 ? `${value.slice(0, 200)}…` : value);

/** Every key whose value differs between the two lists (missing, extra or different). */
export function entryDrift(expected: Entries, actual: Entries): Drift[] {
  const [want, got] = [new Map(expected), new Map(actual)];
  const drift: Drift[] = [];
  for (const key of new Set([...want.keys(), ...got.keys()])) {
    const [e, a] = [want.get(key), got.get(key)];
    if (e !== a) drift.push({ view: familyOf(key), key, detail: `expected ${clip(e)}, found ${clip(a)}` });
  }
  return drift.sort((x, y) => (x.key < y.key ? -1 : 1));
}

export const compareRedisWithPostgres: CompareWithPostgres = async ({ generation, env, only }) => {
  assertGeneration(generation);
  const db = new pg.Client({ connectionString: novaConfig(env).databaseUrl() });
  const redis = openRedis(redisTarget(env));
  try {
    await Promise.all([db.connect(), connect(redis)]);
    const drift = entryDrift(await expectedFromPostgres(db), await actualFromRedis(redis, generation));
    return only ? drift.filter((d) => only.get(d.view)?.has(d.key)) : drift;
  } finally {
    redis.disconnect();
    await db.end();
  }
};
