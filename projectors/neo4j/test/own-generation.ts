// A Neo4j generation of one test file's own, with the connections the file uses: checked to be
// unused before its tests; afterwards its projector stopped, the generation (made live by its
// projector if nothing was) dropped with its consumer group, then `cleanup`, then the
// connections closed. `run` is a Cypher query in a session of its own.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Admin } from 'kafkajs';
import neo4j, { type Driver } from 'neo4j-driver';
import type pg from 'pg';
import { deleteConsumerGroup, stopProjector, type ProjectorProcess } from '../../runtime/testing/projector-process.ts';
import { dropGeneration, neo4jProjector } from '../index.ts';
import { projectorGroup } from '../../runtime/source/kafkajs-source.ts';

export type RunCypher = (cypher: string, params?: Record<string, unknown>) => Promise<neo4j.Record[]>;

export function ownGeneration(options: {
  generation: number;
  db: pg.Client;
  admin: Admin;
  driver: Driver;
  projector: () => ProjectorProcess | undefined;
  cleanup?: () => Promise<void>;
}): { run: RunCypher } {
  const { generation, db, admin, driver, projector, cleanup } = options;
  const run: RunCypher = async (cypher, params = {}) => {
    const session = driver.session();
    try {
      return (await session.run(cypher, params)).records;
    } finally {
      await session.close();
    }
  };
  before(async () => {
    await Promise.all([db.connect(), admin.connect()]);
    const [taken] = await run('MATCH (g:NovaGeneration {generation: $g}) RETURN g', { g: neo4j.int(generation) });
    assert.equal(taken, undefined, `generation ${generation} is in use`);
  });
  after(async () => {
    const running = projector();
    if (running) await stopProjector(running);
    // the projector made it live if nothing was: it must not be, to be dropped
    await run('MATCH (g:NovaGeneration {generation: $g}) SET g.live = false', { g: neo4j.int(generation) });
    await dropGeneration(driver, generation);
    await deleteConsumerGroup(admin, projectorGroup(neo4jProjector.name, generation));
    await cleanup?.();
    await Promise.all([db.end(), admin.disconnect(), driver.close()]);
  });
  return { run };
}
