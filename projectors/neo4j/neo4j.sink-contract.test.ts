// The runtime's shared sink contract against the real Neo4j, in a generation of its own.
import { randomInt } from 'node:crypto';
import { after } from 'node:test';
import { followChange } from '../runtime/testing/change-fixtures.ts';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { connectNeo4j, createNeo4jSink, dropGeneration } from './index.ts';
import { mapToGraph } from './mapping/index.ts';
import { graphState, sortedState } from './test/graph-snapshot.ts';

const generation = randomInt(1_000_000, 2_000_000);
const driver = connectNeo4j(process.env);
after(async () => {
  await dropGeneration(driver, generation);
  await driver.close();
});

// a blocked follow (newer) must not be brought back by the older active one
const follow = (lsn: number, id: number, status: string) => followChange(lsn, id, status, new Date(1_700_000_000_000));

sinkContract({
  store: 'neo4j',
  mapping: mapToGraph,
  sink: () => createNeo4jSink({ driver: connectNeo4j(process.env), generation, projector: `contract-${generation}` }),
  snapshot: async () => sortedState(await graphState(driver, generation)),
  reset: () => dropGeneration(driver, generation),
  fixtures: { older: follow(100, 1, 'active'), newer: follow(200, 1, 'blocked'), other: follow(150, 2, 'active') },
});
