// What a generation's graph must hold, computed from PostgreSQL (the source of truth) by the
// mapping's rules, and the same read back from the generation: the reconcile tool's comparison
// and the end-to-end tests' oracle. Two views: `User` (key: the user id) -> its properties,
// tombstones left out; `FOLLOWS` (key: "follower->followee") -> the relationship's properties,
// one per active follows row. Either whole, or within a scope (some users, some pairs, and the
// pairs some users are in), so a key that changed while it was read can be compared again.
import neo4j, { type Driver } from 'neo4j-driver';
import pg from 'pg';
import type { CompareWithPostgres, Drift, DriftKeys } from '../runtime/sink.ts';
import { connectNeo4j, withSession } from './connection.ts';
import { followsType, userLabel } from './graph-names.ts';

export type GraphViewName = 'User' | 'FOLLOWS';
export const graphViews: readonly GraphViewName[] = ['User', 'FOLLOWS'];
export type Props = Record<string, unknown>;
/** key -> properties, per view */
export type GraphView = Record<GraphViewName, Map<string, Props>>;
/** What to read instead of everything: these users, these pairs, and every pair one of `touching` is in. */
export type Scope = { users: string[]; pairs: Array<[string, string]>; touching: string[] };

export const pairKey = (follower: unknown, followee: unknown) => `${follower}->${followee}`;
const integer = /^-?\d+$/;

/** The keys of a reconcile re-check as a scope; a key that names no user or pair is left out. */
export function scopeOf(only: DriftKeys): Scope {
  const users = [...(only.get('User') ?? [])].filter((key) => integer.test(key));
  const pairs = [...(only.get('FOLLOWS') ?? [])].map((key) => key.split('->')).filter((p): p is [string, string] => p.length === 2 && p.every((id) => integer.test(id)));
  return { users, pairs, touching: [] };
}

// created_at leaves both sides as epoch seconds, as mapping/graph-op.ts's epochSeconds makes it
const secondsOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const userProps = (r: Props): Props => ({ username: r['username'] ?? null, avatar_url: r['avatar_url'] ?? null, bio: r['bio'] ?? null, created_at: secondsOrNull(r['created_at']) });
const followProps = (r: Props): Props => ({ created_at: secondsOrNull(r['created_at']) });
const seconds = (column: string) => `floor(extract(epoch FROM ${column}))::bigint AS ${column}`;

export async function expectedFromPostgres(db: pg.Client, scope?: Scope): Promise<GraphView> {
  const users = !scope
    ? await db.query(`SELECT id, username, avatar_url, bio, ${seconds('created_at')} FROM users`)
    : await db.query(`SELECT id, username, avatar_url, bio, ${seconds('created_at')} FROM users WHERE id = ANY($1::bigint[])`, [scope.users]);
  const follows = !scope
    ? await db.query(`SELECT follower_id, followee_id, ${seconds('created_at')} FROM follows WHERE status = 'active'`)
    : await db.query(
        `SELECT follower_id, followee_id, ${seconds('created_at')} FROM follows
          WHERE status = 'active'
            AND (follower_id = ANY($1::bigint[]) OR followee_id = ANY($1::bigint[])
                 OR (follower_id, followee_id) IN (SELECT * FROM unnest($2::bigint[], $3::bigint[])))`,
        [scope.touching, scope.pairs.map(([a]) => a), scope.pairs.map(([, b]) => b)],
      );
  return {
    User: new Map(users.rows.map((r) => [String(r['id']), userProps(r)])),
    FOLLOWS: new Map(follows.rows.map((r) => [pairKey(r['follower_id'], r['followee_id']), followProps(r)])),
  };
}

