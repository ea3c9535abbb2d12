// What only the end-to-end tests need on top of the reconcile comparison (../drift.ts): ids its
// readers would see twice (the comparison keys rows by id, so it cannot), and a short summary of
// differences.
import type { ClickHouseClient } from '@clickhouse/client';
import { idList, type Difference } from '../drift.ts';
import { currentStateQuery, userBehaviorEvents } from '../tables.ts';

export { actualFromClickhouse, differences, expectedFromPostgres, type Difference, type Row, type State } from '../drift.ts';

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
