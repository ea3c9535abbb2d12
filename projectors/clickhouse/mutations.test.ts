// deleteWhere against the real server: it returns only once the mutation is done. Merges (and
// with them mutations) are stopped on a scratch table, so the mutation cannot finish before
// they are started again.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, test } from 'node:test';
import { waitFor } from '../../scripts/stack.d/test/stack.ts';
import { clickhouseClient } from './client.ts';
import { sqlIdentifier, sqlString } from './escape.ts';
import { deleteWhere } from './mutations.ts';

const client = clickhouseClient(process.env);
const table = `mutation_test_${randomInt(1_000_000_000)}`;

after(async () => {
  await client.command({ query: `DROP TABLE IF EXISTS ${sqlIdentifier(table)}` });
  await client.close();
});

const rows = async <T>(query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<T>();

test('deleteWhere returns once its mutation is done, not when it is queued', async () => {
  await client.command({ query: `CREATE TABLE ${sqlIdentifier(table)} (k String, n UInt64) ENGINE = MergeTree() ORDER BY k` });
  await client.insert({ table: sqlIdentifier(table), format: 'JSONEachRow', values: [{ k: 'gone', n: 1 }, { k: 'kept', n: 2 }] });
  await client.command({ query: `SYSTEM STOP MERGES ${sqlIdentifier(table)}` });
  let returned = false;
  const deleting = deleteWhere(client, table, `k = ${sqlString('gone')}`).then(() => (returned = true));
  try {
    await waitFor('the mutation to be queued', async () => {
      const queued = await rows(`SELECT mutation_id FROM system.mutations WHERE database = currentDatabase() AND table = ${sqlString(table)} AND is_done = 0`);
      return queued.length > 0 ? true : undefined;
    });
    assert.equal(returned, false, 'returned while its mutation was still pending');
    assert.deepEqual(await rows(`SELECT k FROM ${sqlIdentifier(table)} ORDER BY k`), [{ k: 'gone' }, { k: 'kept' }]);
  } finally {
    await client.command({ query: `SYSTEM START MERGES ${sqlIdentifier(table)}` });
  }
  // an insert wakes the table's background task at once (it backs off up to ~10 s while idle);
  // a row written after the mutation was queued is not one it deletes
  await client.insert({ table: sqlIdentifier(table), format: 'JSONEachRow', values: [{ k: 'gone', n: 3 }] });
  await deleting;
  assert.deepEqual(await rows(`SELECT k, n FROM ${sqlIdentifier(table)} ORDER BY n`), [{ k: 'kept', n: '2' }, { k: 'gone', n: '3' }]);
});
