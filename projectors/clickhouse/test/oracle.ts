// What only the end-to-end tests need on top of the reconcile comparison (../drift.ts): the
// versions a generation holds per id, and a short summary of differences.
import type { ClickHouseClient } from '@clickhouse/client';
import { idList, type Difference } from '../drift.ts';
import { sqlIdentifier } from '../escape.ts';
import { generationTable, truncationsTable, userBehaviorEvents } from '../tables.ts';

export { actualFromClickhouse, differences, expectedFromPostgres, type Difference, type Row, type State } from '../drift.ts';

/** The newest version (LSN) ClickHouse holds per id, tombstones included, and the newest truncate's. */
export async function versions(ch: ClickHouseClient, generation: number, ids: string[]): Promise<{ byId: Map<string, bigint>; truncatedAt: bigint }> {
  // aliases unlike the columns: ClickHouse would substitute an alias named `lsn` into max(lsn)
  const rows = async (query: string) => (await ch.query({ query, format: 'JSONEachRow' })).json<{ row_id: string; newest_lsn: string }>();
  const newest = ids.length === 0 ? [] : await rows(`SELECT toString(id) AS row_id, toString(max(lsn)) AS newest_lsn
    FROM ${sqlIdentifier(generationTable(userBehaviorEvents, generation))} WHERE id IN (${idList(ids)}) GROUP BY id`);
  const [watermark] = await rows(`SELECT '' AS row_id, toString(max(lsn)) AS newest_lsn FROM ${sqlIdentifier(truncationsTable(userBehaviorEvents, generation))}`);
  return { byId: new Map(newest.map(({ row_id, newest_lsn }) => [row_id, BigInt(newest_lsn)])), truncatedAt: BigInt(watermark?.newest_lsn ?? '0') };
}

/** The first few lines: a failure message, never megabytes. */
export const summary = (problems: Difference[], limit = 8) =>
  `${problems.length} rows differ; first ${Math.min(limit, problems.length)}:\n  ${problems.slice(0, limit).map((p) => `${p.id} ${p.detail}`).join('\n  ')}`;
