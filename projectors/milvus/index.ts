// The Milvus projector: user and post embeddings, searchable through stable aliases.
import { novaConfig } from '../../config/nova-config.ts';
import type { ProjectorDefinition } from '../runtime/sink.ts';
import { embeddingCollections } from './collections.ts';
import { compareMilvusWithPostgres } from './drift.ts';
import { ensureGeneration, milvusGenerations, readerAliases } from './generations.ts';
import { mapChange, type EmbeddingCollection, type MilvusOp } from './mapping/index.ts';
import { connectMilvus } from './milvus-call.ts';
import { createMilvusSink } from './sink.ts';
import { collectTombstones } from './tombstones.ts';

export type { EmbeddingCollection, MilvusOp } from './mapping/index.ts';
export { clearCheckpoints } from './checkpoint.ts';
export { EMBEDDING_DIM, collectionName } from './collections.ts';
export { compareMilvusWithPostgres } from './drift.ts';
export { aliasNames, aliasTarget, type AliasNames, dropGeneration, ensureGeneration, milvusGenerations, pointAlias, swapAliases } from './generations.ts';
export { connectMilvus } from './milvus-call.ts';
export { createMilvusSink, type MilvusSinkOptions } from './sink.ts';

const name = 'milvus';

/** The topic each collection is projected from. */
const topicOf: Record<EmbeddingCollection, string> = { user_embeddings: 'nova.recommendation.user_embeddings', post_embeddings: 'nova.recommendation.post_embeddings' };

export const milvusProjector: ProjectorDefinition<MilvusOp> = {
  name,
  topics: embeddingCollections.map((collection) => topicOf[collection]),
  mapping: mapChange,
  async createSink({ generation, env, shadow }) {
    const writeLeaseMs = novaConfig(env).milvusWriteLeaseMs(); // refused before anything is opened
    const client = await connectMilvus(novaConfig(env).milvusAddress());
    try {
      await ensureGeneration(client, generation, { shadow, aliases: readerAliases(env) });
    } catch (error) {
      // as it is: the requests' failures are classified already, and a refused format names its repair
      await client.closeConnection();
      throw error;
    }
    return createMilvusSink({ client, generation, projector: name, writeLeaseMs });
  },
  generations: milvusGenerations(),
  compareWithPostgres: compareMilvusWithPostgres,
  async collectTombstones({ generation, env, horizon }) {
    const client = await connectMilvus(novaConfig(env).milvusAddress());
    try {
      const collected: Record<string, number> = {};
      for (const collection of embeddingCollections) collected[`${collection} tombstones`] = await collectTombstones(client, generation, collection, horizon(topicOf[collection]));
      return collected;
    } finally {
      await client.closeConnection();
    }
  },
};
