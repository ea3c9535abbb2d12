// How readers (the API) reach the Redis views: the live generation of their reader namespace
// (generations.ts), looked up again at most once a second, so a promotion reaches every reader
// within a second and each read sees one whole generation. Commands fail fast while Redis is
// away (no offline queue), so a reader degrades within its bound instead of hanging.
import { Redis } from 'ioredis';
import { novaConfig } from '../../config/nova-config.ts';
import { checkpointKey, checkpointsFromHash } from './sink.ts';
import { defaultLiveGeneration, redisGenerations } from './generations.ts';
import { shared } from '../runtime/shared-read.ts';
import type { Checkpoint } from '../runtime/sink.ts';

export type RedisViews = {
  /** runs `read` on a client of the live generation's database */
  read<T>(read: (redis: Redis) => Promise<T>): Promise<T>;
  /** the projector's checkpoints in the live generation: what the views have applied */
  checkpoints(): Promise<Checkpoint[]>;
  close(): Promise<void>;
};

/**
 * The client once it is connected, or a failure after `timeoutMs`: with no offline queue a
 * command sent while (re)connecting fails at once, so readers wait here, boundedly, instead.
 */
export async function connected(redis: Redis, timeoutMs: number): Promise<Redis> {
  if (redis.status === 'ready') return redis;
  if (redis.status === 'wait') void redis.connect().catch(() => {});
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`redis: not connected within ${timeoutMs} ms (${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
  return redis;
}

export function openRedisViews(env: NodeJS.ProcessEnv, options: { projector?: string; timeoutMs?: number } = {}): RedisViews {
  const { projector = 'redis', timeoutMs = 1_000 } = options;
  const url = novaConfig(env).redisUrl();
  const clients = new Map<number, Redis>();

  const client = (db: number) => {
    let redis = clients.get(db);
    if (!redis) {
      redis = new Redis(url, { db, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs });
      redis.on('error', () => {}); // surfaced through the failing command
      clients.set(db, redis);
    }
    return redis;
  };
  const liveGeneration = shared(async () => (await redisGenerations.live(env)) ?? defaultLiveGeneration, 1_000);
  const liveClient = async () => connected(client(await liveGeneration()), timeoutMs);

  return {
    read: async (read) => read(await liveClient()),
    checkpoints: async () => checkpointsFromHash(await (await liveClient()).hgetall(checkpointKey(projector))),
    async close() {
      for (const redis of clients.values()) redis.disconnect();
      clients.clear();
    },
  };
}
