// Shared by the Redis mappings: a row's identity and the change's sides.
import type { Change, Row } from '../../runtime/decode/index.ts';
import type { RedisCommand, RedisOp } from '../commands.ts';

export const rowId = (change: Change) => Object.values(change.key ?? {}).join(':');

export function op(change: Change, commands: RedisCommand[]): RedisOp {
  return { table: change.table, id: rowId(change), version: change.version, commitOrder: change.commitOrder, commands };
}

/** The row as it is now (null once deleted), and as it was (null when created). */
export const sides = (change: Change): { now: Row | null; was: Row | null } => ({
  now: change.op === 'delete' ? null : change.after,
  was: change.before,
});

/** JSON with a fixed key order, so a replay writes byte-identical values. */
export function stableJson(row: Row, fields: string[]): string {
  return JSON.stringify(Object.fromEntries(fields.map((f) => [f, row[f] instanceof Date ? (row[f] as Date).toISOString() : (row[f] ?? null)])));
}

/** The table's keys go; `then` recomputes what other tables' keys derive from them. */
export const truncate = (change: Change, patterns: string[], then: RedisCommand[] = []): RedisOp[] => [op(change, [{ cmd: 'TRUNCATE', patterns }, ...then])];
