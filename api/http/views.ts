// A read from a view store, bounded: a store that is down or hangs answers 503
// `view-unavailable` within `timeoutMs`, never a hang or a 500. Routes that have a PostgreSQL
// fallback say so next to themselves and do not come through here.
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
