// What a generation's graph must hold, computed from PostgreSQL (the source of truth) by the
// mapping's rules, and compared with what readers see of the generation (reader-view.ts): the
// reconcile tool's comparison and the end-to-end tests' oracle.
import pg from 'pg';
import { novaConfig } from '../../config/nova-config.ts';
import type { CompareWithPostgres, Drift, DriftKeys } from '../runtime/sink.ts';
import { connectNeo4j } from './connection.ts';
import { userLabel } from './graph-names.ts';
import { followProps, graphViews, pairKey, readerView, userProps, type GraphView, type Props, type Scope } from './reader-view.ts';

const integer = /^-?\d+$/;

/** The keys of a reconcile re-check as a scope; a key that names no user or pair is left out. */
export function scopeOf(only: DriftKeys): Scope {
  const users = [...(only.get('User') ?? [])].filter((key) => integer.test(key));
  const pairs = [...(only.get('FOLLOWS') ?? [])].map((key) => key.split('->')).filter((p): p is [string, string] => p.length === 2 && p.every((id) => integer.test(id)));
  return { users, pairs, touching: [] };
}

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
  const driver = connectNeo4j(env);
  const db = new pg.Client({ connectionString: novaConfig(env).databaseUrl() });
  const scope = only && scopeOf(only);
  try {
    await db.connect();
    return differences(await expectedFromPostgres(db, scope), await readerView(driver, generation, scope));
  } finally {
    await Promise.all([db.end(), driver.close()]);
  }
};
