// Shared by the Redis mappings: a row's identity, the change's sides, the op shapes.
import type { Change, Row } from '../../runtime/decode/index.ts';
import type { RedisCommand, RedisOp, RedisRowOp } from '../commands.ts';

export const rowId = (change: Change) => Object.values(change.key ?? {}).join(':');

/** The row's effects on the keys of one tag. */
export function op(change: Change, tag: unknown, holds: boolean, commands: RedisCommand[], id = rowId(change)): RedisRowOp {
  return { kind: 'row', tag: String(tag), table: change.table, id, version: change.version, commitOrder: change.commitOrder, holds, commands };
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

/** The table's key families go (`nova:rows:<table>:`, its bookkeeping, among them). */
export const truncate = (change: Change, families: string[], recomputeConversations = false): RedisOp[] => [
  { kind: 'truncate', table: change.table, version: change.version, commitOrder: change.commitOrder, families: [...families, rowsFamily(change.table)], recomputeConversations },
];

/** The hash of the versions of the rows of `table` a tag holds (apply.lua spells it too). */
export const rowsFamily = (table: string) => `nova:rows:${table}:`;
export const rowsKey = (table: string, tag: unknown) => `${rowsFamily(table)}{${tag}}`;
