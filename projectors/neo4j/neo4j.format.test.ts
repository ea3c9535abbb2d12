// The generation format marker against the real server: a generation an older Nova filled
// (User_gN nodes and no format 2 on its NovaGeneration node) is refused with the repair; an
// empty one is claimed as format 2, and a format-2 one opens again.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, test } from 'node:test';
import neo4j from 'neo4j-driver';
import { graphFormat } from './format.ts';
import { connectNeo4j, createNeo4jSink, dropGeneration, neo4jProjector, userLabel } from './index.ts';
import { opsOf, userUpsert } from './test/changes.ts';

const driver = connectNeo4j(process.env);
const generations: number[] = [];
const fresh = () => {
  const generation = randomInt(6_000_000, 7_000_000);
  generations.push(generation);
  return generation;
};

after(async () => {
  for (const generation of generations) await dropGeneration(driver, generation);
  await driver.close();
});

async function query(cypher: string, params: Record<string, unknown> = {}) {
  const session = driver.session();
  try {
    return (await session.run(cypher, params)).records.map((r) => r.toObject());
  } finally {
    await session.close();
  }
}
const generationNode = async (generation: number) => (await query('MATCH (g:NovaGeneration {generation: $g}) RETURN g.format AS format', { g: neo4j.int(generation) }))[0];

test('a generation an older Nova filled is refused, naming it and the repair, and is left as it was', async () => {
  for (const withGenerationNode of [true, false]) {
    const generation = fresh();
    // what the previous Nova left: nodes with an `lsn`, a generation node without a format
    await query(`CREATE (:${userLabel(generation)} {id: 1, username: 'old', lsn: 5})`);
    if (withGenerationNode) await query('CREATE (:NovaGeneration {generation: $g, live: false, usersTruncatedAt: -1})', { g: neo4j.int(generation) });
    await assert.rejects(neo4jProjector.createSink({ generation, env: process.env, shadow: true }), (error: Error) => {
      assert.match(error.message, new RegExp(`generation ${generation} was filled by a Nova before graph format 2`));
      assert.match(error.message, /`scripts\/nova projector rebuild neo4j --generation M --snapshot`, then promote it/);
      return true;
    });
    assert.deepEqual(await generationNode(generation), withGenerationNode ? { format: null } : undefined, 'nothing written');
  }
});

test('an empty generation is claimed as format 2; once filled it opens again', async () => {
  const generation = fresh();
  const sink = await createNeo4jSink({ driver: connectNeo4j(process.env), generation, projector: `format-test-${generation}` });
  await sink.apply(opsOf(userUpsert(1, 'new', 10)), [], async () => {});
  await sink.close();
  assert.deepEqual(await generationNode(generation), { format: graphFormat });
  const reopened = await createNeo4jSink({ driver: connectNeo4j(process.env), generation, projector: `format-test-${generation}` });
  await reopened.close();
});

test('an empty generation an older Nova left (a generation node, no users) is claimed as format 2', async () => {
  const generation = fresh();
  await query('CREATE (:NovaGeneration {generation: $g, live: false})', { g: neo4j.int(generation) });
  const sink = await createNeo4jSink({ driver: connectNeo4j(process.env), generation, projector: `format-test-${generation}` });
  await sink.close();
  assert.deepEqual(await generationNode(generation), { format: graphFormat });
});
