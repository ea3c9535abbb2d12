// The generation seam against the real milvus-lite: aliases exist there, a search through one
// reads the collection it points at, and a swap moves it. Swaps and promotions move aliases of
// this file's own: the stable names, which readers may be searching, never point at this file's
// generations (checked at the end; other processes may promote on them meanwhile).
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, test } from 'node:test';
import { env } from '../../scripts/stack.d/test/stack.ts';
import type { Change } from '../runtime/decode/index.ts';
import { embeddingCollections } from './collections.ts';
import { EMBEDDING_DIM, aliasNames, aliasTarget, collectionName, connectMilvus, createMilvusSink, dropGeneration, ensureGeneration, milvusGenerations, pointAlias, swapAliases, type AliasNames } from './index.ts';
import { mapChange } from './mapping/index.ts';

const client = await connectMilvus(env('MILVUS_ADDRESS'));
const [g1, g2] = [randomInt(100_000, 500_000), randomInt(500_000, 1_000_000)];
const testAlias = `generation_test_${g1}`;
/** the stable names as this file's own */
const aliases: AliasNames = { user_embeddings: `${testAlias}_user_embeddings`, post_embeddings: `${testAlias}_post_embeddings` };
const stableTargets = () => Promise.all(embeddingCollections.map((collection) => aliasTarget(client, aliasNames[collection])));

const towards = (axis: number): number[] => Array.from({ length: EMBEDDING_DIM }, (_, i) => (i === axis ? 1 : 0.01));

/** One user embedding per generation, each along its own axis: a search says which generation answered. */
async function plant(generation: number, user_id: number) {
  const change: Change = {
    kind: 'change', op: 'create', table: 'public.user_embeddings', key: { user_id }, before: null,
    after: { user_id, embedding: towards(user_id), model_version: 'm', updated_at: new Date(0) },
    version: 1n, commitOrder: 1n, streamSince: 0, txId: 1, commitTs: new Date(0), position: { topic: 'nova.recommendation.user_embeddings', partition: 0, offset: '0' },
  };
  const sink = createMilvusSink({ client, generation, projector: 'generation-test', writeLeaseMs: 5_000 });
  await sink.apply(mapChange(change).map((op) => ({ op, change })), [], async () => assert.fail('nothing to reject'));
}

/** The user ids a search through `name` finds nearest to the axes 1 and 2. */
async function answers(name: string): Promise<number[]> {
  const found = await client.search({ collection_name: name, data: [towards(1)], limit: 5, output_fields: ['user_id'] });
  return found.results.map((hit) => Number(hit['user_id']));
}

before(async () => {
  for (const [generation, user] of [[g1, 1], [g2, 2]] as const) {
    await ensureGeneration(client, generation, { aliases });
    await plant(generation, user);
  }
});

after(async () => {
  const stable = await stableTargets();
  const live = (generation: number) => embeddingCollections.some((collection) => stable.includes(collectionName(collection, generation)));
  // dropping a generation drops the aliases still pointing at it: one a stable name points at is left in place
  for (const generation of [g1, g2].filter((generation) => !live(generation))) await dropGeneration(client, generation);
  await client.closeConnection();
  assert.deepEqual([g1, g2].filter(live), [], "no stable name points at a generation of this file's own");
});

test('an alias reads the collection it points at; pointAlias moves it and says where from', async () => {
  assert.equal(await pointAlias(client, testAlias, collectionName('user_embeddings', g1)), undefined, 'a new alias');
  assert.deepEqual(await answers(testAlias), [1]);
  assert.equal(await pointAlias(client, testAlias, collectionName('user_embeddings', g2)), collectionName('user_embeddings', g1));
  assert.deepEqual(await answers(testAlias), [2]);
  assert.equal(await pointAlias(client, testAlias, collectionName('user_embeddings', g2)), undefined, 'already there: nothing moves');
});

test('swapAliases points every alias at a generation; starting a projector never moves one', async () => {
  const [atG1, atG2] = [g1, g2].map((generation) => embeddingCollections.map((collection) => collectionName(collection, generation)));
  // ensureGeneration created the aliases that did not exist (for g1) and left them (for g2)
  assert.deepEqual(await Promise.all(embeddingCollections.map((collection) => aliasTarget(client, aliases[collection]))), atG1);
  assert.deepEqual(await swapAliases(client, g2, aliases), atG1);
  assert.deepEqual(await answers(aliases.user_embeddings), [2]);
  assert.equal(await aliasTarget(client, aliases.post_embeddings), collectionName('post_embeddings', g2));
  await ensureGeneration(client, g1, { aliases });
  assert.equal(await aliasTarget(client, aliases.user_embeddings), collectionName('user_embeddings', g2), 'ensureGeneration left the alias alone');
  assert.deepEqual(await swapAliases(client, g1, aliases), atG2);
  assert.deepEqual(await answers(aliases.user_embeddings), [1]);
});

test('dropping a generation drops the aliases still pointing at it', async () => {
  const extra = randomInt(1_000_000, 2_000_000);
  await ensureGeneration(client, extra, { shadow: true });
  await pointAlias(client, testAlias, collectionName('user_embeddings', extra));
  await dropGeneration(client, extra);
  assert.equal(await aliasTarget(client, testAlias), undefined);
  assert.equal((await client.hasCollection({ collection_name: collectionName('user_embeddings', extra) })).value, false);
});

test('the Generations port: live follows promote; promote refuses an unbuilt generation, drop the live one', async () => {
  const generations = milvusGenerations({ aliases });
  await generations.promote(g2, process.env);
  assert.equal(await generations.live(process.env), g2);
  assert.deepEqual(await answers(aliases.user_embeddings), [2]);
  await assert.rejects(generations.drop(g2, process.env), /generation \d+ is live/);
  await assert.rejects(generations.promote(g2 + 1, process.env), /has no user_embeddings_v\d+, .*rebuild it first/);
  const old = randomInt(2_000_000, 3_000_000);
  await ensureGeneration(client, old, { shadow: true });
  await generations.drop(old, process.env);
  assert.equal((await client.hasCollection({ collection_name: collectionName('nova_checkpoints', old) })).value, false, 'its checkpoints go too');
});
