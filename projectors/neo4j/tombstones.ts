// Forgetting the graph's tombstones below the horizon (runtime/tombstones/horizon.ts): a
// FOLLOWS_TOMBSTONE refuses older changes of its pair, a deleted user's node older changes of
// the user and of pairs ending at it; once no retained record is older, neither has anything
// left to refuse. Chunked and generation-locked like the sweeps (graph-writes.ts).
import neo4j from 'neo4j-driver';
import type { CollectTombstones } from '../runtime/sink.ts';
import { connectNeo4j, withSession } from './connection.ts';
import { graphWrites } from './graph-writes.ts';
import { readerGraph } from './graph-names.ts';
import { neo4jTopics } from './mapping/index.ts';

const [usersTopic, followsTopic] = neo4jTopics as [string, string];

export const collectNeo4jTombstones: CollectTombstones = async ({ generation, env, horizon }) => {
  const writes = graphWrites(generation, readerGraph(env));
  const driver = connectNeo4j(env);
  try {
    return await withSession(driver, async (session) => {
      const params = { generation: neo4j.int(generation) };
      const pairs = await session.run(writes.collectPairTombstones, { ...params, horizon: neo4j.int(horizon(followsTopic)) });
      const lower = [horizon(usersTopic), horizon(followsTopic)].reduce((a, b) => (a < b ? a : b));
      const users = await session.run(writes.collectUserTombstones, { ...params, horizon: neo4j.int(lower) });
      return { FOLLOWS_TOMBSTONE: pairs.summary.counters.updates().relationshipsDeleted, 'deleted users': users.summary.counters.updates().nodesDeleted };
    });
  } finally {
    await driver.close();
  }
};