/** The generation's users (not tombstones: PostgreSQL has no row for them) and FOLLOWS relationships. */
export async function actualFromNeo4j(driver: Driver, generation: number, scope?: Scope): Promise<GraphView> {
  const L = userLabel(generation);
  const ints = (ids: string[]) => ids.map((id) => neo4j.int(id));
  const userFields = 'u.id AS id, u.username AS username, u.avatar_url AS avatar_url, u.bio AS bio, u.created_at AS created_at';
  const followFields = 'a.id AS follower, b.id AS followee, r.created_at AS created_at';
  return withSession(driver, async (session) => {
    const users = !scope
      ? await session.run(`MATCH (u:${L}) WHERE u.deleted IS NULL RETURN ${userFields}`)
      : await session.run(`UNWIND $ids AS id MATCH (u:${L} {id: id}) WHERE u.deleted IS NULL RETURN ${userFields}`, { ids: ints(scope.users) });
    // each one by its endpoints' index: `a.id IN $ids OR b.id IN $ids` would scan the generation
    const follows = !scope
      ? await session.run(`MATCH (a:${L})-[r:${followsType}]->(b:${L}) RETURN ${followFields}`)
      : await session.run(
          `CALL () {
             UNWIND $touching AS id MATCH (a:${L} {id: id})-[r:${followsType}]->(b:${L}) RETURN a, r, b
             UNION UNWIND $touching AS id MATCH (a:${L})-[r:${followsType}]->(b:${L} {id: id}) RETURN a, r, b
             UNION UNWIND $pairs AS p MATCH (a:${L} {id: p[0]})-[r:${followsType}]->(b:${L} {id: p[1]}) RETURN a, r, b
           }
           RETURN ${followFields}`,
          { touching: ints(scope.touching), pairs: scope.pairs.map(ints) },
        );
    const view: GraphView = { User: new Map(), FOLLOWS: new Map() };
    for (const r of users.records) view.User.set(String(r.get('id')), userProps(r.toObject()));
    for (const r of follows.records) {
      const key = pairKey(r.get('follower'), r.get('followee'));
      const seen = view.FOLLOWS.get(key);
      // a pair holds one relationship at most; more show up as a count PostgreSQL never has
      view.FOLLOWS.set(key, seen ? { ...seen, relationships: Number(seen['relationships'] ?? 1) + 1 } : followProps(r.toObject()));
    }
    return view;
  });
}

const show = (props: Props) => {
  const text = JSON.stringify(props);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};

const differingFields = (a: Props, b: Props) => [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));

/** Every key whose properties differ between the two views (missing, extra or different), as drift. */
export function differences(expected: GraphView, actual: GraphView): Drift[] {
  const drift: Drift[] = [];
  for (const view of graphViews) {
    const [want, got] = [expected[view], actual[view]];
    for (const key of [...new Set([...want.keys(), ...got.keys()])].sort()) {
      const [e, a] = [want.get(key), got.get(key)];
      if (e && !a) drift.push({ view, key, detail: `missing: PostgreSQL has ${show(e)}` });
      else if (!e && a) drift.push({ view, key, detail: `not in PostgreSQL: ${show(a)}` });
      else if (e && a) {
        const fields = differingFields(e, a);
        if (fields.length > 0) drift.push({ view, key, detail: `differs in ${fields.join(', ')}: expected ${show(e)}, found ${show(a)}` });
      }
    }
  }
  return drift;
}

/** The users and FOLLOWS of a generation that differ from PostgreSQL, as drift. */
export const compareNeo4jWithPostgres: CompareWithPostgres = async ({ generation, env, only }) => {
  userLabel(generation); // refuses a generation that is no positive integer before connecting
  if (!env.DATABASE_URL) throw new Error('neo4j: DATABASE_URL must be set');
  const driver = connectNeo4j(env);
  const db = new pg.Client({ connectionString: env.DATABASE_URL });
  const scope = only && scopeOf(only);
  try {
    await db.connect();
    return differences(await expectedFromPostgres(db, scope), await actualFromNeo4j(driver, generation, scope));
  } finally {
    await Promise.all([db.end(), driver.close()]);
  }
};
