// Blue/green for the graph (the scheme and its cost: graph-names.ts). The live generation is
// the one whose (:NovaGeneration) node says live. Promoting flips that flag in one small
// transaction: Nova's readers address the live generation's own label (views.ts), so they see
// one whole generation or the other, never a mix. The seed's `User` label then moves from the
// old generation's nodes to the new one's in chunks of 10,000 (a single transaction over a
// million nodes exceeds the server's transaction memory: scripts/nova bench neo4j-promote); a
// promotion cut short midway is finished by running it again. A reader namespace has its own
// label and live flag (readerGraph), so it promotes without touching `User`.
import neo4j, { type Driver, type Session } from 'neo4j-driver';
import type { Generations } from '../runtime/sink.ts';
import { connectNeo4j, inTransaction, withSession } from './connection.ts';
import { rowsPerTransaction } from './graph-writes.ts';
import { checkpointLabel, generationLabel, isVisible, readerGraph, seedReaderGraph, userConstraint, userLabel, type ReaderGraph } from './graph-names.ts';

/** Idempotent, at sink start: the generation's uniqueness constraint and what every generation shares. */
export async function ensureGraphSchema(driver: Driver, generation: number, readers: ReaderGraph = seedReaderGraph): Promise<void> {
  const label = userLabel(generation);
  await withSession(driver, async (session) => {
    for (const statement of [
      `CREATE CONSTRAINT ${userConstraint(generation)} IF NOT EXISTS FOR (u:${label}) REQUIRE u.id IS UNIQUE`,
      `CREATE CONSTRAINT nova_generation IF NOT EXISTS FOR (g:${generationLabel}) REQUIRE g.generation IS UNIQUE`,
      `CREATE CONSTRAINT nova_checkpoint IF NOT EXISTS FOR (c:${checkpointLabel}) REQUIRE (c.projector, c.generation, c.topic, c.partition) IS UNIQUE`,
      // readers start at (:User {id}); not unique, since both generations carry `User` for
      // a moment inside the promoting transaction
      `CREATE INDEX ${readers.labelIndex} IF NOT EXISTS FOR (u:${readers.label}) ON (u.id)`,
    ]) {
      await session.run(statement);
    }
    await session.run('CALL db.awaitIndexes(300)');
  });
}

const liveIn = (readers: ReaderGraph) => async (session: Session): Promise<number | undefined> =>
  (await session.run(`MATCH (g:${generationLabel}) WHERE g.${readers.liveFlag} RETURN g.generation AS generation`)).records[0]?.get('generation');

export async function promote(driver: Driver, generation: number, readers: ReaderGraph = seedReaderGraph): Promise<void> {
  const label = userLabel(generation);
  const { label: liveLabel, liveFlag } = readers;
  await inTransaction(driver, async (tx) => {
    // setting the flags first takes both generations' locks: their batches wait for this
    const flagged = await tx.run(
      `MATCH (g:${generationLabel}) WHERE g.${liveFlag} OR g.generation = $generation
       SET g.${liveFlag} = (g.generation = $generation)
       RETURN collect(g.generation) AS generations`,
      { generation: neo4j.int(generation) },
    );
    if (!(flagged.records[0]?.get('generations') as number[]).includes(generation)) {
      throw new Error(`generation ${generation} has never been filled: rebuild it first`);
    }
  });
  // the seed's label follows, a chunk per transaction; the live generation's writes label
  // their own new nodes from the flag on (graph-writes.ts), the old one's no longer do
  await withSession(driver, async (session) => {
    await session.run(`MATCH (u:${liveLabel}) WHERE NOT u:${label} CALL (u) { REMOVE u:${liveLabel} } IN TRANSACTIONS OF ${rowsPerTransaction} ROWS`);
    await session.run(`MATCH (u:${label}) WHERE ${isVisible('u')} AND NOT u:${liveLabel} CALL (u) { SET u:${liveLabel} } IN TRANSACTIONS OF ${rowsPerTransaction} ROWS`);
  });
}

/** At projector start: with no live generation yet, this one becomes live (as the first Elasticsearch alias does). */
export async function claimLiveIfNone(driver: Driver, generation: number, readers: ReaderGraph = seedReaderGraph): Promise<void> {
  const live = await withSession(driver, liveIn(readers));
  if (live === undefined) {
    await withSession(driver, (session) => session.run(`MERGE (g:${generationLabel} {generation: $generation})`, { generation: neo4j.int(generation) }));
    await promote(driver, generation, readers);
  }
}

/**
 * Removes a generation that is not live for `readers` nor for the seed's names: its nodes (in
 * chunks), checkpoints, generation node and constraint.
 */
export async function dropGeneration(driver: Driver, generation: number, readers: ReaderGraph = seedReaderGraph): Promise<void> {
  const label = userLabel(generation);
  await withSession(driver, async (session) => {
    for (const names of new Set([readers, seedReaderGraph])) {
      if ((await liveIn(names)(session)) === generation) throw new Error(`generation ${generation} is live; promote another one first`);
    }
    // relationships first: a chunk of nodes detached at once could carry millions of them
    await session.run(`MATCH (:${label})-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF ${rowsPerTransaction} ROWS`);
    await session.run(`MATCH (u:${label}) CALL (u) { DETACH DELETE u } IN TRANSACTIONS OF ${rowsPerTransaction} ROWS`);
    for (const bookkeeping of [checkpointLabel, generationLabel]) {
      await session.run(`MATCH (n:${bookkeeping} {generation: $generation}) DELETE n`, { generation: neo4j.int(generation) });
    }
    await session.run(`DROP CONSTRAINT ${userConstraint(generation)} IF EXISTS`);
  });
}

async function withDriver<T>(env: NodeJS.ProcessEnv, work: (driver: Driver) => Promise<T>): Promise<T> {
  const driver = connectNeo4j(env);
  try {
    return await work(driver);
  } finally {
    await driver.close();
  }
}

export const neo4jGenerations: Generations = {
  live: (env) => withDriver(env, (driver) => withSession(driver, liveIn(readerGraph(env)))),
  promote: (generation, env) => withDriver(env, (driver) => promote(driver, generation, readerGraph(env))),
  drop: (generation, env) => withDriver(env, (driver) => dropGeneration(driver, generation, readerGraph(env))),
};
