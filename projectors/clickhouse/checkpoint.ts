// Where the ClickHouse projector's position lives: rows of `nova_checkpoints_f2`, one version per
// write, keyed by (projector, generation, topic, partition). ClickHouse has no transaction
// spanning the effects and this insert, so the sink writes it after them; reading again from
// an older checkpoint is harmless because every effect is versioned (tables.ts).
//
// The previous Nova's `nova_checkpoints` has an `lsn` column where these have `commit_order`,
// and both run side by side while a generation of format 2 is rebuilt beside the live one the
// previous Nova still serves (format.ts): hence a table of their own, named by the format.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Checkpoint } from '../runtime/sink.ts';
import { withDeadline } from './client.ts';
import { sqlIdentifier, sqlString, sqlUnsigned } from './escape.ts';
import { deleteWhere } from './mutations.ts';

export const checkpointTable = 'nova_checkpoints_f2';

/**
 * next_offset is the version: a partition's checkpoints are written one after another (the
 * runtime hands a partition's next records in only once the previous ones are applied), so the
 * newest is the highest. Rewinding a generation therefore means clearCheckpoints first.
 * `kafka_partition`, not `partition`, which is a keyword in ALTER.
 */
export const checkpointTableStatement = `CREATE TABLE IF NOT EXISTS ${sqlIdentifier(checkpointTable)} (
    projector String,
    generation UInt64,
    topic String,
    kafka_partition UInt32,
    next_offset UInt64,
    commit_order Nullable(UInt64),
    written_at DateTime
  ) ENGINE = ReplacingMergeTree(next_offset) ORDER BY (projector, generation, topic, kafka_partition)`;

export type CheckpointScope = { projector: string; generation: number };

const inScope = ({ projector, generation }: CheckpointScope) => `projector = ${sqlString(projector)} AND generation = ${sqlUnsigned(generation)}`;

export async function writeCheckpoints(client: ClickHouseClient, scope: CheckpointScope, checkpoints: Checkpoint[]): Promise<void> {
  if (checkpoints.length === 0) return;
  const written_at = Math.floor(Date.now() / 1000);
  await withDeadline((abort_signal) => client.insert({
    abort_signal,
    table: sqlIdentifier(checkpointTable),
    format: 'JSONEachRow',
    values: checkpoints.map(({ topic, partition, nextOffset, commitOrder }) => ({
      ...scope,
      topic,
      kafka_partition: partition,
      // strings: ClickHouse reads a quoted UInt64 whole, JSON numbers lose precision past 2^53
      next_offset: nextOffset,
      commit_order: commitOrder === null ? null : String(commitOrder),
      written_at,
    })),
  }));
}

/** The newest checkpoint of every partition in scope, whether or not ClickHouse has merged the older ones away yet. */
export async function loadCheckpoints(client: ClickHouseClient, scope: CheckpointScope): Promise<Checkpoint[]> {
  // argMax skips NULL arguments; wrapped in a tuple, a NULL commit_order on the newest row is kept as NULL
  const result = await client.query({
    // aliases differ from the columns: an alias would be substituted into the other aggregate
    query: `SELECT topic, kafka_partition, max(next_offset) AS newest_offset, tupleElement(argMax(tuple(commit_order), next_offset), 1) AS newest_commit_order
      FROM ${sqlIdentifier(checkpointTable)} WHERE ${inScope(scope)} GROUP BY topic, kafka_partition`,
    format: 'JSONEachRow',
  });
  // UInt64 comes back as a string in JSON
  const rows = await result.json<{ topic: string; kafka_partition: number; newest_offset: string; newest_commit_order: string | null }>();
  return rows.map((row) => ({
    topic: row.topic,
    partition: row.kafka_partition,
    nextOffset: row.newest_offset,
    commitOrder: row.newest_commit_order === null ? null : BigInt(row.newest_commit_order),
  }));
}

/**
 * Removes every checkpoint in scope, so the generation's projector starts again at the earliest
 * offset; returns once they are gone (the mutation is done), so a rebuild started right after
 * cannot load them.
 */
export async function clearCheckpoints(client: ClickHouseClient, scope: CheckpointScope): Promise<void> {
  await deleteWhere(client, checkpointTable, inScope(scope));
}
