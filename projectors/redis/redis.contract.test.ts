// The runtime's sink contract against the real Redis, in a database of its own.
import { randomInt } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { env } from '../../scripts/stack.d/test/stack.ts';
import { followChange } from '../runtime/testing/change-fixtures.ts';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { mapToRedis } from './mapping/index.ts';
import { createRedisSink } from './sink.ts';

const generation = randomInt(2, 15);
const redis = new Redis(env('REDIS_URL'), { db: generation });
after(async () => {
  await redis.flushdb();
  redis.disconnect();
});

const follow = (lsn: number, id: number, status: string) => followChange(lsn, id, status);

async function snapshot() {
  const keys = (await redis.keys('*')).filter((k) => !k.startsWith('nova:checkpoint:')).sort();
  return Promise.all(keys.map(async (k) => [k, await redis.dump(k)]));
}

sinkContract({
  store: 'redis',
  mapping: mapToRedis,
  sink: () => createRedisSink({ url: env('REDIS_URL'), generation, projector: 'contract' }),
  snapshot,
  reset: async () => void (await redis.flushdb()),
  fixtures: { older: follow(100, 1, 'active'), newer: follow(200, 1, 'blocked'), other: follow(150, 2, 'active') },
});
