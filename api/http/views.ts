// A read from a view store, bounded: a store that is down or hangs answers 503
// `view-unavailable` within `timeoutMs`, never a hang or a 500. A route with a PostgreSQL
// fallback reads through viewOrPostgres instead, which answers from PostgreSQL then and says so.
import type { Context } from 'hono';
import type { ApiDeps } from '../deps.ts';
import { consistencyHeaders, readAfter, readAfterToken, type OnLag } from './consistency.ts';
import { Problem, problems } from './problem.ts';

export async function fromView<T>(view: string, read: () => Promise<T>, timeoutMs = 1_500): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(problems.viewUnavailable(view, `no answer within ${timeoutMs} ms`)), timeoutMs)));
  try {
    return await Promise.race([read(), late]);
  } catch (error) {
    throw error instanceof Problem ? error : problems.viewUnavailable(view, error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The view's answer, after the read's token (readAfterToken) when it sent one; or, with the view
 * store down, `fallback`'s from PostgreSQL, marked `Nova-Served-By: postgresql` and
 * `Nova-Degraded: <view>`. The view is tried first: waiting for a store that is down would only
 * end at the bound, while PostgreSQL, the source of truth, holds every committed write, so a
 * fallback answer meets any token (`Nova-Consistency: applied; served-by=postgresql`).
 */
export async function viewOrPostgres<T>(c: Context, deps: ApiDeps, options: { view: string; onLag: OnLag; read: () => Promise<T>; fallback: () => Promise<T> }): Promise<T> {
  const { view, onLag, read, fallback } = options;
  const asked = readAfter(c, deps);
  const fromPostgres = () => {
    c.header('Nova-Served-By', 'postgresql');
    c.header('Nova-Degraded', view);
    if (asked) c.header(consistencyHeaders.consistency, 'applied; served-by=postgresql');
    return fallback();
  };
  const attempt = async (): Promise<{ answer: T } | undefined> => {
    try {
      return { answer: await fromView(view, read) };
    } catch (error) {
      if (error instanceof Problem && error.type === 'view-unavailable') return undefined;
      throw error;
    }
  };
  const first = await attempt();
  if (first === undefined) return fromPostgres();
  if (asked === undefined) return first.answer;
  await readAfterToken(c, deps, [view], onLag);
  // read again: the first answer may predate the write
  const after = await attempt();
  if (after === undefined) return fromPostgres();
  return after.answer;
}
