// Blue/green for the graph (the scheme and its cost: graph-names.ts). The live generation is
// the one whose (:NovaGeneration) node says live; its nodes carry `User`. Promoting moves
// that label from the old generation's nodes to the new one's in one transaction, so readers
// see one whole generation or the other, never a mix.
import neo4j, { type Driver, type Session } from 'neo4j-driver';
import type { Generations } from '../runtime/sink.ts';
import { connectNeo4j, inTransaction, withSession } from './connection.ts';
import { checkpointLabel, generationLabel, isVisible, liveLabel, userConstraint, userLabel } from './graph-names.ts';

/** Idempotent, at sink start: the generation's uniqueness constraint and what every generation shares. */
export async function ensureGraphSchema(driver: Driver, generation: number): Promise<void> {
  const label = userLabel(generation);
  await withSession(driver, async (session) => {
    for (const statement of [
      `CREATE CONSTRAINT ${userConstraint(generation)} IF NOT EXISTS FOR (u:${label}) REQUIRE u.id IS UNIQUE`,
      `CREATE CONSTRAINT nova_generation IF NOT EXISTS FOR (g:${generationLabel}) REQUIRE g.generation IS UNIQUE`,
      `CREATE CONSTRAINT nova_checkpoint IF NOT EXISTS FOR (c:${checkpointLabel}) REQUIRE (c.projector, c.generation, c.topic, c.partition) IS UNIQUE`,
      // readers start at (:User {id}); not unique, since both generations carry `User` for
      // a moment inside the promoting transaction
      `CREATE INDEX nova_user_id IF NOT EXISTS FOR (u:${liveLabel}) ON (u.id)`,
    ]) {
      await session.run(statement);
    }
    await session.run('CALL db.awaitIndexes(300)');
  });
}

const liveIn = async (session: Session): Promise<number | undefined> =>
  (await session.run(`MATCH (g:${generationLabel} {live: true}) RETURN g.generation AS generation`)).records[0]?.get('generation');

export async function promote(driver: Driver, generation: number): Promise<void> {
  const label = userLabel(generation);
  await inTransaction(driver, async (tx) => {
    // setting the flags first takes both generations' locks: their batches wait for this
    const flagged = await tx.run(
      `MATCH (g:${generationLabel}) WHERE g.live OR g.generation = $generation
       SET g.live = (g.generation = $generation)
       RETURN collect(g.generation) AS generations`,
      { generation: neo4j.int(generation) },
    );
    if (!(flagged.records[0]?.get('generations') as number[]).includes(generation)) {
      throw new Error(`generation ${generation} has never been filled: rebuild it first`);
    }
    await tx.run(`MATCH (u:${liveLabel}) WHERE NOT u:${label} REMOVE u:${liveLabel}`);
    await tx.run(`MATCH (u:${label}) WHERE ${isVisible('u')} SET u:${liveLabel}`);
  });
}

/** At projector start: with no live generation yet, this one becomes live (as the first Elasticsearch alias does). */
export async function claimLiveIfNone(driver: Driver, generation: number): Promise<void> {
  const live = await withSession(driver, liveIn);
  if (live === undefined) {
    await withSession(driver, (session) => session.run(`MERGE (g:${generationLabel} {generation: $generation}) ON CREATE SET g.live = false`, { generation: neo4j.int(generation) }));
    await promote(driver, generation);
  }
}

/** Removes a generation that is not live: its nodes (in chunks), checkpoints, generation node and constraint. */
export async function dropGeneration(driver: Driver, generation: number): Promise<void> {
  const label = userLabel(generation);
  await withSession(driver, async (session) => {
    if ((await liveIn(session)) === generation) throw new Error(`generation ${generation} is live; promote another one first`);
    await session.run(`MATCH (u:${label}) CALL (u) { DETACH DELETE u } IN TRANSACTIONS OF 10000 ROWS`);
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
  live: (env) => withDriver(env, (driver) => withSession(driver, liveIn)),
  promote: (generation, env) => withDriver(env, (driver) => promote(driver, generation)),
  drop: (generation, env) => withDriver(env, (driver) => dropGeneration(driver, generation)),
};
