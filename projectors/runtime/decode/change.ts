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
  /**
   * WAL position of the change: increases in commit order, the per-key version. A read from an
   * incremental snapshot has none and gets 0: it fills a row the store lacks (history cut by
   * retention) but never overwrites a streamed change, which is always at least as new.
   */
  readonly lsn: number | null;
  readonly txId: number | null;
  /** when the source transaction committed */
  readonly commitTs: Date;
  readonly position: Position;
};

/** The null value Debezium writes after a delete so compaction can drop the key. */
export type Tombstone = { readonly kind: 'tombstone'; readonly key: Row | null; readonly position: Position };

export type Decoded = Change | Tombstone;
