// The operation every Milvus mapping returns, and the checks they share.
import type { Change, Unchanged } from '../../runtime/decode/index.ts';

/** The seed's collections (section 5.3), by the stable name readers use. */
export type EmbeddingCollection = 'user_embeddings' | 'post_embeddings';

/**
 * A row's values as the change carries them. `embedding` and `model_version` may be UNCHANGED:
 * with REPLICA IDENTITY DEFAULT an update that does not touch a TOASTed value does not send it,
 * and the sink keeps what the collection holds. The vector is not checked here: the sink
 * refuses what its collection cannot hold, through the dead-letter topic.
 */
export type EmbeddingValues = {
  embedding: Array<number | null> | Unchanged;
  model_version: string | Unchanged;
  /** ms since the epoch: the seed's INT64 */
  updated_at: number;
};

/** Each op carries its change's LSN, the version the sink's guards compare. */
export type MilvusOp =
  | { kind: 'upsert'; collection: EmbeddingCollection; key: number; lsn: number; values: EmbeddingValues }
  | { kind: 'delete'; collection: EmbeddingCollection; key: number; lsn: number }
  /** every row of the collection older than `lsn` is gone */
  | { kind: 'truncate'; collection: EmbeddingCollection; lsn: number };

/** The columns of either embedding table the collections take (the key comes from the change key). */
type SourceRow = { embedding: EmbeddingValues['embedding']; model_version: EmbeddingValues['model_version']; updated_at: Date };

function lsnOf(change: Change): number {
  if (change.lsn === null) throw new Error(`${change.table}: a change without an LSN cannot be versioned`);
  return change.lsn;
}

/** The ops for one embedding table's change; `keyColumn` is its primary key. Throws (the runtime dead-letters it) when it cannot be ordered. */
export function embeddingOps(collection: EmbeddingCollection, keyColumn: string, change: Change): MilvusOp[] {
  const lsn = lsnOf(change);
  if (change.op === 'truncate') return [{ kind: 'truncate', collection, lsn }];
  const key = change.key?.[keyColumn];
  if (typeof key !== 'number') throw new Error(`${change.table}: a change without a numeric ${keyColumn} key`);
  if (change.op === 'delete') return [{ kind: 'delete', collection, key, lsn }];
  if (change.after === null) throw new Error(`${change.table} ${key}: ${change.op} without an after row`);
  const row = change.after as SourceRow;
  return [{ kind: 'upsert', collection, key, lsn, values: { embedding: row.embedding, model_version: row.model_version, updated_at: row.updated_at.getTime() } }];
}
