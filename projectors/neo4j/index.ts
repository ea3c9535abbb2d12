// The Neo4j projector: the seed's social graph (section 4.2), User nodes and FOLLOWS
// relationships, from public.users and public.follows.
import type { ProjectorDefinition } from '../runtime/sink.ts';
import { connectNeo4j } from './connection.ts';
import { compareNeo4jWithPostgres } from './drift.ts';
import { claimLiveIfNone, neo4jGenerations } from './generations.ts';
import { readerGraph } from './graph-names.ts';
import { mapToGraph, neo4jTopics, type GraphOp } from './mapping/index.ts';
import { createNeo4jSink } from './sink.ts';
import { collectNeo4jTombstones } from './tombstones.ts';

export type { GraphOp } from './mapping/index.ts';
export { connectNeo4j } from './connection.ts';
export { compareNeo4jWithPostgres } from './drift.ts';
export { dropGeneration, neo4jGenerations, promote } from './generations.ts';
export { liveLabel, readerGraph, userLabel, type ReaderGraph } from './graph-names.ts';
export { createNeo4jSink, type Neo4jSinkOptions } from './sink.ts';

const name = 'neo4j';

export const neo4jProjector: ProjectorDefinition<GraphOp> = {
  name,
  topics: neo4jTopics,
  mapping: mapToGraph,
  // a follow that moves to another pair leaves that pair: every change's `before` must arrive
  batchChanges: 'every-change',
  async createSink({ generation, env, shadow }) {
    const driver = connectNeo4j(env);
    try {
      const readers = readerGraph(env);
      const sink = await createNeo4jSink({ driver, generation, projector: name, readers });
      if (!shadow) await claimLiveIfNone(driver, generation, readers);
      return sink;
    } catch (error) {
      // as thrown: the driver's failures come out of connection.ts classified, and a refused
      // generation (format.ts) is no store failure
      await driver.close();
      throw error;
    }
  },
  generations: neo4jGenerations,
  collectTombstones: collectNeo4jTombstones,
  compareWithPostgres: compareNeo4jWithPostgres,
};
