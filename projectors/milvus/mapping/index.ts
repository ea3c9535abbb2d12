// Change -> MilvusOp[], dispatched by source table. Pure: no I/O, no awaits.
import type { Change } from '../../runtime/decode/index.ts';
import type { MilvusOp } from './embedding-op.ts';
import { mapPostEmbedding } from './post-embeddings.ts';
import { mapUserEmbedding } from './user-embeddings.ts';

export type { EmbeddingCollection, EmbeddingValues, MilvusOp } from './embedding-op.ts';

const byTable: Record<string, (change: Change) => MilvusOp[]> = {
  'public.user_embeddings': mapUserEmbedding,
  'public.post_embeddings': mapPostEmbedding,
};

export function mapChange(change: Change): MilvusOp[] {
  const map = byTable[change.table];
  if (!map) throw new Error(`milvus: no mapping for ${change.table}`);
  return map(change);
}
