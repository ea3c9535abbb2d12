// The operation every Milvus mapping returns, and the checks they share.
import type { Change, Ordered, Unchanged } from '../../runtime/decode/index.ts';

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

/**
 * Each op carries its change's version and commit order (runtime/decode/version.ts), which the
 * sink's guards compare (plan.ts).
 */
export type MilvusOp =
  | (Ordered & { kind: 'upsert'; collection: EmbeddingCollection; key: number; values: EmbeddingValues })
  | (Ordered & { kind: 'delete'; collection: EmbeddingCollection; key: number })
  /** every row of the collection before it in commit order is gone */
  | (Ordered & { kind: 'truncate'; collection: EmbeddingCollection });

/** The columns of either embedding table the collections take (the key comes from the change key). */
type SourceRow = { embedding: EmbeddingValues['embedding']; model_version: EmbeddingValues['model_version']; updated_at: Date };

/** The ops for one embedding table's change; `keyColumn` is its primary key. Throws (the runtime dead-letters it) when it cannot be applied. */
export function embeddingOps(collection: EmbeddingCollection, keyColumn: string, change: Change): MilvusOp[] {
  const { version, commitOrder } = change;
  if (change.op === 'truncate') return [{ kind: 'truncate', collection, version, commitOrder }];
  const key = change.key?.[keyColumn];
  // a safe integer: the sink's filters carry it exactly
  if (typeof key !== 'number' || !Number.isSafeInteger(key)) throw new Error(`${change.table}: a change whose ${keyColumn} key is not a safe integer`);
  if (change.op === 'delete') return [{ kind: 'delete', collection, key, version, commitOrder }];
  if (change.after === null) throw new Error(`${change.table} ${key}: ${change.op} without an after row`);
  const row = change.after as SourceRow;
  return [{ kind: 'upsert', collection, key, version, commitOrder, values: { embedding: row.embedding, model_version: row.model_version, updated_at: row.updated_at.getTime() } }];
}
