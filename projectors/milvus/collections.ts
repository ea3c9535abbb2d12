// The collections of one generation, `<name>_v<generation>`: the seed's two embedding
// collections (section 5.3, names and fields as the seed has them, plus the order fields), and
// the tombstones and checkpoints that guard them. Every Milvus collection needs a vector field;
// those two carry a 2-dimensional placeholder that nothing searches.
import { DataType, type FieldType } from '@zilliz/milvus2-sdk-node';
import type { EmbeddingCollection } from './mapping/index.ts';

export const EMBEDDING_DIM = 256;

/**
 * PostgreSQL's VARCHAR(50) counts characters, Milvus's max_length counts UTF-8 bytes
 * (milvus-lite counts characters): 4 bytes per character fits every value PostgreSQL accepts.
 */
export const MODEL_VERSION_MAX_BYTES = 200;

export const primaryKeys: Record<EmbeddingCollection, string> = { user_embeddings: 'user_id', post_embeddings: 'post_id' };

export const embeddingCollections = Object.keys(primaryKeys) as EmbeddingCollection[];

export const collectionName = (name: string, generation: number) => `${name}_v${generation}`;

export type CollectionSpec = { name: string; fields: FieldType[]; index: { field_name: string; index_type: string; metric_type: string; params?: Record<string, number> } };

export const placeholderField: FieldType = { name: 'placeholder', data_type: DataType.FloatVector, dim: 2 };
export const placeholderIndex: CollectionSpec['index'] = { field_name: 'placeholder', index_type: 'FLAT', metric_type: 'L2' };
export const placeholderVector = [0, 0];

/**
 * The two Int64 fields that order a row or a tombstone: the version and commit order of the
 * change that wrote it (runtime/decode/version.ts). Milvus cannot compare them on write (upsert
 * has no "only if newer"), so the sink reads them before every write.
 */
export const orderFields: FieldType[] = [
  { name: 'version', data_type: DataType.Int64 },
  { name: 'commit_order', data_type: DataType.Int64 },
];

/** The seed's fields (`updated_at` in milliseconds since the epoch), and the order fields. */
export const embeddingSpec = (collection: EmbeddingCollection, generation: number): CollectionSpec => ({
  name: collectionName(collection, generation),
  fields: [
    { name: primaryKeys[collection], data_type: DataType.Int64, is_primary_key: true, autoID: false },
    { name: 'embedding', data_type: DataType.FloatVector, dim: EMBEDDING_DIM },
    { name: 'model_version', data_type: DataType.VarChar, max_length: MODEL_VERSION_MAX_BYTES },
    { name: 'updated_at', data_type: DataType.Int64 },
    ...orderFields,
  ],
  index: { field_name: 'embedding', index_type: 'HNSW', metric_type: 'COSINE', params: { M: 16, efConstruction: 200 } },
});
