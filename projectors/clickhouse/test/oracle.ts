// What only the end-to-end tests need on top of the reconcile comparison (../drift.ts): the
// versions a generation holds per id, ids its readers would see twice, and a short summary of
// differences.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Ordered } from '../../runtime/decode/index.ts';
import { idList, type Difference } from '../drift.ts';
import { sqlIdentifier } from '../escape.ts';
import { currentStateQuery, generationTable, truncationsTable, userBehaviorEvents } from '../tables.ts';

export { actualFromClickhouse, differences, expectedFromPostgres, type Difference, type Row, type State } from '../drift.ts';

/** The newest version ClickHouse holds per id (tombstones included) with its commit order, and the newest truncate (null: none). */
export async function versions(ch: ClickHouseClient, generation: number, ids: string[]): Promise<{ byId: Map<string, Ordered>; truncate: Ordered | null }> {
  // aliases unlike the columns: ClickHouse would substitute an alias named `version` into max(version)
  const rows = async <T>(query: string) => (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
  const newest = ids.length === 0 ? [] : await rows<{ row_id: string; newest_version: string; its_commit_order: string }>(
    `SELECT toString(id) AS row_id, toString(max(version)) AS newest_version, toString(argMax(commit_order, version)) AS its_commit_order
      FROM ${sqlIdentifier(generationTable(userBehaviorEvents, generation))} WHERE id IN (${idList(ids)}) GROUP BY id`,
  );
  const [truncate] = await rows<{ truncates: string; newest_commit_order: string; newest_version: string }>(
    `SELECT toString(count()) AS truncates, toString(max((commit_order, version)).1) AS newest_commit_order, toString(max((commit_order, version)).2) AS newest_version
      FROM ${sqlIdentifier(truncationsTable(userBehaviorEvents, generation))}`,
  );
  return {
    byId: new Map(newest.map((row) => [row.row_id, { version: BigInt(row.newest_version), commitOrder: BigInt(row.its_commit_order) }])),
    truncate: !truncate || truncate.truncates === '0' ? null : { commitOrder: BigInt(truncate.newest_commit_order), version: BigInt(truncate.newest_version) },
  };
}

/** The ids among `ids` that the current state (what readers query) holds more than once. */
export async function doubled(ch: ClickHouseClient, generation: number, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const result = await ch.query({
    query: `SELECT toString(id) AS row_id FROM (${currentStateQuery(userBehaviorEvents, generation)}) WHERE id IN (${idList(ids)}) GROUP BY id HAVING count() > 1`,
    format: 'JSONEachRow',
  });
  return (await result.json<{ row_id: string }>()).map((row) => row.row_id);
}

/** The first few lines: a failure message, never megabytes. */
export const summary = (problems: Difference[], limit = 8) =>
  `${problems.length} rows differ; first ${Math.min(limit, problems.length)}:\n  ${problems.slice(0, limit).map((p) => `${p.id} ${p.detail}`).join('\n  ')}`;
