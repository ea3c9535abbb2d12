// The one shape every projector sees: a Debezium change, decoded, with its position.
import type { Position } from '../errors.ts';

export type Operation = 'create' | 'update' | 'delete' | 'read' | 'truncate';

/** A column value PostgreSQL did not send (an unchanged TOASTed value, with no old row to take it from). */
export const UNCHANGED: unique symbol = Symbol('nova.unchanged');
export type Unchanged = typeof UNCHANGED;

export type Row = Record<string, unknown>;

export type Change<Key extends Row = Row, Value extends Row = Row> = {
  readonly kind: 'change';
  readonly op: Operation;
  /** `schema.table` in PostgreSQL */
  readonly table: string;
  /** the primary key; null for a truncate */
  readonly key: Key | null;
  readonly before: Value | null;
  readonly after: Value | null;
  /** the row's version: its WAL position, 0 for a snapshot read (version.ts says why that is exact) */
  readonly version: bigint;
  /** where its transaction stands in commit order, across rows and partitions (version.ts) */
  readonly commitOrder: bigint;
  /** the first source epoch of the unbroken stream it belongs to (a later one means a gap before it) */
  readonly streamSince: number;
  readonly txId: number | null;
  /** when the source transaction committed */
  readonly commitTs: Date;
  readonly position: Position;
};

/** The null value Debezium writes after a delete so compaction can drop the key. */
export type Tombstone = { readonly kind: 'tombstone'; readonly key: Row | null; readonly position: Position };

export type Decoded = Change | Tombstone;
