// What the current state of user_behavior_events should be (from PostgreSQL) and what it is (from
// a generation in ClickHouse), as one comparable line per id. The line holds what ClickHouse can
// keep: interaction_value as a Float32, created_at in whole seconds.
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { sqlIdentifier, sqlUnsigned } from '../escape.ts';
import { currentStateQuery, generationTable, truncationsTable, userBehaviorEvents } from '../tables.ts';

/** id -> the row's comparable line */
export type State = Map<string, string>;

/** A Float32 as text both sides agree on; NaN has many bit patterns, so it is one word. */
function float32(value: number | null): string {
  if (value === null) return 'null';
  return Number.isNaN(value) ? 'nan' : String(Math.fround(value));
}

const line = (row: { user_id: string; target_type: string; target_id: string; interaction_type: string; created_at: string | null }, value: number | null) =>
  JSON.stringify([row.user_id, row.target_type, row.target_id, row.interaction_type, float32(value), row.created_at]);

export async function expectedFromPostgres(db: pg.Client, ids: Iterable<string>): Promise<State> {
  const { rows } = await db.query(
    `SELECT id::text, user_id::text, target_type, target_id::text, interaction_type, interaction_value,
       floor(extract(epoch FROM created_at))::bigint::text AS created_at
     FROM user_interactions WHERE id = ANY($1::bigint[])`,
    [[...ids]],
  );
  return new Map(rows.map((row) => [row.id, line(row, row.interaction_value)]));
}

/** ClickHouse's text for a Float32 ('nan', 'inf', '-inf' or a number) as a number. */
const chFloat = (text: string | null) => (text === null ? null : ({ nan: Number.NaN, '-nan': Number.NaN, inf: Infinity, '-inf': -Infinity } as Record<string, number>)[text] ?? Number(text));

/** The generation's current state as readers get it, for `ids` or whole. */
export async function actualFromClickhouse(ch: ClickHouseClient, generation: number, ids?: Iterable<string>): Promise<State> {
  const only = ids ? [...ids] : undefined;
  if (only?.length === 0) return new Map();
  const where = only ? `WHERE id IN (${only.map((id) => sqlUnsigned(BigInt(id))).join(', ')})` : '';
  // filtered in a subquery: at this level `id` names the toString alias
  const result = await ch.query({
    query: `SELECT toString(id) AS id, toString(user_id) AS user_id, target_type, toString(target_id) AS target_id, interaction_type,
        toString(interaction_value) AS interaction_value, toString(toUnixTimestamp(created_at)) AS created_at
      FROM (SELECT * FROM (${currentStateQuery(userBehaviorEvents, generation)}) ${where})`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ id: string; user_id: string; target_type: string; target_id: string; interaction_type: string; interaction_value: string | null; created_at: string | null }>();
  return new Map(rows.map((row) => [row.id, line(row, chFloat(row.interaction_value))]));
}

/** The newest version (LSN) ClickHouse holds per id, tombstones included, and the newest truncate's. */
export async function versions(ch: ClickHouseClient, generation: number, ids: string[]): Promise<{ byId: Map<string, bigint>; truncatedAt: bigint }> {
  // aliases unlike the columns: ClickHouse would substitute an alias named `lsn` into max(lsn)
  const rows = async (query: string) => (await ch.query({ query, format: 'JSONEachRow' })).json<{ row_id: string; newest_lsn: string }>();
  const newest = ids.length === 0 ? [] : await rows(`SELECT toString(id) AS row_id, toString(max(lsn)) AS newest_lsn
    FROM ${sqlIdentifier(generationTable(userBehaviorEvents, generation))} WHERE id IN (${ids.map((id) => sqlUnsigned(BigInt(id))).join(', ')}) GROUP BY id`);
  const [watermark] = await rows(`SELECT '' AS row_id, toString(max(lsn)) AS newest_lsn FROM ${sqlIdentifier(truncationsTable(userBehaviorEvents, generation))}`);
  return { byId: new Map(newest.map(({ row_id, newest_lsn }) => [row_id, BigInt(newest_lsn)])), truncatedAt: BigInt(watermark?.newest_lsn ?? '0') };
}

export type Difference = { id: string; line: string };

/** Every id on which the two states differ (over `ids`, else all of both), with a line saying how. */
export function differences(expected: State, actual: State, ids: Iterable<string> = new Set([...expected.keys(), ...actual.keys()])): Difference[] {
  const problems: Difference[] = [];
  for (const id of ids) {
    const [want, got] = [expected.get(id), actual.get(id)];
    if (want !== got) problems.push({ id, line: `${id}: expected ${want ?? '(absent)'}, got ${got ?? '(absent)'}` });
  }
  return problems;
}

/** The first few lines: a failure message, never megabytes. */
export const summary = (problems: Difference[], limit = 8) =>
  `${problems.length} rows differ; first ${Math.min(limit, problems.length)}:\n  ${problems.slice(0, limit).map((p) => p.line).join('\n  ')}`;
