// ALTER TABLE ... DELETE is a mutation: the statement returns once the mutation is queued, and
// ClickHouse rewrites the table's parts in the background. 18.16 has no setting to wait for it
// (mutations_sync came later: system.settings has no such name), so deleteWhere watches
// system.mutations until it is done.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { sqlIdentifier, sqlString } from './escape.ts';

const pollMs = 100;
const patienceMs = 120_000;

/**
 * Deletes the rows of `table` that match `condition` (SQL built with escape.ts) and returns once
 * no reader sees them any more: when the mutation is done.
 */
export async function deleteWhere(client: ClickHouseClient, table: string, condition: string): Promise<void> {
  await client.command({ query: `ALTER TABLE ${sqlIdentifier(table)} DELETE WHERE ${condition}` });
  const pending = `FROM system.mutations WHERE database = currentDatabase() AND table = ${sqlString(table)} AND is_done = 0`;
  const pendingIds = async (among?: string[]) => {
    const only = among ? ` AND mutation_id IN (${among.map(sqlString).join(', ')})` : '';
    const rows = await (await client.query({ query: `SELECT mutation_id ${pending}${only}`, format: 'JSONEachRow' })).json<{ mutation_id: string }>();
    return rows.map((row) => row.mutation_id);
  };
  // The server records the mutation before the ALTER returns, so ours is among those pending
  // now unless it is done already; the others were queued before it (ours cannot end before
  // them: mutations are applied to a part in order) or just after it. A done mutation may also
  // leave system.mutations (finished_mutations_to_keep): gone counts as done.
  let left = await pendingIds();
  const deadline = Date.now() + patienceMs;
  while (left.length > 0) {
    if (Date.now() > deadline) throw new Error(`clickhouse: ${table}: mutation ${left.join(', ')} is not done after ${patienceMs / 1000} s (see system.mutations)`);
    await sleep(pollMs);
    left = await pendingIds(left);
  }
}
