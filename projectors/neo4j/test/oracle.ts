// What the graph must hold, computed from PostgreSQL (the source of truth) by the mapping's
// rules, and the same read back from one generation: users as id -> properties, FOLLOWS as
// "follower->followee" -> created_at. Either whole, or for some users only (then the follows
// with such a user at either end).
import neo4j, { type Driver } from 'neo4j-driver';
import type pg from 'pg';
import { followsType, userLabel } from '../graph-names.ts';

export type GraphView = { users: Map<string, string>; follows: Map<string, string> };
export type Difference = { key: string; expected: string | undefined; actual: string | undefined };

type UserColumns = { username: unknown; avatar_url: unknown; bio: unknown; created_at: unknown };
const userJson = (r: UserColumns) =>
  JSON.stringify([r.username ?? null, r.avatar_url ?? null, r.bio ?? null, r.created_at === null || r.created_at === undefined ? null : Number(r.created_at)]);

export async function expectedFromPostgres(db: pg.Client, ids?: number[]): Promise<GraphView> {
  const scope = (column: string) => (ids ? `AND ${column} = ANY($1::bigint[])` : '');
  const params = ids ? [ids] : [];
  const users = await db.query(`SELECT id, username, avatar_url, bio, floor(extract(epoch FROM created_at))::bigint AS created_at FROM users WHERE true ${scope('id')}`, params);
  const follows = await db.query(
    `SELECT follower_id, followee_id, floor(extract(epoch FROM created_at))::bigint AS created_at FROM follows
      WHERE status = 'active' ${ids ? 'AND (follower_id = ANY($1::bigint[]) OR followee_id = ANY($1::bigint[]))' : ''}`,
    params,
  );
  return {
    users: new Map(users.rows.map((r) => [String(r.id), userJson(r)])),
    follows: new Map(follows.rows.map((r) => [`${r.follower_id}->${r.followee_id}`, String(r.created_at)])),
  };
}

/** The generation's users (tombstones left out: PostgreSQL has no row for them) and FOLLOWS. */
export async function actualFromNeo4j(driver: Driver, generation: number, ids?: number[]): Promise<GraphView> {
  const L = userLabel(generation);
  const params = { ids: (ids ?? []).map((id) => neo4j.int(id)) };
  const session = driver.session();
  try {
    const users = await session.run(`MATCH (u:${L}) WHERE u.deleted IS NULL ${ids ? 'AND u.id IN $ids' : ''} RETURN u.id AS id, u.username AS username, u.avatar_url AS avatar_url, u.bio AS bio, u.created_at AS created_at`, params);
    const follows = await session.run(
      `MATCH (a:${L})-[r:${followsType}]->(b:${L}) ${ids ? 'WHERE a.id IN $ids OR b.id IN $ids' : ''} RETURN a.id AS follower, b.id AS followee, r.created_at AS created_at`,
      params,
    );
    return {
      users: new Map(users.records.map((r) => [String(r.get('id')), userJson(r.toObject() as UserColumns)])),
      follows: new Map(follows.records.map((r) => [`${r.get('follower')}->${r.get('followee')}`, String(r.get('created_at'))])),
    };
  } finally {
    await session.close();
  }
}

export function differences(expected: GraphView, actual: GraphView): Difference[] {
  const out: Difference[] = [];
  for (const part of ['users', 'follows'] as const) {
    for (const key of new Set([...expected[part].keys(), ...actual[part].keys()])) {
      const [e, a] = [expected[part].get(key), actual[part].get(key)];
      if (e !== a) out.push({ key: `${part} ${key}`, expected: e, actual: a });
    }
  }
  return out;
}

export const summary = (found: Difference[]) =>
  `${found.length} differences${found.slice(0, 5).map((d) => `\n  ${d.key}: expected ${d.expected?.slice(0, 200)}, actual ${d.actual?.slice(0, 200)}`).join('')}`;
