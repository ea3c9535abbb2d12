// public.user_embeddings -> the `user_embeddings` collection (seed section 5.3).
import type { Change } from '../../runtime/decode/index.ts';
import { embeddingOps, type MilvusOp } from './embedding-op.ts';

export const mapUserEmbedding = (change: Change): MilvusOp[] => embeddingOps('user_embeddings', 'user_id', change);
