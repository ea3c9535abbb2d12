// Blue/green for the Redis views: generation N is Redis database N (1..15) and database 0 holds
// one key naming the live one. Readers read the pointer, then SELECT that database; promoting
// is one SET, so readers switch between two commands, never halfway through a database.
// Without a pointer the live generation is 1, the default of `projector run`. A reader namespace
// (runtime/reader-namespace.ts) has a pointer of its own.
import { Redis } from 'ioredis';
import { novaConfig } from '../../config/nova-config.ts';
import { readerNamespace } from '../runtime/reader-namespace.ts';
import type { Generations } from '../runtime/sink.ts';
import { redisError } from './error-kinds.ts';

/** The key in database 0 naming the generation readers of env's namespace see. */
export const liveGenerationKey = (env: NodeJS.ProcessEnv) => {
  const namespace = readerNamespace(env);
  return namespace === undefined ? 'nova:live-generation' : `nova:live-generation:${namespace}`;
};
export const defaultLiveGeneration = 1;
const controlDatabase = 0;

export function assertGeneration(generation: number): void {
  if (!Number.isInteger(generation) || generation < 1 || generation > 15) {
    throw new Error(`redis: a generation is a Redis database 1..15 (0 holds the live pointer), not ${generation}`);
  }
}

async function withRedis<T>(env: NodeJS.ProcessEnv, db: number, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(novaConfig(env).redisUrl(), { db, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {}); // surfaced through the failing command
  try {
    await redis.connect();
    return await work(redis);
  } catch (error) {
    throw redisError(error, redis);
  } finally {
    redis.disconnect();
  }
}

export const redisGenerations: Generations = {
  live: (env) => withRedis(env, controlDatabase, async (redis) => Number((await redis.get(liveGenerationKey(env))) ?? defaultLiveGeneration)),
  async promote(generation, env) {
    assertGeneration(generation);
    await withRedis(env, controlDatabase, (redis) => redis.set(liveGenerationKey(env), String(generation)));
  },
  async drop(generation, env) {
    assertGeneration(generation);
    const live = await redisGenerations.live(env);
    if (live === generation) throw new Error(`redis: generation ${generation} is live; promote another one first`);
    await withRedis(env, generation, (redis) => redis.flushdb());
  },
};
