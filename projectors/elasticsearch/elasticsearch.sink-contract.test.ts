// The runtime's shared sink contract against the real Elasticsearch, in a generation of its own.
// What readers see is read the way they read it: a search through aliases over the test
// generation made by the projector's own readerAlias (the reader aliases' definition and
// filter), _source only.
import { randomInt } from 'node:crypto';
import { after } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { env } from '../../scripts/stack.d/test/stack.ts';
import type { Change } from '../runtime/decode/index.ts';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { checkpointId, checkpointIndex, loadCheckpoints } from './checkpoint.ts';
import { aliasNames, createElasticsearchSink, ensureIndices, indexName } from './index.ts';
import { readerAlias } from './index-names.ts';
import { mapChange } from './mapping/index.ts';

const generation = randomInt(100_000, 1_000_000);
const projector = `contract-${generation}`;
const client = new Client({ node: env('ELASTICSEARCH_URL') });
const indices = aliasNames.map((alias) => indexName(alias, generation));
/** the test's own reader names, beside the live `messages`, `posts`, `users` */
const readerNames = aliasNames.map((alias) => `nova_contract_${generation}_${alias}`);

after(async () => {
  await client.indices.delete({ index: indices, ignore_unavailable: true });
  for (const c of await loadCheckpoints(client, { projector, generation })) {
    await client.delete({ index: checkpointIndex, id: checkpointId({ projector, generation }, c.topic, c.partition) });
  }
  await client.close();
});

const post = (id: number, variant: 'a' | 'b'): Change => ({
  kind: 'change',
  op: 'update',
  table: 'public.posts',
  key: { id },
  before: null,
  after: { id, author_id: 7, text: variant === 'a' ? `post ${id}, first text` : `post ${id}, edited`, created_at: new Date(0) },
  version: 1n,
  commitOrder: 1n,
  streamSince: 0,
  txId: 1,
  commitTs: new Date(0),
  position: { topic: 'nova.social.posts', partition: 0, offset: String(id) },
});

/** Each reader name's documents, by id: what a search through it returns. */
async function view() {
  await client.indices.refresh({ index: indices });
  const seen: Record<string, [string, unknown][]> = {};
  for (const name of readerNames) {
    const found = await client.search({ index: name, size: 100, query: { match_all: {} } });
    seen[name] = found.hits.hits.map((h): [string, unknown] => [h._id as string, h._source]).sort(([a], [b]) => a.localeCompare(b));
  }
  return seen;
}

sinkContract({
  store: 'elasticsearch',
  mapping: mapChange,
  sink: async () => {
    const own = new Client({ node: env('ELASTICSEARCH_URL') });
    await ensureIndices(own, generation, { shadow: true, env: process.env });
    return createElasticsearchSink({ client: own, generation, projector });
  },
  view,
  reset: async () => {
    await client.indices.delete({ index: indices, ignore_unavailable: true });
    await ensureIndices(client, generation, { shadow: true, env: process.env });
    await client.indices.updateAliases({ actions: aliasNames.map((alias, i) => readerAlias(readerNames[i] as string, indexName(alias, generation))) });
  },
  row: post,
  truncates: 'refused',
});
