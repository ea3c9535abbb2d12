// What the Redis view must hold, computed from PostgreSQL (the source of truth), and the
// same keys read back from Redis, both as sorted [key, value] lists to compare whole: the
// reconcile tool's comparison and the end-to-end tests' oracle.
import { Redis } from 'ioredis';
import pg from 'pg';
import type { CompareWithPostgres, Drift } from '../runtime/sink.ts';
import { assertGeneration } from './generations.ts';
import { streamMetaFields } from './mapping/live-streams.ts';
import { RECENT_LIMIT, notificationItemFields } from './mapping/notifications.ts';
import { stableJson } from './mapping/row.ts';

export type Entries = Array<[string, string]>;
const sorted = (entries: Entries) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const members = (values: Iterable<string>) => JSON.stringify([...values].sort());

export async function expectedFromPostgres(db: pg.Client): Promise<Entries> {
  const out: Entries = [];
  const groups = new Map<string, Set<string>>();
  const add = (key: string, member: string) => (groups.get(key) ?? groups.set(key, new Set()).get(key)!).add(member);
  for (const f of (await db.query(`SELECT follower_id, followee_id FROM follows WHERE status = 'active'`)).rows) {
    add(`user:following:${f.follower_id}`, String(f.followee_id));
    add(`user:followers:${f.followee_id}`, String(f.follower_id));
  }
  for (const [key, set] of groups) out.push([key, members(set)]);

  const notifications = (await db.query(`SELECT ${notificationItemFields.join(', ')}, user_id FROM notifications ORDER BY id DESC`)).rows;
  const byUser = new Map<string, typeof notifications>();
  for (const n of notifications) (byUser.get(String(n.user_id)) ?? byUser.set(String(n.user_id), []).get(String(n.user_id))!).push(n);
  for (const [user, rows] of byUser) {
    const unread = rows.filter((r) => !r.is_read).length;
    // Redis keeps a zero count once a user's notifications are read; compared as absent, like actualFromRedis
    if (unread > 0) out.push([`notification:unread:${user}`, String(unread)]);
    out.push([`notification:recent:${user}`, `[${rows.slice(0, RECENT_LIMIT).map((r) => stableJson({ ...r, id: Number(r.id), actor_id: Number(r.actor_id), target_id: r.target_id === null ? null : Number(r.target_id) }, notificationItemFields)).join(',')}]`]);
  }

  const streams = (await db.query(`SELECT ${streamMetaFields.join(', ')} FROM live_streams`)).rows;
  for (const s of streams) out.push([`stream:meta:${s.id}`, stableJson({ ...s, id: Number(s.id), user_id: Number(s.user_id) }, streamMetaFields)]);
  const live = streams.filter((s) => s.status === 'live').map((s) => `${s.id}=${s.started_at ? s.started_at.getTime() : 0}`);
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

export async function actualFromRedis(redis: Redis): Promise<Entries> {
  const out: Entries = [];
  for (const pattern of ['user:following:*', 'user:followers:*', 'notification:unread:*', 'notification:recent:*', 'stream:meta:*', 'stream:live', 'conversation:unread:*', 'user:conversations:*']) {
    for (const key of await scanKeys(redis, pattern)) {
      const type = await redis.type(key);
      if (type === 'set') {
        const set = await redis.smembers(key);
        if (set.length > 0) out.push([key, members(set)]);
      } else if (type === 'zset') {
        const z = await redis.zrange(key, 0, -1, 'WITHSCORES');
        const pairs: string[] = [];
        for (let i = 0; i < z.length; i += 2) pairs.push(`${z[i]}=${z[i + 1]}`);
        if (pairs.length > 0) out.push([key, members(pairs)]);
      } else if (type === 'string') {
        const value = (await redis.get(key)) as string;
        // a user whose notifications are all gone keeps a zero count; PostgreSQL has no row for them
        if (!(key.startsWith('notification:unread:') && value === '0')) out.push([key, value]);
      }
    }
  }
  return sorted(out);
}

/** SCAN, not KEYS: a live database keeps answering other clients while it is read. */
async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...page);
    cursor = next;
  } while (cursor !== '0');
  return keys;
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
  if (!env.REDIS_URL || !env.DATABASE_URL) throw new Error('REDIS_URL and DATABASE_URL must be set');
  const db = new pg.Client({ connectionString: env.DATABASE_URL });
  const redis = new Redis(env.REDIS_URL, { db: generation, lazyConnect: true });
  try {
    await Promise.all([db.connect(), redis.connect()]);
    const drift = entryDrift(await expectedFromPostgres(db), await actualFromRedis(redis));
    return only ? drift.filter((d) => only.get(d.view)?.has(d.key)) : drift;
  } finally {
    redis.disconnect();
    await db.end();
  }
};
