// The stores alone, without HTTP: the reads behind GET /notifications and its unread count,
// from this process, `inFlight` at a time for `seconds` each: the Redis views' GET (the live
// generation, as the API's RedisViews reads it) against the baseline's SQL (on api/db.ts's
// pool). Read next to the HTTP figures, it says how much of a route's cost is the store's.
import { performance } from 'node:perf_hooks';
import { openPool } from '../../api/db.ts';
import { openRedisViews } from '../../projectors/redis/views.ts';
import type { BenchUser } from './api-fixture.ts';
import { percentiles, round, type Percentiles } from './measure.ts';
import { baselineSql } from './pg-baseline.ts';

export type StoreRead = { perSecond: number; latencyMs: Percentiles };

async function closedLoop(inFlight: number, seconds: number, read: (k: number) => Promise<unknown>): Promise<StoreRead> {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + seconds * 1000;
  let k = 0;
  const lane = async () => {
    while (performance.now() < until) {
      const at = performance.now();
      await read(k++);
      latencies.push(round(performance.now() - at, 3));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { perSecond: round(latencies.length / ((performance.now() - started) / 1000), 0), latencyMs: percentiles(latencies) };
}

export async function storeReads(options: { env: NodeJS.ProcessEnv; databaseUrl: string; users: BenchUser[]; inFlight: number; seconds: number }) {
  const { env, databaseUrl, users, inFlight, seconds } = options;
  const views = openRedisViews(env);
  const pool = openPool(databaseUrl);
  const user = (k: number) => (users[k % users.length] as BenchUser).id;
  try {
    // connected before the lanes start, so they do not each wait for the connection
    await views.read((r) => r.ping());
    await closedLoop(inFlight, 0.5, (k) => Promise.all([views.read((r, keys) => r.get(keys.notificationsRecent(user(k)))), pool.query(baselineSql.recent, [user(k)])]));
    return {
      recent: {
        redis: await closedLoop(inFlight, seconds, (k) => views.read((r, keys) => r.get(keys.notificationsRecent(user(k))))),
        postgresql: await closedLoop(inFlight, seconds, (k) => pool.query(baselineSql.recent, [user(k)])),
      },
      unread: {
        redis: await closedLoop(inFlight, seconds, (k) => views.read((r, keys) => r.get(keys.notificationsUnread(user(k))))),
        postgresql: await closedLoop(inFlight, seconds, (k) => pool.query(baselineSql.unread, [user(k)])),
      },
    };
  } finally {
    await views.close();
    await pool.end();
  }
}
