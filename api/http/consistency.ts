// The read side of read-your-writes. A read that sends `Nova-Read-After: <token>` (from a
// write's `Nova-Consistency-Token`) answers only once every view it reads has applied that
// write, or when its wait (`Nova-Max-Wait-Ms`, default 2 s, at most the cap) ends. Then each
// route does what it documents: answer with what the views hold and say so
// (`Nova-Consistency: stale`), or a 503 `view-lagging` problem. Without a token: at once.
import type { Context } from 'hono';
import { decodeToken } from '../consistency/token.ts';
import type { ApiDeps } from '../deps.ts';
import { problems } from './problem.ts';

export type OnLag = 'stale' | 'unavailable';

export const consistencyHeaders = {
  readAfter: 'nova-read-after',
  maxWait: 'nova-max-wait-ms',
  token: 'Nova-Consistency-Token',
  consistency: 'Nova-Consistency',
} as const;

/** The read's token and wait bound, checked (a 400 naming the header); undefined when it sent none. */
export function readAfter(c: Context, deps: ApiDeps): { token: bigint; wait: number } | undefined {
  const raw = c.req.header(consistencyHeaders.readAfter);
  if (raw === undefined) return undefined;
  const token = decodeToken(raw.trim());
  if (token === undefined) throw problems.invalid([{ field: 'Nova-Read-After', message: 'not a consistency token (send back a Nova-Consistency-Token as it came)' }]);
  const waitRaw = c.req.header(consistencyHeaders.maxWait);
  const wait = waitRaw === undefined ? deps.limits.defaultWaitMs : Number(waitRaw);
  if (!Number.isInteger(wait) || wait < 0 || wait > deps.limits.maxWaitMs) {
    throw problems.invalid([{ field: 'Nova-Max-Wait-Ms', message: `an integer number of milliseconds, 0..${deps.limits.maxWaitMs}` }]);
  }
  return { token, wait };
}

/** true when the read carried a token and every view applied it; false without one, or stale. */
export async function readAfterToken(c: Context, deps: ApiDeps, views: readonly string[], onLag: OnLag): Promise<boolean> {
  const asked = readAfter(c, deps);
  if (asked === undefined) return false;
  const { token, wait } = asked;
  const outcome = await deps.watermarks.waitFor(token, views, wait);
  if (outcome.applied) {
    deps.metrics.tokenWaits.observe({ outcome: 'applied' }, outcome.waitedMs / 1000);
    c.header(consistencyHeaders.consistency, `applied; waited-ms=${outcome.waitedMs}`);
    return true;
  }
  deps.metrics.tokenWaits.observe({ outcome: onLag === 'stale' ? 'stale' : 'unavailable' }, outcome.waitedMs / 1000);
  if (onLag === 'unavailable') throw problems.viewLagging(outcome.lagging, outcome.waitedMs);
  c.header(consistencyHeaders.consistency, `stale; lagging=${outcome.lagging.join(',')}; waited-ms=${outcome.waitedMs}`);
  return false;
}
