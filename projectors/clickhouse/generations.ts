// The generation seam. Each generation has tables of its own (user_behavior_events_v<N>); readers
// query a view with the stable name (user_behavior_events) over the live one. A rebuild fills a
// new generation beside it, then swapView points the name at it: a view is created beside the
// live one and the two are exchanged by one RENAME TABLE, which 18.16 runs under a global lock
// (it has no EXCHANGE TABLES or CREATE OR REPLACE VIEW), so readers see the old or the new one,
// never neither. Which generation is live is read from the view's own definition, so there is
// no second record of it to drift. clickhouseGenerations is the runtime's Generations port over
// this, for `projector rebuild|promote|drop`.
import type { ClickHouseClient } from '@clickhouse/client';
import { readerName } from '../runtime/reader-namespace.ts';
import type { Generations } from '../runtime/sink.ts';
import { checkpointTableStatement, clearCheckpoints } from './checkpoint.ts';
import { clickhouseClient, clickhouseError, createIfMissing } from './client.ts';
import { sqlIdentifier, sqlString } from './escape.ts';
import { claimGeneration } from './format.ts';
import { createTableStatements, currentStateQuery, formatTable, generationTable, projectedTables, truncationsTable, type ProjectedTable } from './tables.ts';

/**
 * Creates the generation's tables and the checkpoint table if missing, the generation marked
 * with this Nova's format first; refuses (throws) a generation another Nova wrote (format.ts).
 * A stable view that does not exist yet is pointed at this generation; one that exists is left
 * alone, because moving it is the rebuild's decision (swapView), not a side effect of starting
 * a projector.
 */
export async function ensureGeneration(client: ClickHouseClient, generation: number, options: { shadow?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  await createIfMissing(client, checkpointTableStatement);
  for (const table of projectedTables) {
    await claimGeneration(client, table, generation);
    for (const statement of createTableStatements(table, generation)) await createIfMissing(client, statement);
    const view = readerName(table, options.env ?? {});
    if (!options.shadow) await createIfMissing(client, `CREATE VIEW IF NOT EXISTS ${sqlIdentifier(view)} AS ${currentStateQuery(table, generation)}`);
  }
}

/** The generation `view` (by default the table's stable name) reads, or null when there is no such view. */
export async function liveGeneration(client: ClickHouseClient, table: ProjectedTable, view: string = table): Promise<number | null> {
  const result = await client.query({
    query: `SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = ${sqlString(view)}`,
    format: 'JSONEachRow',
  });
  const [found] = await result.json<{ create_table_query: string }>();
  if (!found) return null;
  const generation = new RegExp(`\\b${table}_v(\\d+)\\b`).exec(found.create_table_query)?.[1];
  if (generation === undefined) throw new Error(`clickhouse: view ${view} reads no generation of ${table}: ${found.create_table_query}`);
  return Number(generation);
}

/**
 * Points `view` at `generation` in one step and returns the generation it read before (null if
 * it did not exist), for the caller to drop once nothing needs it. One swap at a time per view.
 */
export async function swapView(client: ClickHouseClient, options: { table: ProjectedTable; generation: number; view?: string }): Promise<number | null> {
  const { table, generation, view = table } = options;
  const previous = await liveGeneration(client, table, view);
  const [staged, retired] = [`${view}_next`, `${view}_retired`];
  await client.command({ query: `DROP TABLE IF EXISTS ${sqlIdentifier(staged)}` });
  await client.command({ query: `DROP TABLE IF EXISTS ${sqlIdentifier(retired)}` });
  // fails if the generation's tables are missing, before anything has moved
  await client.command({ query: `CREATE VIEW ${sqlIdentifier(staged)} AS ${currentStateQuery(table, generation)}` });
  if (previous === null) {
    await client.command({ query: `RENAME TABLE ${sqlIdentifier(staged)} TO ${sqlIdentifier(view)}` });
  } else {
    await client.command({
      query: `RENAME TABLE ${sqlIdentifier(view)} TO ${sqlIdentifier(retired)}, ${sqlIdentifier(staged)} TO ${sqlIdentifier(view)}`,
    });
    await client.command({ query: `DROP TABLE ${sqlIdentifier(retired)}` });
  }
  return previous;
}

/**
 * Drops a generation's tables. A view still reading it is dropped first (`view`, by default the
 * table's stable name): a view over dropped tables would fail every read with a less telling
 * error. Its checkpoints are the checkpoint module's (clearCheckpoints).
 */
export async function dropGeneration(client: ClickHouseClient, generation: number, view?: string): Promise<void> {
  for (const table of projectedTables) {
    const name = view ?? table;
    if ((await liveGeneration(client, table, name)) === generation) await client.command({ query: `DROP TABLE IF EXISTS ${sqlIdentifier(name)}` });
    await client.command({ query: `DROP TABLE IF EXISTS ${sqlIdentifier(generationTable(table, generation))}` });
    await client.command({ query: `DROP TABLE IF EXISTS ${sqlIdentifier(truncationsTable(table, generation))}` });
    // last: a drop cut short leaves a marked generation, never unmarked rows
    await client.command({ query: `DROP TABLE IF EXISTS ${sqlIdentifier(formatTable(table, generation))}` });
  }
}

/**
 * Throws if `view` or the table's stable name reads `generation`: a port on a view of its own (a
 * test's) must not drop the tables under the view readers query and leave it dangling.
 */
export async function refuseLiveDrop(client: ClickHouseClient, table: ProjectedTable, generation: number, view: string = table): Promise<void> {
  for (const name of new Set([view, table])) {
    if ((await liveGeneration(client, table, name)) === generation) throw new Error(`clickhouse: generation ${generation} is live; promote another one first (the view ${name} reads it)`);
  }
}

async function withClient<T>(env: NodeJS.ProcessEnv, work: (client: ClickHouseClient) => Promise<T>): Promise<T> {
  const client = clickhouseClient(env);
  try {
    return await work(client);
  } catch (error) {
    throw clickhouseError(error);
  } finally {
    await client.close();
  }
}

/**
 * The Generations port over the stable views (those of env's reader namespace), for `projector
 * promote|drop|rebuild`; `view` instead is a view only its caller reads (a test's own). drop
 * refuses a generation either that view or the table's stable name reads.
 */
export function clickhouseGenerations(projector: string, options: { view?: string } = {}): Generations {
  const [table] = projectedTables as [ProjectedTable];
  const viewOf = (env: NodeJS.ProcessEnv) => options.view ?? readerName(table, env);
  return {
    live: (env) => withClient(env, async (client) => (await liveGeneration(client, table, viewOf(env))) ?? undefined),
    // one table today; a second one would join the same RENAME TABLE so both move together
    promote: (generation, env) =>
      withClient(env, async (client) => {
        await swapView(client, { table, generation, view: viewOf(env) });
      }),
    drop: (generation, env) =>
      withClient(env, async (client) => {
        await refuseLiveDrop(client, table, generation, viewOf(env));
        await dropGeneration(client, generation, viewOf(env));
        // returns once they are gone: a rebuild of this generation started next must not load them
        await clearCheckpoints(client, { projector, generation });
      }),
  };
}
