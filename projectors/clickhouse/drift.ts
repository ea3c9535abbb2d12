// What the current state of user_behavior_events should be (from PostgreSQL) and what it is (from
// a generation in ClickHouse), one comparable row per id, whole or for some ids: the reconcile
// tool's comparison and the end-to-end tests' oracle. A row holds what ClickHouse can keep:
// interaction_value as a Float32, created_at in whole seconds.
import type { ClickHouseClient } from '@clickhouse/client';
import pg from 'pg';
import { novaConfig } from '../../config/nova-config.ts';
import type { CompareWithPostgres, Drift } from '../runtime/sink.ts';
import { clickhouseClient } from './client.ts';
import { sqlString, sqlUnsigned } from './escape.ts';
import { currentStateQuery, generationTable, truncationsTable, userBehaviorEvents } from './tables.ts';

export const comparedColumns = ['user_id', 'target_type', 'target_id', 'interaction_type', 'interaction_value', 'created_at'] as const;
type Column = (typeof comparedColumns)[number];

/** A row as both sides can spell it: ids as decimal text, the float as float32Text, created_at as ISO seconds. */
export type Row = Record<Column, string | null>;
/** id -> its row */
export type State = Map<string, Row>;
export type Difference = { id: string; detail: string };

/** A Float32 as text both sides agree on; NaN has many bit patterns, so it is one word. */
function float32Text(value: number | null): string | null {
  if (value === null) return null;
  return Number.isNaN(value) ? 'nan' : String(Math.fround(value));
}

const isoSeconds = (seconds: string | null) => (seconds === null ? null : new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z'));

type RawRow = { id: string; user_id: string; target_type: string; target_id: string; interaction_type: string; created_at: string | null };

const rowOf = (raw: RawRow, value: number | null): Row => ({
  user_id: raw.user_id,
  target_type: raw.target_type,
  target_id: raw.target_id,
  interaction_type: raw.interaction_type,
  interaction_value: float32Text(value),
  created_at: isoSeconds(raw.created_at),
});

/** Every row of user_interactions, or those of `ids`, as ClickHouse should hold it. */
export async function expectedFromPostgres(db: pg.Client, ids?: Iterable<string>): Promise<State> {
  const only = ids ? [...ids] : undefined;
  if (only?.length === 0) return new Map();
  const { rows } = await db.query<RawRow & { interaction_value: number | null }>(
    `SELECT id::text, user_id::text, target_type, target_id::text, interaction_type, interaction_value,
       floor(extract(epoch FROM created_at))::bigint::text AS created_at
     FROM user_interactions ${only ? 'WHERE id = ANY($1::bigint[])' : ''}`,
    only ? [only] : [],
  );
  return new Map(rows.map((row) => [row.id, rowOf(row, row.interaction_value)]));
}

/** ClickHouse's text for a Float32 ('nan', 'inf', '-inf' or a number) as a number. */
const chFloat = (text: string | null) => (text === null ? null : ({ nan: Number.NaN, '-nan': Number.NaN, inf: Infinity, '-inf': -Infinity } as Record<string, number>)[text] ?? Number(text));

// an IN list this long stays well under max_query_size (256 KiB)
const chunkSize = 5_000;
const chunks = <T>(list: T[]) => Array.from({ length: Math.ceil(list.length / chunkSize) }, (_, i) => list.slice(i * chunkSize, (i + 1) * chunkSize));

/** `ids` as a ClickHouse IN list; each id must be an unsigned integer (a drift key may come from anyone). */
export const idList = (ids: string[]) =>
  ids.map((id) => {
    if (!/^\d+$/.test(id)) throw new TypeError(`clickhouse: ${JSON.stringify(id)} is not a user_interactions id`);
    return sqlUnsigned(BigInt(id));
  }).join(', ');

/** The generation's current state as readers get it, for `ids` or whole. */
export async function actualFromClickhouse(ch: ClickHouseClient, generation: number, ids?: Iterable<string>): Promise<State> {
  const state: State = new Map();
  for (const where of ids ? chunks([...ids]).map((some) => `WHERE id IN (${idList(some)})`) : ['']) {
    // filtered in a subquery: at this level `id` names the toString alias
    const result = await ch.query({
      query: `SELECT toString(id) AS id, toString(user_id) AS user_id, target_type, toString(target_id) AS target_id, interaction_type,
          toString(interaction_value) AS interaction_value, toString(toUnixTimestamp(created_at)) AS created_at
        FROM (SELECT * FROM (${currentStateQuery(userBehaviorEvents, generation)}) ${where})`,
      format: 'JSONEachRow',
    });
    for (const row of await result.json<RawRow & { interaction_value: string | null }>()) state.set(row.id, rowOf(row, chFloat(row.interaction_value)));
  }
  return state;
}

const show = (column: Column, value: string | null) => (value === null ? 'NULL' : column === 'target_type' || column === 'interaction_type' ? JSON.stringify(value) : value);
const showRow = (row: Row) => comparedColumns.map((column) => `${column} ${show(column, row[column])}`).join(', ');

/** How `found` differs from `expected`, in a short line; undefined when they agree. */
export function rowDifference(expected: Row | undefined, found: Row | undefined): string | undefined {
  if (expected && !found) return `missing: PostgreSQL has ${showRow(expected)}`;
  if (!expected && found) return `not in PostgreSQL: found ${showRow(found)}`;
  if (!expected || !found) return undefined;
  const differing = comparedColumns.filter((column) => expected[column] !== found[column]);
  if (differing.length === 0) return undefined;
  return `differs in ${differing.map((column) => `${column}: expected ${show(column, expected[column])}, found ${show(column, found[column])}`).join('; ')}`;
}

/** Every id on which the two states differ (over `ids`, else all of both), in id order. */
export function differences(expected: State, actual: State, ids: Iterable<string> = new Set([...expected.keys(), ...actual.keys()])): Difference[] {
  const found: Difference[] = [];
  for (const id of ids) {
    const detail = rowDifference(expected.get(id), actual.get(id));
    if (detail !== undefined) found.push({ id, detail });
  }
  return found.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0));
}

