// The runtime's shared sink contract against the real Elasticsearch, in a generation of its own.
import { randomInt } from 'node:crypto';
import { after } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { env } from '../../scripts/stack.d/test/stack.ts';
import type { Change } from '../runtime/decode/index.ts';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { checkpointId, checkpointIndex } from './checkpoint.ts';
import { aliasNames, createElasticsearchSink, ensureIndices, indexName } from './index.ts';
import { mapChange } from './mapping/index.ts';

const generation = randomInt(100_000, 1_000_000);
const projector = `contract-${generation}`;
const client = new Client({ node: env('ELASTICSEARCH_URL') });
const indices = aliasNames.map((alias) => indexName(alias, generation));

after(async () => {
  await client.indices.delete({ index: indices, ignore_unavailable: true });
  await client.delete({ index: checkpointIndex, id: checkpointId({ projector, generation }, 'nova.contract.test', 3) }, { ignore: [404] });
  await client.close();
});

const post = (lsn: number, id: number, text: string): Change => ({
  kind: 'change',
  op: 'update',
  table: 'public.posts',
  key: { id },
  before: null,
  after: { id, author_id: 7, text, created_at: new Date(0) },
  lsn,
  txId: lsn,
  commitTs: new Date(0),
  position: { topic: 'nova.social.posts', partition: 0, offset: String(lsn) },
});

async function snapshot() {
  await client.indices.refresh({ index: indices });
  const found = await client.search({ index: indices, size: 100, version: true, sort: ['_doc'], query: { match_all: {} } });
  return found.hits.hits.map((h) => [h._index, h._id, h._version, h._source]).sort((a, b) => String(a[1]).localeCompare(String(b[1])));
}

sinkContract({
  store: 'elasticsearch',
  mapping: mapChange,
  sink: async () => {
    const own = new Client({ node: env('ELASTICSEARCH_URL') });
    await ensureIndices(own, generation);
    return createElasticsearchSink({ client: own, generation, projector });
  },
  snapshot,
  reset: async () => {
    await client.indices.delete({ index: indices, ignore_unavailable: true });
    await ensureIndices(client, generation);
  },
  fixtures: { older: post(100, 1, 'older text'), newer: post(200, 1, 'newer text'), other: post(150, 2, 'another post') },
});
