// Per-user write limit: a fixed one-minute window counted in Redis (an ephemeral signal with a
// TTL, the one thing besides presence the API keeps outside PostgreSQL). Fails open: with Redis
// away, writes still go to PostgreSQL, which is the truth; the limit resumes with Redis.
import type { MiddlewareHandler } from 'hono';
import type { ApiDeps } from '../deps.ts';
import type { AuthEnv } from './auth.ts';
import { problems } from './problem.ts';

export function limitWrites(deps: ApiDeps): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const caller = c.get('caller');
    const window = Math.floor(Date.now() / 60_000);
    const key = `nova:ratelimit:writes:${caller.userId ?? 'service'}:${window}`;
    let count = 0;
    try {
      const [[, incremented]] = (await deps.ephemeral.multi().incr(key).expire(key, 120).exec()) as [[null, number], unknown];
      count = incremented;
    } catch (error) {
      deps.log.warn({ err: error }, 'rate limit not counted: Redis unavailable');
    }
    if (count > deps.limits.writesPerMinute) throw problems.rateLimited(60 - Math.floor((Date.now() / 1000) % 60));
    return next();
  };
}
