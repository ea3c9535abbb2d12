// What the Neo4j mappings produce and the sink writes: plain data, so a mapping is a pure
// function and its tests are tables of fixtures. Every op carries its change's LSN, the
// version the sink compares against what the graph holds for the same target.
import { UNCHANGED, type Change, type Unchanged } from '../../runtime/decode/index.ts';

/** The seed's User properties (section 4.2); created_at in epoch seconds. */
export type UserProps = { username: string; avatar_url: string | null; bio: string | null; created_at: number | null };

/** The seed's FOLLOWS properties. */
export type FollowsProps = { created_at: number | null };

export type GraphOp =
  /** a users row as of `lsn`; null: deleted (the node stays behind as a tombstone) */
  | { kind: 'user'; id: number; lsn: number; user: UserProps | null }
  /** the (follower, followee) pair as of `lsn`; null: no FOLLOWS (deleted, blocked or muted) */
  | { kind: 'follows'; follower: number; followee: number; lsn: number; edge: FollowsProps | null }
  /** the whole table emptied at `lsn`: everything it projected with an older LSN goes */
  | { kind: 'truncate'; table: 'users' | 'follows'; lsn: number };

/** The change's LSN; a change without one cannot be ordered, so it is refused (dead-lettered). */
export function lsnOf(change: Change): number {
  if (change.lsn === null) throw new Error(`${change.table}: a ${change.op} without an LSN cannot be ordered`);
  return change.lsn;
}

/**
 * A column's value, refusing the "unchanged TOASTed value" marker. users and follows are
 * REPLICA IDENTITY FULL, so the decoder fills it from `before` and this should never fire.
 * Keeping the stored value instead would be wrong whenever the batcher dropped the change
 * that last set it, so the change is refused and dead-lettered where it can be seen.
 */
export function known<T>(value: T | Unchanged, table: string, column: string): T {
  if (value === UNCHANGED) throw new Error(`${table}.${column}: unchanged TOASTed value with no old row to take it from`);
  return value;
}

export const epochSeconds = (value: Date | null) => (value === null ? null : Math.floor(value.getTime() / 1000));
