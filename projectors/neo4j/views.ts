// How readers (the API) reach the graph: the driver, the label their reader namespace queries
// (graph-names.ts; `User` by default), and the projector's checkpoints in the live generation,
// looked up again at most once a second.
import type { Driver, Session } from 'neo4j-driver';
import type { Checkpoint } from '../runtime/sink.ts';
import { loadCheckpoints } from './checkpoint.ts';
import { connectNeo4j, withSession } from './connection.ts';
import { shared } from '../runtime/shared-read.ts';
import { neo4jGenerations } from './generations.ts';
import { readerGraph, type ReaderGraph } from './graph-names.ts';

export type Neo4jViews = {
  readers: ReaderGraph;
  read<T>(read: (session: Session) => Promise<T>): Promise<T>;
  checkpoints(): Promise<Checkpoint[]>;
  close(): Promise<void>;
};

export function openNeo4jViews(env: NodeJS.ProcessEnv, options: { projector?: string } = {}): Neo4jViews {
  const { projector = 'neo4j' } = options;
  const driver: Driver = connectNeo4j(env);
  const liveGeneration = shared(() => neo4jGenerations.live(env), 1_000);
  return {
    readers: readerGraph(env),
    read: (read) => withSession(driver, read),
    async checkpoints() {
      const generation = await liveGeneration();
      return generation === undefined ? [] : loadCheckpoints(driver, { projector, generation });
    },
    close: () => driver.close(),
  };
}