/** Refuses a generation whose tables do not exist: comparing against nothing would call every row missing. */
async function assertGenerationExists(ch: ClickHouseClient, generation: number): Promise<void> {
  const names = [generationTable(userBehaviorEvents, generation), truncationsTable(userBehaviorEvents, generation)];
  const result = await ch.query({
    query: `SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN (${names.map(sqlString).join(', ')})`,
    format: 'JSONEachRow',
  });
  if ((await result.json<{ name: string }>()).length < names.length) throw new Error(`clickhouse: generation ${generation} has no tables (is it the right --generation?)`);
}

/** The rows of a generation's user_behavior_events that differ from PostgreSQL, as drift. */
export const compareClickhouseWithPostgres: CompareWithPostgres = async ({ generation, env, only }) => {
  // it names tables embedded in queries: a plain number or nothing
  sqlUnsigned(generation);
  const databaseUrl = novaConfig(env).databaseUrl();
  const ids = only ? [...(only.get(userBehaviorEvents) ?? [])] : undefined;
  if (ids?.length === 0) return [];
  const db = new pg.Client({ connectionString: databaseUrl });
  const ch = clickhouseClient(env);
  try {
    await db.connect();
    await assertGenerationExists(ch, generation);
    // ClickHouse first: a row that changes in between then looks behind, which catching up settles
    const actual = await actualFromClickhouse(ch, generation, ids);
    const expected = await expectedFromPostgres(db, ids);
    return differences(expected, actual, ids).map(({ id, detail }): Drift => ({ view: userBehaviorEvents, key: id, detail }));
  } finally {
    await Promise.all([db.end(), ch.close()]);
  }
};
