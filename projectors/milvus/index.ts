// The Milvus projector: user and post embeddings, searchable through stable aliases.
import { novaConfig } from '../../config/nova-config.ts';
import type { ProjectorDefinition } from '../runtime/sink.ts';
import { compareMilvusWithPostgres } from './drift.ts';
import { ensureGeneration, milvusGenerations, readerAliases } from './generations.ts';
import { mapChange, type MilvusOp } from './mapping/index.ts';
import { connectMilvus } from './milvus-call.ts';
import { createMilvusSink } from './sink.ts';

export type { EmbeddingCollection, MilvusOp } from './mapping/index.ts';
export { clearCheckpoints } from './checkpoint.ts';
export { EMBEDDING_DIM, collectionName } from './collections.ts';
export { compareMilvusWithPostgres } from './drift.ts';
export { aliasNames, aliasTarget, type AliasNames, dropGeneration, ensureGeneration, milvusGenerations, pointAlias, swapAliases } from './generations.ts';
export { connectMilvus } from './milvus-call.ts';
export { createMilvusSink, type MilvusSinkOptions } from './sink.ts';

const name = 'milvus';

export const milvusProjector: ProjectorDefinition<MilvusOp> = {
  name,
  topics: ['nova.recommendation.user_embeddings', 'nova.recommendation.post_embeddings'],
  mapping: mapChange,
  async createSink({ generation, env, shadow }) {
    const client = await connectMilvus(novaConfig(env).milvusAddress());
    try {
      await ensureGeneration(client, generation, { shadow, aliases: readerAliases(env) });
    } catch (error) {
      // as it is: the requests' failures are classified already, and a refused format names its repair
      await client.closeConnection();
      throw error;
    }
    return createMilvusSink({ client, generation, projector: name, writeLeaseMs: novaConfig(env).milvusWriteLeaseMs() });
  },
  generations: milvusGenerations(),
  compareWithPostgres: compareMilvusWithPostgres,
};
