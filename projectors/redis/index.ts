// The Redis projector: the seed's Redis keys that are views of PostgreSQL data.
import type { ProjectorDefinition } from '../runtime/sink.ts';
import type { RedisOp } from './commands.ts';
import { mapToRedis, redisTopics } from './mapping/index.ts';
import { redisGenerations } from './generations.ts';
import { createRedisSink } from './sink.ts';

export const redisProjector: ProjectorDefinition<RedisOp> = {
  name: 'redis',
  topics: redisTopics,
  mapping: mapToRedis,
  createSink: ({ generation, env }) => {
    if (!env.REDIS_URL) throw new Error('REDIS_URL is not set');
    return createRedisSink({ url: env.REDIS_URL, generation, projector: 'redis' });
  },
  generations: redisGenerations,
};
