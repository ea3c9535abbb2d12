// The runtime's shared sink contract against the real Neo4j, in a generation of its own. The
// rows are users rows (their variants differ in username and bio), read back as readers see
// the generation (reader-view.ts); a users truncate empties follows too, the harder case.
import { randomInt } from 'node:crypto';
import { after } from 'node:test';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { connectNeo4j, createNeo4jSink, dropGeneration } from './index.ts';
import { mapToGraph } from './mapping/index.ts';
import { readerView } from './reader-view.ts';
import { userUpsert } from './test/changes.ts';

const generation = randomInt(1_000_000, 2_000_000);
const driver = connectNeo4j(process.env);
after(async () => {
  await dropGeneration(driver, generation);
  await driver.close();
});

sinkContract({
  store: 'neo4j',
  mapping: mapToGraph,
  sink: () => createNeo4jSink({ driver: connectNeo4j(process.env), generation, projector: `contract-${generation}` }),
  view: () => readerView(driver, generation),
  reset: () => dropGeneration(driver, generation),
  row: (id, variant) => userUpsert(id, `user-${id}-${variant}`, 1),
  truncates: 'exact',
});
