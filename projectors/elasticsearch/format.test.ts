// Against the real Elasticsearch: what an older Nova left behind. A generation it filled is
// refused by createSink and by promote, naming the repair; one it created but never filled is
// taken and brought to format 2; its checkpoint index gains commitOrder. Each run uses its own
// generation and index names, removed afterwards.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { env } from '../../scripts/stack.d/test/stack.ts';
import { checkpointMappings } from './checkpoint.ts';
import { aliasNames, elasticsearchProjector, indexName, type AliasName } from './index.ts';
import { indexMappings } from './index-mappings.ts';
import { aliasTargets, ensureIndex } from './index-names.ts';
import { tombstoneField } from './tombstones.ts';

const es = new Client({ node: env('ELASTICSEARCH_URL') });
const generation = randomInt(100_000, 1_000_000);
const indices = aliasNames.map((alias) => indexName(alias, generation));
const oldCheckpoints = `nova_contract_${generation}_checkpoints`;

after(async () => {
  await es.indices.delete({ index: [...indices, oldCheckpoints], ignore_unavailable: true });
  await es.close();
});

/** As an older Nova created a generation index: today's mappings without the tombstone field, and no _meta. */
function olderIndex(alias: AliasName) {
  const { [tombstoneField]: _, ...properties } = indexMappings[alias].properties;
  return es.indices.create({ index: indexName(alias, generation), settings: { number_of_replicas: 0 }, mappings: { dynamic: 'strict', properties } });
}

const refusal = new RegExp(
  `generation ${generation} \\(posts_v${generation}, documents: 1\\) was written by an older Nova.*` +
    'scripts/nova projector rebuild elasticsearch --generation M --snapshot, then scripts/nova projector promote elasticsearch --generation M',
);

describe('elasticsearch generation format (real server)', () => {
  test('a generation an older Nova filled is refused, naming the repair; emptied, it is taken as format 2', async () => {
    for (const alias of aliasNames) await olderIndex(alias);
    await es.index({ index: indexName('posts', generation), id: '1', document: { text: 'read at the snapshot LSN' } });
    // not a shadow: the refusal must come before any alias is claimed
    await assert.rejects(elasticsearchProjector.createSink({ generation, env: process.env }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, refusal);
      return true;
    });
    await assert.rejects(elasticsearchProjector.generations!.promote(generation, process.env), refusal);
    for (const alias of aliasNames) {
      assert.ok(!(await aliasTargets(es, alias)).includes(indexName(alias, generation)), `no reader alias moved to the refused generation (${alias})`);
    }
    assert.equal((await es.count({ index: indexName('posts', generation) })).count, 1, 'nothing of it was deleted');

    await es.delete({ index: indexName('posts', generation), id: '1', refresh: true });
    const sink = await elasticsearchProjector.createSink({ generation, env: process.env, shadow: true });
    await sink.close();
    for (const index of indices) {
      const { mappings } = (await es.indices.getMapping({ index }))[index] ?? {};
      assert.deepEqual(mappings?._meta, { nova_format: 2 });
      assert.deepEqual(mappings?.properties?.[tombstoneField], { type: 'boolean' }, `${index} takes tombstones`);
    }
  });

  test('a checkpoint index an older Nova made gains commitOrder, and doing it again changes nothing', async () => {
    const { commitOrder: _, ...older } = checkpointMappings.properties;
    await es.indices.create({ index: oldCheckpoints, settings: { number_of_replicas: 0 }, mappings: { dynamic: 'strict', properties: { ...older, lsn: { type: 'long' } } } });
    await ensureIndex(es, oldCheckpoints, checkpointMappings, 0);
    await ensureIndex(es, oldCheckpoints, checkpointMappings, 0);
    const properties = (await es.indices.getMapping({ index: oldCheckpoints }))[oldCheckpoints]?.mappings.properties;
    assert.deepEqual([properties?.['commitOrder'], properties?.['lsn']], [{ type: 'keyword' }, { type: 'long' }]);
    // strict: a document with the new field is taken only because the mapping now has it
    const written = await es.index({ index: oldCheckpoints, document: { projector: 'p', generation, topic: 't', partition: 0, nextOffset: '1', commitOrder: '216172786356208050' } });
    assert.equal(written.result, 'created');
  });
});
