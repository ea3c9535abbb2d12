// Blue/green for the Redis views: generation N is every key with the prefix `gN:`
// (reader-keys.ts), and one key names the live one. Readers read the pointer, then address their
// keys with its prefix; promoting is one SET, so readers switch between two commands, never
// halfway through a generation. The same on one node and on a cluster (one key, one slot).
// Without a pointer the live generation is 1, the default of `projector run`. A reader namespace
// (runtime/reader-namespace.ts) has a pointer of its own.
import { readerNamespace } from '../runtime/reader-namespace.ts';
import type { Generations } from '../runtime/sink.ts';
import { connect, openRedis, scan, unlinkAll, type RedisClient } from './client.ts';
import { redisError } from './error-kinds.ts';
import { redisTarget } from './client.ts';
import { generationPrefix } from './reader-keys.ts';

/** The key naming the generation readers of env's namespace see. */
export const liveGenerationKey = (env: NodeJS.ProcessEnv) => {
  const namespace = readerNamespace(env);
  return namespace === undefined ? 'nova:live-generation' : `nova:live-generation:${namespace}`;
};
export const defaultLiveGeneration = 1;

export function assertGeneration(generation: number): void {
  if (!Number.isSafeInteger(generation) || generation < 1) throw new Error(`redis: a generation is a whole number from 1, not ${generation}`);
}

/** A short-lived client with a bound on every command, so no caller waits on a hung server. */
async function withRedis<T>(env: NodeJS.ProcessEnv, work: (redis: RedisClient) => Promise<T>): Promise<T> {
  const redis = openRedis(redisTarget(env), { timeoutMs: 5_000 });
  try {
    await connect(redis);
    return await work(redis);
  } catch (error) {
    throw redisError(error, redis);
  } finally {
    redis.disconnect();
  }
}

/** Removes every key of generation N, a page at a time (readers of other generations are never blocked). */
export async function removeGeneration(redis: RedisClient, generation: number): Promise<number> {
  let removed = 0;
  for await (const page of scan(redis, `${generationPrefix(generation)}*`)) {
    await unlinkAll(redis, page);
    removed += page.length;
  }
  return removed;
}

/** The generation env's readers see, read through `redis`. */
export const readLiveGeneration = async (redis: RedisClient, env: NodeJS.ProcessEnv) => Number((await redis.get(liveGenerationKey(env))) ?? defaultLiveGeneration);

export const redisGenerations: Generations = {
  live: (env) => withRedis(env, (redis) => readLiveGeneration(redis, env)),
  async promote(generation, env) {
    assertGeneration(generation);
    await withRedis(env, (redis) => redis.set(liveGenerationKey(env), String(generation)));
  },
  async drop(generation, env) {
    assertGeneration(generation);
    const live = await redisGenerations.live(env);
    if (live === generation) throw new Error(`redis: generation ${generation} is live; promote another one first`);
    await withRedis(env, (redis) => removeGeneration(redis, generation));
  },
};
