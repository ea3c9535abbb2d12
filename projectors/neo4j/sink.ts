// The Neo4j sink: a batch's ops and its checkpoints go in one transaction, so kill -9 at any
// point leaves both or neither. Every op is guarded by its version and by the generation's
// truncates (graph-writes.ts), so a range read again after a crash, or replayed from the
// earliest offset, changes nothing.
import neo4j, { type Driver, type Record as Neo4jRecord, type Transaction } from 'neo4j-driver';
import type { Ordered } from '../runtime/decode/index.ts';
import type { CheckpointStore, Sink } from '../runtime/sink.ts';
import { loadCheckpoints, writeCheckpoints } from './checkpoint.ts';
import { inTransaction } from './connection.ts';
import { claimFormat, graphFormat } from './format.ts';
import { ensureGraphSchema } from './generations.ts';
import { at, graphWrites, later, planWrites, type Table, type WritePlan } from './graph-writes.ts';
import type { ReaderGraph } from './graph-names.ts';
import type { GraphOp } from './mapping/index.ts';

export type Neo4jSinkOptions = {
  /** handed over: close() closes it */
  driver: Driver;
  generation: number;
  /** scopes the checkpoints (the contract tests use their own) */
  projector: string;
  /** whom the live generation's writes label for (by default the seed's `User`) */
  readers?: ReaderGraph;
};

type Truncates = Partial<Record<Table, Ordered>>;
const tables: Table[] = ['users', 'follows'];

/** A table's newest truncate as lockGeneration read it (as text: 64-bit), if it has one. */
function truncateIn(record: Neo4jRecord | undefined, table: Table): Ordered | undefined {
  const [commitOrder, version] = [record?.get(`${table}CommitOrder`), record?.get(`${table}Version`)];
  return commitOrder === null || commitOrder === undefined ? undefined : { commitOrder: BigInt(commitOrder), version: BigInt(version) };
}

async function applyPlan(tx: Transaction, writes: ReturnType<typeof graphWrites>, generation: number, plan: WritePlan) {
  const params = { generation: neo4j.int(generation) };
  const locked = (await tx.run(writes.lockGeneration, { ...params, format: neo4j.int(graphFormat) })).records[0];
  const live = locked?.get('live') === true;
  const kept: Truncates = { users: truncateIn(locked, 'users'), follows: truncateIn(locked, 'follows') };
  const now: Truncates = { ...kept };
  for (const table of tables) {
    const truncate = later(now[table], plan.truncates[table]);
    if (truncate === now[table]) continue;
    await tx.run(writes.markTruncated(table), { ...params, truncate: at(truncate) });
    now[table] = truncate;
  }
  // emptying users empties follows too (every follows row references users)
  const [pairsKept, pairsNow] = [later(kept.users, kept.follows), later(now.users, now.follows)];
  if (pairsNow !== pairsKept) await tx.run(writes.truncateFollows, { truncate: at(pairsNow) });
  if (now.users !== kept.users) {
    await tx.run(writes.deleteUsersBefore, { live, truncate: at(now.users) });
    await tx.run(writes.stripUsersBefore, { live, truncate: at(now.users) });
  }
  const usersGuard = { live, truncate: at(now.users) };
  if (plan.users.length > 0) await tx.run(writes.upsertUsers, { ...usersGuard, rows: plan.users });
  if (plan.deletedUsers.length > 0) await tx.run(writes.deleteUsers, { ...usersGuard, rows: plan.deletedUsers });
  if (plan.pairs.length > 0) await tx.run(writes.writePairs, { live, truncate: at(pairsNow), rows: plan.pairs });
}

export async function createNeo4jSink(options: Neo4jSinkOptions): Promise<Sink<GraphOp> & CheckpointStore> {
  const { driver, generation, projector, readers } = options;
  const scope = { projector, generation };
  await ensureGraphSchema(driver, generation, readers);
  await claimFormat(driver, generation);
  const writes = graphWrites(generation, readers);
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
