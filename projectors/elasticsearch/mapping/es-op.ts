// The operation every Elasticsearch mapping returns, and the checks they share.
import { UNCHANGED, type Change, type Unchanged } from '../../runtime/decode/index.ts';

/** One document write. `index` is the stable alias; the sink resolves it to its generation's index. */
export type EsOp = {
  index: string;
  /** the row's primary key */
  id: string;
  /** the change's version (runtime/decode/version.ts), sent exactly as the external version: an older change never overwrites a newer one */
  version: bigint;
  /** the whole document; null: the row is deleted (the sink remembers it as a tombstone) */
  doc: Record<string, unknown> | null;
};

/** An op for `change`'s row in `alias`; throws (the runtime dead-letters it) when it names no row. */
export function esOp(alias: string, change: Change, doc: EsOp['doc']): EsOp {
  const id = change.key?.['id'];
  if (typeof id !== 'number' && typeof id !== 'string') throw new Error(`${change.table}: a change without an id key`);
  return { index: alias, id: String(id), version: change.version, doc };
}

/**
 * A column's value, refusing Debezium's "unchanged TOASTed value" marker. With REPLICA IDENTITY
 * FULL on messages, posts and users the decoder fills it from `before`, so this should never
 * fire. If it does we would have to either write a partial update (which then depends on the
 * stored doc being complete) or invent a value; throwing instead lets the runtime dead-letter
 * the change as unmappable, where it is visible and can be replayed after a fix.
 */
export function known<T>(value: T | Unchanged, table: string, column: string): T {
  if (value === UNCHANGED) throw new Error(`${table}.${column}: unchanged TOASTed value with no old row to take it from`);
  return value;
}

/** The row a create, snapshot read or update carries; throws when it is missing. */
export function rowAfter<Row>(change: Change): Row {
  if (change.after === null) throw new Error(`${change.table}: ${change.op} without an after row`);
  return change.after as Row;
}

export const isoDate = (value: Date | null | undefined) => (value ? value.toISOString() : null);

/**
 * A truncate names no key: the index cannot follow it per document. A replay or a rebuild
 * meets the same record, so neither repairs it; the documents stay until deleted by id.
 */
export function refuseTruncate(change: Change): never {
  throw new Error(`${change.table}: a truncate cannot be projected per document (it names no rows); the index keeps the documents it removed: \`scripts/nova projector reconcile elasticsearch\` lists them`);
}
