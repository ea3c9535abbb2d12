// The operation every ClickHouse mapping returns, and the value conversions they share. Each
// conversion refuses (throws, so the runtime dead-letters the change) what ClickHouse would
// store as something else: a negative id in a UInt64, a date outside DateTime's range.
import { UNCHANGED, type Change, type Unchanged } from '../../runtime/decode/index.ts';
import type { ProjectedTable } from '../tables.ts';

/** A UInt64 as JSONEachRow takes it: a number, or a decimal string past 2^53. */
export type UInt64 = number | string;

/** A float as JSONEachRow takes it; JSON has no NaN or infinities, ClickHouse reads these spellings. */
export type Float = number | 'nan' | 'inf' | '-inf';

/** A change's version and commit order (runtime/decode/version.ts), as decimal text: exact past 2^53. */
export type Ordering = { version: string; commit_order: string };

/**
 * One row version for the generation's table of `table`, or a truncate for its truncations
 * table. The sink resolves `table` to the generation's tables.
 */
export type ClickhouseOp =
  | { kind: 'row'; table: ProjectedTable; row: Record<string, unknown> & Ordering & { is_deleted: 0 | 1 } }
  | { kind: 'truncate'; table: ProjectedTable; row: Ordering & { truncated_at: number } };

/** A UInt64 as decimal text, the form JSONEachRow reads whole. */
function decimal(value: bigint, column: string): string {
  if (value < 0n || value >= 2n ** 64n) throw new Error(`${column}: ${value} does not fit a UInt64`);
  return value.toString();
}

/** What orders everything the change writes. */
export const orderingOf = (change: Change): Ordering => ({ version: decimal(change.version, 'version'), commit_order: decimal(change.commitOrder, 'commit order') });

export function unsigned(value: unknown, column: string): UInt64 {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint') return decimal(value, column);
  throw new Error(`${column}: ${String(value)} does not fit a UInt64`);
}

export function float(value: number): Float {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return value;
}

const maxDateTime = 2 ** 32 - 1;

/** Whole seconds since the epoch, as DateTime holds them (1970 to 2106); ClickHouse reads a number as exactly that. */
export function dateTime(value: Date, column: string): number {
  const seconds = Math.floor(value.getTime() / 1000);
  if (Number.isNaN(seconds)) throw new Error(`${column}: an invalid date`);
  if (seconds < 0 || seconds > maxDateTime) throw new Error(`${column}: ${value.toISOString()} is outside DateTime's range (1970-2106)`);
  return seconds;
}

/**
 * A column's value, refusing Debezium's "unchanged TOASTed value" marker: with REPLICA IDENTITY
 * DEFAULT there is no old row to take it from, and writing a guess would be wrong.
 */
export function known<T>(value: T | Unchanged, column: string): T {
  if (value === UNCHANGED) throw new Error(`${column}: unchanged TOASTed value with no old row to take it from`);
  return value;
}

/** The row a create, snapshot read or update carries; throws when it is missing. */
export function rowAfter<Row>(change: Change): Row {
  if (change.after === null) throw new Error(`${change.table}: ${change.op} without an after row`);
  return change.after as Row;
}
