// The Neo4j sink: a batch's ops and its checkpoints go in one transaction, so kill -9 at any
// point leaves both or neither; what a truncate or a users delete removes goes after it, in
// chunks (sweep.ts). Every op is guarded by its version and by the generation's
// truncates (graph-writes.ts), so a range read again after a crash, or replayed from the
// earliest offset, changes nothing.
import neo4j, { type Driver, type Transaction } from 'neo4j-driver';
import type { CheckpointStore, Sink } from '../runtime/sink.ts';
import { loadCheckpoints, writeCheckpoints } from './checkpoint.ts';
import { inTransaction } from './connection.ts';
import { claimFormat, graphFormat } from './format.ts';
import { ensureGraphSchema } from './generations.ts';
import { at, graphWrites, later, planWrites, type Table, type WritePlan } from './graph-writes.ts';
import type { ReaderGraph } from './graph-names.ts';
import type { GraphOp } from './mapping/index.ts';
import { orderedIn, sweep, unsweptTruncates, type Truncates } from './sweep.ts';

export type Neo4jSinkOptions = {
  /** handed over: close() closes it */
  driver: Driver;
  generation: number;
  /** scopes the checkpoints (the contract tests use their own) */
  projector: string;
  /** whom the live generation's writes label for (by default the seed's `User`) */
  readers?: ReaderGraph;
};

const tables: Table[] = ['users', 'follows'];

/**
 * Writes the plan in the batch's transaction; says whether it recorded a truncate, and whether
 * an earlier batch left a sweep unfinished (a crash, a failed sweep, a revoked call).
 */
async function applyPlan(tx: Transaction, writes: ReturnType<typeof graphWrites>, generation: number, plan: WritePlan): Promise<{ recorded: boolean; earlier: boolean }> {
  const params = { generation: neo4j.int(generation) };
  const locked = (await tx.run(writes.lockGeneration, { ...params, format: neo4j.int(graphFormat) })).records[0];
  const live = locked?.get('live') === true;
  const now: Truncates = { users: orderedIn(locked, 'users'), follows: orderedIn(locked, 'follows') };
  let truncated = false;
  for (const table of tables) {
    const truncate = later(now[table], plan.truncates[table]);
    if (truncate === now[table]) continue;
    await tx.run(writes.markTruncated(table), { ...params, truncate: at(truncate) });
    now[table] = truncate;
    truncated = true;
  }
  const usersGuard = { live, truncate: at(now.users) };
  if (plan.users.length > 0) await tx.run(writes.upsertUsers, { ...usersGuard, rows: plan.users });
  if (plan.deletedUsers.length > 0) await tx.run(writes.deleteUsers, { ...usersGuard, rows: plan.deletedUsers });
  if (plan.pairs.length > 0) await tx.run(writes.writePairs, { live, truncate: at(later(now.users, now.follows)), rows: plan.pairs });
  return { recorded: truncated, earlier: Object.keys(unsweptTruncates(locked)).length > 0 || locked?.get('usersPending') === true };
}

export async function createNeo4jSink(options: Neo4jSinkOptions): Promise<Sink<GraphOp> & CheckpointStore> {
  const { driver, generation, projector, readers } = options;
  const scope = { projector, generation };
  await ensureGraphSchema(driver, generation, readers);
  await claimFormat(driver, generation);
  const writes = graphWrites(generation, readers);
  // one sweep at a time per sink: calls that find one running wait for it
  let running: Promise<void> | undefined;
  const sweepOnce = () => (running ??= sweep(driver, writes, generation).finally(() => (running = undefined)));
  // what a process killed before finishing one left; should it fail, the next batch tries again
  await sweepOnce().catch(() => {});
  return {
    // nothing here is refused per record: a change the graph cannot take fails in its mapping
    async apply(ops, checkpoints) {
      const plan = planWrites(ops);
      const { recorded, earlier } = await inTransaction(driver, async (tx) => {
        const found = await applyPlan(tx, writes, generation, plan);
        await writeCheckpoints(tx, scope, checkpoints);
        return found;
      });
      // after the commit. The sweep this batch recorded fails the call if it fails (its retry
      // finds it pending, then as an earlier one); an earlier batch's is only tried again here,
      // so that a sweep that keeps failing does not fail innocent batches (it stays recorded)
      const usersDeleted = plan.deletedUsers.length > 0;
      if (recorded || usersDeleted) await sweepOnce();
      else if (earlier) await sweepOnce().catch(() => {});
    },
    load: () => loadCheckpoints(driver, scope),
    close: () => driver.close(),
  };
}
