// A read from a view store, bounded: a store that is down or hangs answers 503
// `view-unavailable` within `timeoutMs`, never a hang or a 500. A route with a PostgreSQL
// fallback reads through orFromPostgres instead, which answers from PostgreSQL then and says so.
import type { Context } from 'hono';
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
 * The view's answer, or, with the view store down, `fallback`'s from PostgreSQL, marked
 * `Nova-Served-By: postgresql` and `Nova-Degraded: <view>` so the caller knows which it got.
 */
export async function orFromPostgres<T>(c: Context, view: string, read: () => Promise<T>, fallback: () => Promise<T>, timeoutMs?: number): Promise<T> {
  try {
    return await fromView(view, read, timeoutMs);
  } catch (error) {
    if (!(error instanceof Problem) || error.type !== 'view-unavailable') throw error;
    c.header('Nova-Served-By', 'postgresql');
    c.header('Nova-Degraded', view);
    return fallback();
  }
}
