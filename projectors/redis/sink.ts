// The Redis sink: a batch's ops and its checkpoint go in one Lua script (apply.lua), so
// they are applied together or not at all. The generation is the Redis database number:
// a replay fills another database, and SWAPDB makes it the live one.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { storeError } from '../runtime/errors.ts';
import type { Checkpoint, CheckpointStore, Sink } from '../runtime/sink.ts';
import type { RedisOp } from './commands.ts';
import { assertGeneration } from './generations.ts';

const applyScript = readFileSync(new URL('./apply.lua', import.meta.url), 'utf8');

export const checkpointKey = (projector: string) => `nova:checkpoint:${projector}`;

type NovaRedis = Redis & { novaApply(key: string, payload: string): Promise<number> };

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
      throw storeError(error, 'redis');
    }
  };

  return {
    async apply(ops, checkpoints: Checkpoint[]) {
      const payload = JSON.stringify({
        ops: ops.map(({ op }) => ({ ...op, lsn: String(op.lsn) })),
        checkpoints: checkpoints.map((c) => ({ field: `${c.topic}:${c.partition}`, value: JSON.stringify({ nextOffset: c.nextOffset, lsn: c.lsn }) })),
      });
      await io(() => redis.novaApply(key, payload));
    },
    async load() {
      const saved = await io(() => redis.hgetall(key));
      return Object.entries(saved).map(([field, value]) => {
        const split = field.lastIndexOf(':');
        const { nextOffset, lsn } = JSON.parse(value) as { nextOffset: string; lsn: number | null };
        return { topic: field.slice(0, split), partition: Number(field.slice(split + 1)), nextOffset, lsn };
      });
    },
    async close() {
      redis.disconnect();
    },
  };
}
