// The write side: one PostgreSQL transaction per request, answered with the consistency token
// of its commit. A create may carry an Idempotency-Key: the key, the request's hash and the
// response are stored in the same transaction, so a retry (or a concurrent twin) finds either
// nothing, because the first attempt rolled back and it runs anew, or the first response, which
// it returns without writing anything. A key sent again with another request is refused (422).
// A request that failed with a problem stores nothing: its retry runs anew.
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { currentToken, writeTransaction, type Tx } from '../db.ts';
import type { ApiDeps } from '../deps.ts';
import type { Caller } from './auth.ts';
import { consistencyHeaders } from './consistency.ts';
import { problems } from './problem.ts';

export type WriteOutcome<B extends object = object, S extends 200 | 201 = 200 | 201> = { status: S; body: B };

const keyPattern = /^[\x21-\x7e]{1,255}$/;
class AlreadyStored extends Error {}

export async function respondToWrite<B extends object, S extends 200 | 201>(c: Context, deps: ApiDeps, caller: Caller, request: unknown, work: (tx: Tx) => Promise<WriteOutcome<B, S>>) {
  const key = c.req.header('idempotency-key');
  const respond = (outcome: WriteOutcome<B, S>, token: string, replayed = false) => {
    c.header(consistencyHeaders.token, token);
    if (replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(outcome.body, outcome.status);
  };
  if (key === undefined) {
    const { result, token } = await writeTransaction(deps.pool, work);
    return respond(result, token);
  }
  if (!keyPattern.test(key)) throw problems.invalid([{ field: 'Idempotency-Key', message: '1-255 printable ASCII characters' }]);
  const owner = caller.userId ?? '0';
  const hash = createHash('sha256').update(`${c.req.method} ${c.req.path}\n${JSON.stringify(request ?? null)}`).digest('hex');
  try {
    const { result, token } = await writeTransaction(deps.pool, async (tx) => {
      // a twin in flight holds this key's index entry: this insert waits for it to end
      const claimed = await tx.query('INSERT INTO api_idempotency (user_id, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [owner, key, hash]);
      if (claimed.rowCount === 0) throw new AlreadyStored();
      const outcome = await work(tx);
      await tx.query('UPDATE api_idempotency SET status = $3, body = $4 WHERE user_id = $1 AND key = $2', [owner, key, outcome.status, JSON.stringify(outcome.body)]);
      return outcome;
    });
    return respond(result, token);
  } catch (error) {
    if (!(error instanceof AlreadyStored)) throw error;
  }
  const { rows } = await deps.pool.query<{ request_hash: string; status: S; body: B }>('SELECT request_hash, status, body FROM api_idempotency WHERE user_id = $1 AND key = $2', [owner, key]);
  const stored = rows[0];
  if (!stored || stored.request_hash !== hash) throw problems.idempotencyKeyReused();
  // past every commit so far, the first attempt's among them
  return respond({ status: stored.status, body: stored.body }, await currentToken(deps.pool), true);
}

/** Prunes keys older than a day: what the table holds is bounded by a day of creates. */
export async function pruneIdempotencyKeys(deps: Pick<ApiDeps, 'pool'>): Promise<number> {
  const { rowCount } = await deps.pool.query(`DELETE FROM api_idempotency WHERE created_at < now() - interval '24 hours'`);
  return rowCount ?? 0;
}
