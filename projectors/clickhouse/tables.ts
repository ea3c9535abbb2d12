// What the ClickHouse projector keeps, per generation, and how readers get the current state.
//
// user_behavior_events_v<N> holds the seed's columns (section 5.2, names kept) plus what
// idempotence needs on a store with neither transactions nor upserts:
//   id          PostgreSQL user_interactions.id, the key every version of a row shares
//   lsn         the change's WAL position: ReplacingMergeTree(lsn) keeps the highest per key
//   is_deleted  1 on a delete's tombstone (ReplacingMergeTree(ver, is_deleted) is not in 18.16)
// A replay re-inserts versions with the same (id, lsn) and an older change inserted late
// loses to the newer one, so any order of apply and replay collapses to one row per id.
//
// ORDER BY id, and no PARTITION BY: rows are collapsed only when their sorting key is equal
// and they sit in the same partition. The seed's ORDER BY (user_id, created_at) and
// PARTITION BY toYYYYMM(created_at) cannot hold: both columns can change in an update, and a
// delete does not carry them (user_interactions has REPLICA IDENTITY DEFAULT, so the old row
// is only its key), so the versions of one row would land under different keys and never
// collapse. interaction_value and created_at are Nullable because PostgreSQL allows NULL
// there; DateTime keeps whole seconds (PostgreSQL keeps microseconds).
//
// A TRUNCATE names no key, so it is kept as a watermark in user_behavior_events_truncations_v<N>:
// a row whose newest version is older than the newest truncate was removed by it. That holds
// whatever order the partitions are applied in (the truncate arrives on one partition, the
// rows it removed on all sixteen), and a row inserted after the truncate has a higher LSN.
//
// Readers get the current state from the view named like the seed's table,
// `user_behavior_events`: the newest version per id (FINAL), not deleted, newer than the
// last truncate. FINAL with the is_deleted filter is tested in clickhouse.generations.test.ts
// (18.16 applies the WHERE after collapsing). Heavy scans can instead GROUP BY id with
// argMax(col, lsn) and the same two filters.
import { sqlIdentifier } from './escape.ts';

export const userBehaviorEvents = 'user_behavior_events';

/** A table this projector fills; its name is also the stable view readers query. */
export type ProjectedTable = typeof userBehaviorEvents;

type TableShape = { columns: string; readerColumns: string[] };

const shapes: Record<ProjectedTable, TableShape> = {
  user_behavior_events: {
    columns: `
      id UInt64,
      user_id UInt64,
      target_type String,
      target_id UInt64,
      interaction_type String,
      interaction_value Nullable(Float32),
      created_at Nullable(DateTime),
      lsn UInt64,
      is_deleted UInt8`,
    readerColumns: ['id', 'user_id', 'target_type', 'target_id', 'interaction_type', 'interaction_value', 'created_at'],
  },
};

export const projectedTables = Object.keys(shapes) as ProjectedTable[];

export const generationTable = (table: ProjectedTable, generation: number) => `${table}_v${generation}`;

export const truncationsTable = (table: ProjectedTable, generation: number) => `${table}_truncations_v${generation}`;

/** The generation's two tables, created if missing. */
export function createTableStatements(table: ProjectedTable, generation: number): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${sqlIdentifier(generationTable(table, generation))} (${shapes[table].columns}
    ) ENGINE = ReplacingMergeTree(lsn) ORDER BY id`,
    // duplicates of one truncate collapse; max(lsn) does not care either way
    `CREATE TABLE IF NOT EXISTS ${sqlIdentifier(truncationsTable(table, generation))} (
      lsn UInt64,
      truncated_at DateTime
    ) ENGINE = ReplacingMergeTree() ORDER BY lsn`,
  ];
}

/** The generation's current state, as readers see it: what the stable view selects. */
export function currentStateQuery(table: ProjectedTable, generation: number): string {
  const columns = shapes[table].readerColumns.map(sqlIdentifier).join(', ');
  return `SELECT ${columns} FROM ${sqlIdentifier(generationTable(table, generation))} FINAL
    WHERE is_deleted = 0 AND lsn > (SELECT max(lsn) FROM ${sqlIdentifier(truncationsTable(table, generation))})`;
}
