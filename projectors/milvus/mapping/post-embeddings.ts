// public.post_embeddings -> the `post_embeddings` collection, built like user_embeddings.
import type { Change } from '../../runtime/decode/index.ts';
import { embeddingOps, type MilvusOp } from './embedding-op.ts';

export const mapPostEmbedding = (change: Change): MilvusOp[] => embeddingOps('post_embeddings', 'post_id', change);
