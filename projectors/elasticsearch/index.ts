// The Elasticsearch projector: messages, posts and users, searchable through stable aliases.
import { Client } from '@elastic/elasticsearch';
import { novaConfig } from '../../config/nova-config.ts';
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

const name = 'elasticsearch';

/**
 * The projector's client, with no retries of its own (maxRetries 0): the runtime retries each
 * failure as its kind says, logged and counted in nova_projector_retries_total, whereas the
 * client's own retries (3, backed off) wait out up to ~10 s of an outage per request unseen.
 */
export function connectElasticsearch(env: NodeJS.ProcessEnv): Client {
  const node = novaConfig(env).elasticsearchNodes();
  return new Client({ node, maxRetries: 0 });
}

export const elasticsearchProjector: ProjectorDefinition<EsOp> = {
  name,
  topics: ['nova.message.messages', 'nova.social.posts', 'nova.social.users'],
  mapping: mapChange,
  async createSink({ generation, env, shadow }) {
    const client = connectElasticsearch(env);
    // the client retries nothing itself (above), so an Elasticsearch still starting (refusing,
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
