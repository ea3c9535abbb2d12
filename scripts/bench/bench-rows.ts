// The rows the projector benchmarks write to PostgreSQL: a fixed set of bench users and
// conversations between them, set-based inserts that fill topics in bulk, and the
// single-row statements of a steady application-like load.
import type pg from 'pg';

export const benchUsers = 1000;
const benchConversations = 500;
const benchFollows = 1000;
/** rows per set-based statement: Debezium sees ordinary multi-row transactions, as from a bulk writer */
export const fillBatchRows = 20_000;

export type Fixture = { users: number[]; conversations: { id: number; a: number; b: number }[]; follows: number[] };

/** The topic each table's changes go to (connectors/postgres-nova.json). */
export const topicOf = {
  users: 'nova.social.users',
  posts: 'nova.social.posts',
  follows: 'nova.social.follows',
  conversations: 'nova.message.conversations',
  messages: 'nova.message.messages',
  notifications: 'nova.notification.notifications',
} as const;

export type Table = keyof typeof topicOf;

/** Inserts `rows` rows into `table` in one statement; returns how many it inserted. */
export type BulkInsert = (db: pg.ClientBase, fixture: Fixture, rows: number, tag: string) => Promise<number>;

const count = async (db: pg.ClientBase, sql: string, params: unknown[]) => (await db.query(sql, params)).rowCount ?? 0;

// ordered pairs of distinct bench users, enumerated by k = 0 .. n(n-1)-1, so each fill takes new ones
const followPairs = `
  INSERT INTO follows (follower_id, followee_id)
  SELECT u[(1 + k % n)::int], u[(1 + (k % n + 1 + (k / n) % (n - 1)) % n)::int]
    FROM (SELECT $1::bigint[] AS u, cardinality($1::bigint[]) AS n) a,
         generate_series($2::bigint, $2::bigint + $3::int - 1) AS k
  ON CONFLICT (follower_id, followee_id) DO NOTHING`;

export const bulkInserts: Record<Exclude<Table, 'conversations'>, BulkInsert> = {
  notifications: (db, f, rows) =>
    count(db, `
      INSERT INTO notifications (user_id, type, actor_id, target_type, target_id, content)
      SELECT u[1 + g % n], (ARRAY['like', 'comment', 'follow', 'mention'])[1 + g % 4], u[1 + (g * 7 + 3) % n], 'post', g,
             jsonb_build_object('bench', true, 'n', g)
        FROM (SELECT $1::bigint[] AS u, cardinality($1::bigint[]) AS n) a, generate_series(1, $2::int) AS g`, [f.users, rows]),
  messages: (db, f, rows) =>
    count(db, `
      INSERT INTO messages (conversation_id, sender_id, content)
      SELECT c[i], CASE WHEN g % 2 = 0 THEN pa[i] ELSE pb[i] END, 'bench message ' || g || ' ' || md5(g::text)
        FROM (SELECT $1::bigint[] AS c, $2::bigint[] AS pa, $3::bigint[] AS pb) a,
             LATERAL (SELECT g, 1 + (g * 31) % cardinality(a.c) AS i FROM generate_series(1, $4::int) AS g) s`,
      [f.conversations.map((c) => c.id), f.conversations.map((c) => c.a), f.conversations.map((c) => c.b), rows]),
  follows: async (db, f, rows) => {
    const { rows: [used] } = await db.query(`SELECT count(*)::bigint AS n FROM follows WHERE follower_id = ANY($1::bigint[])`, [f.users]);
    return count(db, followPairs, [f.users, Number(used.n), rows]);
  },
  posts: (db, f, rows) =>
    count(db, `
      INSERT INTO posts (author_id, text)
      SELECT u[1 + g % cardinality(u)], 'bench post ' || g || ' ' || md5(g::text) || ' lorem ipsum dolor sit amet'
        FROM (SELECT $1::bigint[] AS u) a, generate_series(1, $2::int) AS g`, [f.users, rows]),
  users: (db, _f, rows, tag) =>
    count(db, `
      INSERT INTO users (username, bio, avatar_url)
      SELECT 'bench-fill-' || $1 || '-' || g, 'bench bio ' || md5(g::text), 'https://example.invalid/avatar/' || g || '.png'
        FROM generate_series(1, $2::int) AS g`, [tag, rows]),
};

