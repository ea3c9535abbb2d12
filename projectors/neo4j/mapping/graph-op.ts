// What the Neo4j mappings produce and the sink writes: plain data, so a mapping is a pure
// function and its tests are tables of fixtures. Every op carries its change's version and
// commit order (runtime/decode/version.ts), which the sink compares against what the graph
// holds for the same target and against the generation's truncates.
import { UNCHANGED, type Change, type Ordered, type Unchanged } from '../../runtime/decode/index.ts';

/** The seed's User properties (section 4.2); created_at in epoch seconds. */
export type UserProps = { username: string; avatar_url: string | null; bio: string | null; created_at: number | null };

/** The seed's FOLLOWS properties. */
export type FollowsProps = { created_at: number | null };

export type GraphOp =
  /** a users row as of its change; null: deleted (the node stays behind as a tombstone) */
  | ({ kind: 'user'; id: number; user: UserProps | null } & Ordered)
  /** the (follower, followee) pair as of its change; null: no FOLLOWS (deleted, blocked or muted) */
  | ({ kind: 'follows'; follower: number; followee: number; edge: FollowsProps | null } & Ordered)
  /** the whole table emptied: everything it projected before this in commit order goes */
  | ({ kind: 'truncate'; table: 'users' | 'follows' } & Ordered);

/** Where the change stands: its version and commit order, exactly as decoded. */
export const orderOf = ({ version, commitOrder }: Change): Ordered => ({ version, commitOrder });

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
