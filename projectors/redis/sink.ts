// The Redis sink: a batch's ops and its checkpoint go in one Lua script (apply.lua), so
// they are applied together or not at all. The generation is the Redis database number:
// a rebuild fills another database, and promoting points readers at it (generations.ts).
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { versionText } from '../runtime/decode/index.ts';
import type { Checkpoint, CheckpointStore, Sink } from '../runtime/sink.ts';
import type { RedisOp } from './commands.ts';
import { redisError } from './error-kinds.ts';
import { assertFormat, markFormat } from './format.ts';
import { assertGeneration } from './generations.ts';
import { redisTables } from './mapping/index.ts';

const applyScript = readFileSync(new URL('./apply.lua', import.meta.url), 'utf8');

export const checkpointKey = (projector: string) => `nova:checkpoint:${projector}`;

type NovaRedis = Redis & { novaApply(key: string, payload: string): Promise<number> };

/** A checkpoint as stored: the commit order as decimal text, since JSON numbers are doubles. */
type Stored = { nextOffset: string; commitOrder: string | null };

/** The checkpoints as the checkpoint hash holds them (field `topic:partition`). */
export function checkpointsFromHash(saved: Record<string, string>): Checkpoint[] {
  return Object.entries(saved).map(([field, value]) => {
    const split = field.lastIndexOf(':');
    const { nextOffset, commitOrder } = JSON.parse(value) as Stored;
    return { topic: field.slice(0, split), partition: Number(field.slice(split + 1)), nextOffset, commitOrder: commitOrder === null ? null : BigInt(commitOrder) };
  });
}

export async function createRedisSink(options: { url: string; generation: number; projector: string }): Promise<Sink<RedisOp> & CheckpointStore> {
  const { url, generation, projector } = options;
  assertGeneration(generation);
  // the runtime retries; ioredis must fail fast instead of queueing commands forever
  const redis = new Redis(url, { db: generation, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true }) as NovaRedis;
  redis.defineCommand('novaApply', { numberOfKeys: 1, lua: applyScript });
  redis.on('error', () => {}); // surfaced through the failing command, classified there
  const key = checkpointKey(projector);

  const io = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
      return await work();
    } catch (error) {
      throw redisError(error, redis);
    }
  };

  try {
    assertFormat(generation, await io(() => markFormat(redis, { checkpointKey: key, tables: redisTables })));
  } catch (error) {
    redis.disconnect();
    throw error;
  }

  return {
    async apply(ops, checkpoints: Checkpoint[]) {
      const payload = JSON.stringify({
        ops: ops.map(({ op: { version, commitOrder, ...op } }) => ({ ...op, version: versionText(version), order: versionText(commitOrder) })),
        checkpoints: checkpoints.map((c) => {
          const stored: Stored = { nextOffset: c.nextOffset, commitOrder: c.commitOrder === null ? null : String(c.commitOrder) };
          return { field: `${c.topic}:${c.partition}`, value: JSON.stringify(stored) };
        }),
      });
      await io(() => redis.novaApply(key, payload));
    },
    load: async () => checkpointsFromHash(await io(() => redis.hgetall(key))),
    async close() {
      redis.disconnect();
    },
  };
}
