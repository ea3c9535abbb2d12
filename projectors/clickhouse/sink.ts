// The ClickHouse sink. ClickHouse has neither transactions nor upserts, so every row is a new
// version carrying its change's version and commit order (tables.ts: ReplacingMergeTree(version)
// keeps the highest per id, readers apply truncates) and the checkpoints are written after the
// effects: a crash in between replays versions that collapse onto the ones already there.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Position } from '../runtime/errors.ts';
import type { CheckpointStore, Rejected, Sink, StoreOp } from '../runtime/sink.ts';
import { loadCheckpoints, writeCheckpoints } from './checkpoint.ts';
import { clickhouseError, guard, isRefusedData, withDeadline } from './client.ts';
import { sqlIdentifier } from './escape.ts';
import type { ClickhouseOp } from './mapping/index.ts';
import { generationTable, truncationsTable } from './tables.ts';

export type ClickhouseSinkOptions = {
  /** handed over: close() closes it */
  client: ClickHouseClient;
  generation: number;
  projector: string;
};

type Insertable = { values: object; position: Position };

/** The ops grouped by the generation table they go to: one INSERT each. */
function byTable(ops: StoreOp<ClickhouseOp>[], generation: number): Map<string, Insertable[]> {
  const tables = new Map<string, Insertable[]>();
  for (const { op, change } of ops) {
    const table = op.kind === 'row' ? generationTable(op.table, generation) : truncationsTable(op.table, generation);
    const rows = tables.get(table) ?? [];
    rows.push({ values: op.row, position: change.position });
    tables.set(table, rows);
  }
  return tables;
}

/**
 * Inserts the rows in one request. When the server refuses the data itself, which row it was is
 * not in its answer, so the rows are inserted one by one: those refused alone are returned to be
 * dead-lettered, the rest are written. A refused INSERT writes nothing, and a row written twice
 * is a repeated version, so trying again is safe.
 */
async function insertRows(client: ClickHouseClient, table: string, rows: Insertable[]): Promise<Rejected[]> {
  try {
    await withDeadline((abort_signal) => client.insert({ table: sqlIdentifier(table), format: 'JSONEachRow', values: rows.map((r) => r.values), abort_signal }));
    return [];
  } catch (error) {
    if (!isRefusedData(error)) throw clickhouseError(error);
    if (rows.length === 1) return [{ position: (rows[0] as Insertable).position, reason: `clickhouse refused the row for ${table}: ${(error as Error).message.trim()}` }];
    const rejected: Rejected[] = [];
    for (const row of rows) rejected.push(...(await insertRows(client, table, [row])));
    return rejected;
  }
}

export function createClickhouseSink(options: ClickhouseSinkOptions): Sink<ClickhouseOp> & CheckpointStore {
  const { client, generation, projector } = options;
  const scope = { projector, generation };
  return {
    // Rows of one batch may go in any order: a row's versions are ordered by their version, and
    // what a truncate removes by commit order, whichever is inserted first.
    async apply(ops, checkpoints, onRejected) {
      const rejected: Rejected[] = [];
      for (const [table, rows] of byTable(ops, generation)) rejected.push(...(await insertRows(client, table, rows)));
      // dead-lettered before the checkpoint moves past them, so none is lost
      if (rejected.length > 0) await onRejected(rejected);
      await guard(() => writeCheckpoints(client, scope, checkpoints));
    },
    load: () => guard(() => loadCheckpoints(client, scope)),
    // createSink builds the client for this sink alone, so the sink owns it
    close: () => client.close(),
  };
}
