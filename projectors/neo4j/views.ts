// How readers (the API) reach the graph: the driver, the live generation's own label (looked up
// again at most once a second, like its checkpoints), so a promotion, which flips one flag
// (generations.ts), switches a reader between two queries and never shows it a mix of two
// generations. The seed's `User` label (graph-names.ts) follows in chunks, for other readers.
import type { Driver, Session } from 'neo4j-driver';
import type { Checkpoint } from '../runtime/sink.ts';
import { loadCheckpoints } from './checkpoint.ts';
import { connectNeo4j, withSession } from './connection.ts';
import { shared } from '../runtime/shared-read.ts';
import { neo4jGenerations } from './generations.ts';
import { readerGraph, userLabel, type ReaderGraph } from './graph-names.ts';

export type Neo4jViews = {
  readers: ReaderGraph;
  /** runs `read` with a session and the label of the live generation's nodes (`User_gN`) */
  read<T>(read: (session: Session, label: string) => Promise<T>): Promise<T>;
  checkpoints(): Promise<Checkpoint[]>;
  close(): Promise<void>;
};

export function openNeo4jViews(env: NodeJS.ProcessEnv, options: { projector?: string } = {}): Neo4jViews {
  const { projector = 'neo4j' } = options;
  const driver: Driver = connectNeo4j(env);
  const liveGeneration = shared(() => neo4jGenerations.live(env), 1_000);
  const readers = readerGraph(env);
  return {
    readers,
    async read(read) {
      const generation = await liveGeneration();
      // before any generation is live there is nothing to read: the reader label is empty then
      return withSession(driver, (session) => read(session, generation === undefined ? readers.label : userLabel(generation)));
    },
    async checkpoints() {
      const generation = await liveGeneration();
      return generation === undefined ? [] : loadCheckpoints(driver, { projector, generation });
    },
    close: () => driver.close(),
  };
}
