// The Elasticsearch projector: messages, posts and users, searchable through stable aliases.
import { Client } from '@elastic/elasticsearch';
import type { ProjectorDefinition } from '../runtime/sink.ts';
import { compareElasticsearchWithPostgres } from './drift.ts';
import { elasticsearchError } from './error-kinds.ts';
import { elasticsearchGenerations } from './generations.ts';
import { ensureIndices } from './index-names.ts';
import { mapChange, type EsOp } from './mapping/index.ts';
import { createElasticsearchSink } from './sink.ts';

export type { EsOp } from './mapping/index.ts';
export type { BulkOutcome } from './bulk-outcome.ts';
export { aliasNames, ensureIndices, indexName, swapAliases, type AliasName } from './index-names.ts';
export { createElasticsearchSink, type ElasticsearchSinkOptions } from './sink.ts';

const name = 'elasticsearch';

export const elasticsearchProjector: ProjectorDefinition<EsOp> = {
  name,
  topics: ['nova.message.messages', 'nova.social.posts', 'nova.social.users'],
  mapping: mapChange,
  async createSink({ generation, env, shadow }) {
    const node = env['ELASTICSEARCH_URL'];
    if (!node) throw new Error('elasticsearch: ELASTICSEARCH_URL is not set');
    const client = new Client({ node });
    try {
      await ensureIndices(client, generation, { shadow });
    } catch (error) {
      await client.close();
      throw elasticsearchError(error); // a generation an older Nova filled is refused as it is, naming the repair
    }
    return createElasticsearchSink({ client, generation, projector: name });
  },
  generations: elasticsearchGenerations(name),
  compareWithPostgres: compareElasticsearchWithPostgres,
};
