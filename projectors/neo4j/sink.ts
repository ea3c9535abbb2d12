// The Neo4j sink: a batch's ops and its checkpoints go in one transaction, so kill -9 at any
// point leaves both or neither. Every op is guarded by its LSN (graph-writes.ts), so a range
// read again after a crash, or replayed from the earliest offset, changes nothing.
import neo4j, { type Driver, type Transaction } from 'neo4j-driver';
import type { CheckpointStore, Sink } from '../runtime/sink.ts';
import { loadCheckpoints, writeCheckpoints } from './checkpoint.ts';
import { inTransaction } from './connection.ts';
import { ensureGraphSchema } from './generations.ts';
import { graphWrites, planWrites, type WritePlan } from './graph-writes.ts';
import type { GraphOp } from './mapping/index.ts';

export type Neo4jSinkOptions = {
  /** handed over: close() closes it */
  driver: Driver;
  generation: number;
  /** scopes the checkpoints (the contract tests use their own) */
  projector: string;
};

type GenerationState = { live: boolean; usersTruncatedAt: number; followsTruncatedAt: number };

async function applyPlan(tx: Transaction, writes: ReturnType<typeof graphWrites>, generation: number, plan: WritePlan) {
  const locked = (await tx.run(writes.lockGeneration, { generation: neo4j.int(generation) })).records[0];
  const state: GenerationState = {
    live: locked?.get('live') === true,
    usersTruncatedAt: locked?.get('usersTruncatedAt') ?? -1,
    followsTruncatedAt: locked?.get('followsTruncatedAt') ?? -1,
  };
  const { users: usersTruncate, follows: followsTruncate } = plan.truncates;
  // emptying users empties follows too (every follows row references users)
  const pairsTruncate = Math.max(usersTruncate ?? -1, followsTruncate ?? -1);
  if (pairsTruncate > state.followsTruncatedAt && pairsTruncate > state.usersTruncatedAt) {
    await tx.run(writes.truncateFollows, { lsn: neo4j.int(pairsTruncate) });
  }
  if (followsTruncate !== undefined && followsTruncate > state.followsTruncatedAt) {
    await tx.run(writes.markTruncated('followsTruncatedAt'), { generation: neo4j.int(generation), lsn: neo4j.int(followsTruncate) });
    state.followsTruncatedAt = followsTruncate;
  }
  if (usersTruncate !== undefined && usersTruncate > state.usersTruncatedAt) {
    const params = { generation: neo4j.int(generation), lsn: neo4j.int(usersTruncate), live: state.live };
    await tx.run(writes.markTruncated('usersTruncatedAt'), params);
    await tx.run(writes.deleteUsersBefore, params);
    await tx.run(writes.stripUsersBefore, params);
    state.usersTruncatedAt = usersTruncate;
  }
  const guards = { live: state.live, truncatedAt: neo4j.int(state.usersTruncatedAt) };
  if (plan.users.length > 0) await tx.run(writes.upsertUsers, { ...guards, rows: plan.users });
  if (plan.deletedUsers.length > 0) await tx.run(writes.deleteUsers, { ...guards, rows: plan.deletedUsers });
  if (plan.pairs.length > 0) {
    await tx.run(writes.writePairs, { live: state.live, truncatedAt: neo4j.int(Math.max(state.usersTruncatedAt, state.followsTruncatedAt)), rows: plan.pairs });
  }
}

export async function createNeo4jSink(options: Neo4jSinkOptions): Promise<Sink<GraphOp> & CheckpointStore> {
  const { driver, generation, projector } = options;
  const scope = { projector, generation };
  await ensureGraphSchema(driver, generation);
  const writes = graphWrites(generation);
  return {
    // nothing here is refused per record: a change the graph cannot take fails in its mapping
    async apply(ops, checkpoints) {
      const plan = planWrites(ops);
      await inTransaction(driver, async (tx) => {
        await applyPlan(tx, writes, generation, plan);
        await writeCheckpoints(tx, scope, checkpoints);
      });
    },
    load: () => loadCheckpoints(driver, scope),
    close: () => driver.close(),
  };
}
