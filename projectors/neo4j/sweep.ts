// What a truncate or a users delete removes, removed after its batch's transaction, a chunk per
// transaction (graph-writes.ts says why and what the writes assume meanwhile). A batch that
// records one runs the sweep right after it commits; a process killed in between finds the
// sweep pending when its sink starts again (the generation node's truncates ahead of those it
// marks swept, or users still labelled pending) and finishes it. Every statement is safe to
// repeat, so a sweep cut short anywhere is finished by running it again.
import neo4j, { type Driver, type Record as Neo4jRecord } from 'neo4j-driver';
import { isBeforeTruncate, type Ordered } from '../runtime/decode/index.ts';
import { withSession } from './connection.ts';
import { at, later, type graphWrites, type Table } from './graph-writes.ts';

export type Truncates = Partial<Record<Table, Ordered>>;

/** The truncate `<prefix>CommitOrder` / `<prefix>Version` of a record (as text: 64-bit), if it has one. */
export function orderedIn(record: Neo4jRecord | undefined, prefix: string): Ordered | undefined {
  const [commitOrder, version] = [record?.get(`${prefix}CommitOrder`), record?.get(`${prefix}Version`)];
  return commitOrder === null || commitOrder === undefined ? undefined : { commitOrder: BigInt(commitOrder), version: BigInt(version) };
}

/** Is `truncate` later than `swept` (absent: before everything)? */
const unswept = (truncate: Ordered | undefined, swept: Ordered | undefined): truncate is Ordered =>
  truncate !== undefined && (swept === undefined || isBeforeTruncate(swept, truncate));

/** What of the truncates a record (lockGeneration's or readTruncates') shows unswept: the pairs' (a users truncate empties follows too) and the users'. */
export function unsweptTruncates(record: Neo4jRecord | undefined): Truncates {
  const [users, follows] = [orderedIn(record, 'users'), orderedIn(record, 'follows')];
  const pairs = later(users, follows);
  return {
    ...(unswept(pairs, orderedIn(record, 'followsSwept')) ? { follows: pairs } : {}),
    ...(unswept(users, orderedIn(record, 'usersSwept')) ? { users } : {}),
  };
}

/** Runs what is pending of the generation's sweeps. */
export async function sweep(driver: Driver, writes: ReturnType<typeof graphWrites>, generation: number): Promise<void> {
  const params = { generation: neo4j.int(generation) };
  await withSession(driver, async (session) => {
    const pending = unsweptTruncates((await session.run(writes.readTruncates, params)).records[0]);
    // the pairs first: a users truncate's nodes go only once nothing before it ends at them
    if (pending.follows) {
      const truncate = at(pending.follows);
      await session.run(writes.truncateFollows, { ...params, truncate });
      await session.run(writes.markSwept('follows'), { ...params, truncate });
    }
    if (pending.users) {
      const truncate = at(pending.users);
      await session.run(writes.deleteUsersBefore, { ...params, truncate });
      await session.run(writes.stripUsersBefore, { ...params, truncate });
      await session.run(writes.markSwept('users'), { ...params, truncate });
    }
    if ((await session.run(writes.pendingUsers)).records[0]?.get('pending') === true) {
      await session.run(writes.sweepDeletedUsers, params);
      await session.run(writes.unmarkSweptUsers, params);
    }
  });
}
