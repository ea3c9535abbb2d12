// What the ClickHouse projector keeps, per generation, and how readers get the current state.
//
// user_behavior_events_v<N> holds the seed's columns (section 5.2, names kept) plus what
// idempotence needs on a store with neither transactions nor upserts:
//   id            PostgreSQL user_interactions.id, the key every version of a row shares
//   version       the change's version (runtime/decode/version.ts: its WAL position, 0 for a
//                 snapshot read): ReplacingMergeTree(version) keeps the highest per id
//   commit_order  where the change's transaction stands in commit order, for truncates
//   is_deleted    1 on a delete's tombstone (ReplacingMergeTree(ver, is_deleted) is not in 18.16)
// A replay re-inserts versions with the same (id, version), an older change inserted late loses
// to the newer one, and a snapshot read (version 0) loses to any streamed change of its row, so
// any order of apply and replay collapses to the same row per id.
//
// ORDER BY id, and no PARTITION BY: rows are collapsed only when their sorting key is equal
// and they sit in the same partition. The seed's ORDER BY (user_id, created_at) and
// PARTITION BY toYYYYMM(created_at) cannot hold: both columns can change in an update, and a
// delete does not carry them (user_interactions has REPLICA IDENTITY DEFAULT, so the old row
// is only its key), so the versions of one row would land under different keys and never
// collapse. interaction_value and created_at are Nullable because PostgreSQL allows NULL
// there; DateTime keeps whole seconds (PostgreSQL keeps microseconds).
//
// A TRUNCATE names no key, so it is kept in user_behavior_events_truncations_v<N> with its
// commit order and version. It removed exactly the rows before it in commit order: those whose
// (commit_order, version) is lower, compared in that order (isBeforeTruncate in version.ts).
// Only the newest truncate matters, since it removed everything an older one did. Readers apply
// the rule when they read, so it holds whatever order the partitions are applied in: the
// truncate arrives on one partition, the rows it removed on all sixteen, before or after it.
//
// Readers get the current state from the view named like the seed's table,
// `user_behavior_events`: currentStateQuery. FINAL with these filters is tested in
// clickhouse.generations.test.ts (18.16 applies the WHERE after collapsing: it moves no
// condition to PREWHERE under FINAL). Heavy scans can instead GROUP BY id with
// argMax(col, version) and the same filters.
//
// user_behavior_events_format_v<N> holds one row, the generation's format (generationFormat),
// written before its other tables are created: format.ts.
import { sqlIdentifier } from './escape.ts';

export const userBehaviorEvents = 'user_behavior_events';

/** A table this projector fills; its name is also the stable view readers query. */
export type ProjectedTable = typeof userBehaviorEvents;

/** [name, type as system.columns spells it] */
export type Columns = [string, string][];

type TableShape = { columns: Columns; readerColumns: string[] };

const shapes: Record<ProjectedTable, TableShape> = {
  user_behavior_events: {
    columns: [
      ['id', 'UInt64'],
      ['user_id', 'UInt64'],
      ['target_type', 'String'],
      ['target_id', 'UInt64'],
      ['interaction_type', 'String'],
      ['interaction_value', 'Nullable(Float32)'],
      ['created_at', 'Nullable(DateTime)'],
      ['version', 'UInt64'],
      ['commit_order', 'UInt64'],
      ['is_deleted', 'UInt8'],
    ],
    readerColumns: ['id', 'user_id', 'target_type', 'target_id', 'interaction_type', 'interaction_value', 'created_at'],
  },
};

export const truncationColumns: Columns = [
  ['commit_order', 'UInt64'],
  ['version', 'UInt64'],
  ['truncated_at', 'DateTime'],
];

export const projectedTables = Object.keys(shapes) as ProjectedTable[];

export const generationTable = (table: ProjectedTable, generation: number) => `${table}_v${generation}`;

export const truncationsTable = (table: ProjectedTable, generation: number) => `${table}_truncations_v${generation}`;

export const formatTable = (table: ProjectedTable, generation: number) => `${table}_format_v${generation}`;

/** The tables that hold the generation's data, with the columns this Nova gives them. */
export const dataTables = (table: ProjectedTable, generation: number): [string, Columns][] => [
  [generationTable(table, generation), shapes[table].columns],
  [truncationsTable(table, generation), truncationColumns],
];

const columnList = (columns: Columns) => columns.map(([name, type]) => `${sqlIdentifier(name)} ${type}`).join(', ');

/** The generation's two data tables, created if missing. */
export function createTableStatements(table: ProjectedTable, generation: number): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${sqlIdentifier(generationTable(table, generation))} (${columnList(shapes[table].columns)})
      ENGINE = ReplacingMergeTree(version) ORDER BY id`,
    // duplicates of one truncate collapse; the newest does not care either way
    `CREATE TABLE IF NOT EXISTS ${sqlIdentifier(truncationsTable(table, generation))} (${columnList(truncationColumns)})
      ENGINE = ReplacingMergeTree() ORDER BY (commit_order, version)`,
  ];
}

/**
 * The generation's current state, as readers see it: what the stable view selects. A row is
 * visible iff it is the newest version of its id (FINAL), not a tombstone, and after the newest
 * truncate in commit order. With no truncate every row is visible: max() over no rows is (0, 0),
 * which would hide an initial snapshot's reads (both 0), hence the count.
 */
export function currentStateQuery(table: ProjectedTable, generation: number): string {
  const columns = shapes[table].readerColumns.map(sqlIdentifier).join(', ');
  const truncations = sqlIdentifier(truncationsTable(table, generation));
  return `SELECT ${columns} FROM ${sqlIdentifier(generationTable(table, generation))} FINAL
    WHERE is_deleted = 0 AND ((SELECT count() FROM ${truncations}) = 0
      OR (commit_order, version) > (SELECT max((commit_order, version)) FROM ${truncations}))`;
}
