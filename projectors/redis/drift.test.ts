// The oracle's SQL against the hand-written goldens (test/golden.ts), on the real PostgreSQL:
// the golden rows are inserted in a transaction that is rolled back, so nothing is committed
// and Debezium never sees them. mapping.test.ts holds the mapping to the same strings.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { env } from '../../scripts/stack.d/test/stack.ts';
import { expectedFromPostgres } from './drift.ts';
import { goldenNotificationItem, goldenNotificationRow, goldenStreamMeta, goldenStreamRow, goldenStreamStart, goldenUsers } from './test/golden.ts';

const db = new pg.Client({ connectionString: env('DATABASE_URL') });
before(() => db.connect());
after(() => db.end());

const insert = (table: string, row: Record<string, unknown>) => {
  const columns = Object.keys(row);
  return db.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
};

test('the oracle builds the golden notification and stream values from PostgreSQL rows', async () => {
  await db.query('BEGIN');
  try {
    for (const user of goldenUsers) await insert('users', user);
    await insert('notifications', goldenNotificationRow);
    await insert('live_streams', goldenStreamRow);
    const expected = new Map(await expectedFromPostgres(db));
    assert.equal(expected.get('notification:unread:-7'), '1');
    assert.equal(expected.get('notification:recent:-7'), `[${goldenNotificationItem}]`);
    assert.equal(expected.get('stream:meta:-42'), goldenStreamMeta);
    assert.ok(JSON.parse(expected.get('stream:live') ?? '[]').includes(`-42=${goldenStreamStart}`), 'the live stream, scored by its start');
  } finally {
    await db.query('ROLLBACK');
  }
});
