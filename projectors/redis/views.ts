// How readers (the API) reach the Redis views: the live generation of their reader namespace
// (generations.ts), looked up again at most once a second, so a promotion reaches every reader
// within a second and each read addresses one whole generation. Commands fail fast while Redis
// is away (no offline queue), so a reader degrades within its bound instead of hanging.
import { connect, openRedis, redisTarget, type RedisClient } from './client.ts';
import { checkpointKey, checkpointsFromHash } from './sink.ts';
import { readLiveGeneration } from './generations.ts';
import { generationPrefix, keysAt, type ViewKeys } from './reader-keys.ts';
import { shared } from '../runtime/shared-read.ts';
import type { Checkpoint } from '../runtime/sink.ts';

export type RedisViews = {
  /** runs `read` with the client and the live generation's keys */
  read<T>(read: (redis: RedisClient, keys: ViewKeys) => Promise<T>): Promise<T>;
  /** the projector's checkpoints in the live generation: what the views have applied */
  checkpoints(): Promise<Checkpoint[]>;
  close(): Promise<void>;
};

/** A failure after `ms`, so no lookup holds a reader past its bound. */
export function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis: ${what} not answered within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * The client once it is connected, or a failure after `timeoutMs`: with no offline queue a
 * command sent while (re)connecting fails at once, so readers wait here, boundedly, instead.
 */
export async function connected(redis: RedisClient, timeoutMs: number): Promise<RedisClient> {
  if (redis.status === 'ready') return redis;
  if (redis.status === 'wait') void connect(redis).catch(() => {});
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
  const redis = openRedis(redisTarget(env), { timeoutMs });
  // through the views' own connection: a lookup a second, not a connection a second
  const liveGeneration = shared(async () => readLiveGeneration(await connected(redis, timeoutMs), env), 1_000);
  const live = () => within(timeoutMs, 'the live generation', liveGeneration());

  return {
    async read(read) {
      const [client, generation] = await Promise.all([connected(redis, timeoutMs), live()]);
      return read(client, keysAt(generation));
    },
    async checkpoints() {
      const [client, generation] = await Promise.all([connected(redis, timeoutMs), live()]);
      return checkpointsFromHash(await client.hgetall(generationPrefix(generation) + checkpointKey(projector)));
    },
    async close() {
      redis.disconnect();
    },
  };
}
