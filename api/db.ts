// PostgreSQL, the only store the API writes: one transaction per request, and the token that
// lets a later read wait for the views to apply it (consistency/).
import pg from 'pg';
import { encodeToken, lsnFromText } from './consistency/token.ts';

export type Tx = pg.PoolClient;

export function openPool(databaseUrl: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 20, connectionTimeoutMillis: 5_000, statement_timeout: 10_000 });
  pool.on('error', () => {}); // an idle client's loss; the next query fails and reports
  return pool;
}

/** Runs `work` in one transaction; once it has committed, the token of a position past its commit. */
export async function writeTransaction<T>(pool: pg.Pool, work: (tx: Tx) => Promise<T>): Promise<{ result: T; token: string }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    let result: T;
    try {
      result = await work(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    // after COMMIT returned: the insert position is past the commit record's end
    const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    return { result, token: encodeToken(lsnFromText(rows[0]!.lsn)) };
  } finally {
    client.release();
  }
}

/** A token for "now": past every commit so far (an idempotent replay's, whose first commit preceded it). */
export async function currentToken(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
  return encodeToken(lsnFromText(rows[0]!.lsn));
}
