// The Elasticsearch projector: messages, posts and users, searchable through stable aliases.
import { connectElasticsearch } from './client.ts';
import { NovaError } from '../runtime/errors.ts';
import { isTransient, retry } from '../runtime/retry.ts';
import type { ProjectorDefinition } from '../runtime/sink.ts';
import { compareElasticsearchWithPostgres } from './drift.ts';
import { elasticsearchError } from './error-kinds.ts';
import { elasticsearchGenerations } from './generations.ts';
import { ensureIndices } from './index-names.ts';
import { mapChange, type EsOp } from './mapping/index.ts';
import { createElasticsearchSink } from './sink.ts';

export type { EsOp } from './mapping/index.ts';
export type { BulkOutcome } from './bulk-outcome.ts';
export { aliasNames, ensureIndices, indexName, readerAliasName, swapAliases, type AliasName } from './index-names.ts';
export { createElasticsearchSink, type ElasticsearchSinkOptions } from './sink.ts';
export { connectElasticsearch } from './client.ts';

const name = 'elasticsearch';

export const elasticsearchProjector: ProjectorDefinition<EsOp> = {
  name,
  topics: ['nova.message.messages', 'nova.social.posts', 'nova.social.users'],
  mapping: mapChange,
  async createSink({ generation, env, shadow }) {
    const client = connectElasticsearch(env);
    // the client retries nothing on one node (client.ts), so an Elasticsearch still starting (refusing,
    // or answering too slowly) is waited out here, 30-60 s, before the process gives up to its supervisor
    const ensure = () => ensureIndices(client, generation, { shadow, env }).catch((error: unknown) => Promise.reject(elasticsearchError(error)));
    try {
      await retry(ensure, { attempts: (error) => (isTransient(error) || (error instanceof NovaError && error.kind === 'bounded') ? 12 : 1) });
    } catch (error) {
      await client.close();
      throw error; // a generation an older Nova filled is refused as it is, naming the repair
    }
    return createElasticsearchSink({ client, generation, projector: name });
  },
  generations: elasticsearchGenerations(name),
  compareWithPostgres: compareElasticsearchWithPostgres,
};
