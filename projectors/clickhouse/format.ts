// Which Nova's rules a generation was written by. Format 2: a row's version is
// runtime/decode/version.ts's (0 for a snapshot read, which only fills), and truncates are
// ordered by commit order. The previous Nova stored a snapshot read's LSN as its version, so a
// generation it filled holds reads that outrank changes committed after them: wrong in exactly
// the way format 2 fixes, and nothing in its rows tells which ones. So every generation this
// Nova creates says its format, in user_behavior_events_format_v<N>, written before its data
// tables exist; one without it that holds rows is refused, and so is one whose tables have
// other columns (the previous Nova's had `lsn`: no insert of ours would fit them).
import type { ClickHouseClient } from '@clickhouse/client';
import { createIfMissing } from './client.ts';
import { sqlIdentifier, sqlString, sqlUnsigned } from './escape.ts';
import { dataTables, formatTable, type ProjectedTable } from './tables.ts';

export const generationFormat = 2;

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

async function isMarked(client: ClickHouseClient, table: ProjectedTable, generation: number): Promise<boolean> {
  const name = formatTable(table, generation);
  const [found] = await rows(client, `SELECT name FROM system.tables WHERE database = currentDatabase() AND name = ${sqlString(name)}`);
  if (!found) return false;
  const [marker] = await rows(client, `SELECT format FROM ${sqlIdentifier(name)} WHERE format = ${sqlUnsigned(generationFormat)} LIMIT 1`);
  return marker !== undefined;
}

/** Why this Nova cannot continue the generation's data tables, or undefined when it can. */
async function foreignness(client: ClickHouseClient, table: ProjectedTable, generation: number, marked: boolean): Promise<string | undefined> {
  const expected = dataTables(table, generation);
  const names = expected.map(([name]) => sqlString(name)).join(', ');
  const columns = await rows<{ table: string; name: string; type: string }>(client, `SELECT table, name, type FROM system.columns WHERE database = currentDatabase() AND table IN (${names})`);
  for (const [name, ours] of expected) {
    const found = columns.filter((column) => column.table === name).map((column) => `${column.name} ${column.type}`);
    if (found.length === 0) continue;
    if (found.sort().join(', ') !== ours.map(([column, type]) => `${column} ${type}`).sort().join(', ')) return `${name} has the columns ${found.join(', ')}`;
    if (marked) continue;
    const [count] = await rows<{ n: string }>(client, `SELECT count() AS n FROM ${sqlIdentifier(name)}`);
    if (count?.n !== '0') return `${name} holds rows and the generation has no format ${generationFormat} marker`;
  }
  return undefined;
}

/**
 * Marks the generation with this Nova's format, or refuses it (throws) when another Nova wrote
 * it. Runs before its data tables are created, so a table of ours without the marker was never
 * written to.
 */
export async function claimGeneration(client: ClickHouseClient, table: ProjectedTable, generation: number): Promise<void> {
  const marked = await isMarked(client, table, generation);
  const reason = await foreignness(client, table, generation, marked);
  if (reason !== undefined) {
    throw new Error(
      `generation ${generation} is not of format ${generationFormat}, the one this Nova writes (${reason}): its stored versions mean something else. ` +
        `Rebuild into a new generation M: \`scripts/nova projector rebuild clickhouse --generation M --snapshot\`, then \`scripts/nova projector promote clickhouse --generation M\``,
    );
  }
  if (marked) return;
  const name = sqlIdentifier(formatTable(table, generation));
  await createIfMissing(client, `CREATE TABLE IF NOT EXISTS ${name} (format UInt32, written_at DateTime) ENGINE = MergeTree() ORDER BY tuple()`);
  await client.insert({ table: name, format: 'JSONEachRow', values: [{ format: generationFormat, written_at: Math.floor(Date.now() / 1000) }] });
}
