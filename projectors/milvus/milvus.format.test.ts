// The generation format marker against the real server (format.ts): every collection a sink
// creates carries it; a generation the Nova before it filled is refused, naming the rebuild that
// repairs it, and left as it was; one it made but never filled is made anew.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, test } from 'node:test';
import { env } from '../../scripts/stack.d/test/stack.ts';
import type { Change } from '../runtime/decode/index.ts';
import { EMBEDDING_DIM, collectionName, connectMilvus, dropGeneration, milvusProjector } from './index.ts';
import { readRows } from './test/oracle.ts';
import { createOlderGeneration } from './test/older-format.ts';
import { tombstoneCollection } from './tombstones.ts';

const client = await connectMilvus(env('MILVUS_ADDRESS'));
const [filled, unfilled, fresh] = [randomInt(100_000, 400_000), randomInt(400_000, 700_000), randomInt(700_000, 1_000_000)];
const vector = Array.from({ length: EMBEDDING_DIM }, (_, i) => (i === 1 ? 1 : 0.5));

after(async () => {
  for (const generation of [filled, unfilled, fresh]) await dropGeneration(client, generation);
  await client.closeConnection();
});

const sinkOf = (generation: number) => milvusProjector.createSink({ generation, env: process.env, shadow: true });
const format = async (name: string) => (await client.describeCollection({ collection_name: name })).properties.find(({ key }) => key === 'nova.format')?.value;

const insert = (user_id: number): Change => ({
  kind: 'change', op: 'create', table: 'public.user_embeddings', key: { user_id }, before: null,
  after: { user_id, embedding: vector, model_version: 'm', updated_at: new Date(0) },
  version: 10n, commitOrder: 10n, streamSince: 0, txId: 1, commitTs: new Date(0), position: { topic: 'nova.recommendation.user_embeddings', partition: 0, offset: '0' },
});

test('every collection of a generation the sink creates is marked format 2', async () => {
  await (await sinkOf(fresh)).close();
  for (const name of [collectionName('user_embeddings', fresh), collectionName('post_embeddings', fresh), tombstoneCollection(fresh), collectionName('nova_checkpoints', fresh)]) {
    assert.equal(await format(name), '2', name);
  }
});

test('a generation the Nova before format 2 filled is refused, with the rebuild that repairs it, and left as it was', async () => {
  await createOlderGeneration(client, filled);
  const users = collectionName('user_embeddings', filled);
  const planted = await client.upsert({ collection_name: users, data: [{ user_id: 7, embedding: vector, model_version: 'old', updated_at: 0, lsn: 5 }] });
  assert.equal(planted.status.error_code, 'Success');
  await assert.rejects(sinkOf(filled), (error: Error) => {
    assert.match(error.message, new RegExp(`^milvus: generation ${filled} was written by a Nova before format 2 .*1 rows`));
    assert.match(error.message, new RegExp(`rebuild into a new generation M with \`scripts/nova projector rebuild milvus --generation M --snapshot\`, then promote it .*drop generation ${filled}$`));
    return true;
  });
  const kept = await client.query({ collection_name: users, filter: 'user_id == 7', output_fields: ['model_version', 'lsn'] });
  assert.deepEqual(kept.data, [{ user_id: '7', model_version: 'old', lsn: '5' }]);
  assert.equal(await format(users), undefined);
});

test('a generation the Nova before format 2 made but never filled is made anew in format 2', async () => {
  await createOlderGeneration(client, unfilled);
  const sink = await sinkOf(unfilled);
  try {
    await sink.apply(milvusProjector.mapping(insert(8)).map((op) => ({ op, change: insert(8) })), [], async () => assert.fail('nothing to reject'));
  } finally {
    await sink.close();
  }
  assert.equal(await format(collectionName('user_embeddings', unfilled)), '2');
  assert.equal((await readRows(client, unfilled, 'user_embeddings', { keys: [8] })).get('8')?.version, 10n);
});