/** The bench users, conversations and follows, created once; returns them and the rows it inserted per table. */
export async function ensureFixture(db: pg.ClientBase): Promise<{ fixture: Fixture; inserted: Partial<Record<Table, number>> }> {
  const inserted: Partial<Record<Table, number>> = {};
  inserted.users = await count(db, `INSERT INTO users (username) SELECT 'bench-proj-' || g FROM generate_series(1, $1::int) AS g ON CONFLICT (username) DO NOTHING`, [benchUsers]);
  const users = (await db.query(`SELECT id FROM users WHERE username LIKE 'bench-proj-%' ORDER BY id`)).rows.map((r) => Number(r.id));
  const half = Math.floor(users.length / 2);
  inserted.conversations = await count(db, `
    INSERT INTO conversations (participant1_id, participant2_id)
    SELECT LEAST(u[i], u[i + $2]), GREATEST(u[i], u[i + $2]) FROM (SELECT $1::bigint[] AS u) a, generate_series(1, $3::int) AS i
    ON CONFLICT (participant1_id, participant2_id) DO NOTHING`, [users, half, Math.min(benchConversations, half)]);
  const conversations = (
    await db.query(`SELECT id, participant1_id AS a, participant2_id AS b FROM conversations WHERE participant1_id = ANY($1::bigint[]) AND participant2_id = ANY($1::bigint[]) ORDER BY id`, [users])
  ).rows.map((r) => ({ id: Number(r.id), a: Number(r.a), b: Number(r.b) }));
  const fixture: Fixture = { users, conversations, follows: [] };
  const follows = async () => (await db.query(`SELECT id FROM follows WHERE follower_id = ANY($1::bigint[]) ORDER BY id LIMIT $2`, [users, benchFollows])).rows.map((r) => Number(r.id));
  fixture.follows = await follows();
  if (fixture.follows.length < benchFollows) {
    inserted.follows = await bulkInserts.follows(db, fixture, benchFollows - fixture.follows.length, '');
    fixture.follows = await follows();
  }
  return { fixture, inserted };
}

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)] as T;

/** One single-row statement per table: what the steady load commits, one transaction each. */
export const singleRowWrites: Record<Exclude<Table, 'conversations'>, (f: Fixture) => { text: string; values: unknown[] }> = {
  notifications: (f) => ({ text: `INSERT INTO notifications (user_id, type, actor_id, content) VALUES ($1, 'like', $2, $3)`, values: [pick(f.users), pick(f.users), JSON.stringify({ bench: true })] }),
  messages: (f) => {
    const c = pick(f.conversations);
    return { text: `INSERT INTO messages (conversation_id, sender_id, content) VALUES ($1, $2, $3)`, values: [c.id, Math.random() < 0.5 ? c.a : c.b, `bench message ${Date.now()}`] };
  },
  follows: (f) => ({ text: `UPDATE follows SET status = CASE WHEN status = 'active' THEN 'muted' ELSE 'active' END WHERE id = $1`, values: [pick(f.follows)] }),
  posts: (f) => ({ text: `INSERT INTO posts (author_id, text) VALUES ($1, $2)`, values: [pick(f.users), `bench post ${Date.now()}`] }),
  users: (f) => ({ text: `UPDATE users SET bio = $2 WHERE id = $1`, values: [pick(f.users), `bench bio ${Date.now()}`] }),
};

/** Which tables each projector's benchmarks write: the mix of changes it sees. */
export const tablesFor: Record<string, { table: Exclude<Table, 'conversations'>; share: number }[]> = {
  redis: [
    { table: 'notifications', share: 0.5 },
    { table: 'messages', share: 0.35 },
    { table: 'follows', share: 0.15 },
  ],
  elasticsearch: [
    { table: 'messages', share: 0.4 },
    { table: 'posts', share: 0.4 },
    { table: 'users', share: 0.2 },
  ],
};
