// The Redis projector: the seed's Redis keys that are views of PostgreSQL data.
import type { ProjectorDefinition } from '../runtime/sink.ts';
import type { RedisOp } from './commands.ts';
import { mapToRedis, redisTopics } from './mapping/index.ts';
import { compareRedisWithPostgres } from './drift.ts';
import { redisGenerations } from './generations.ts';
import { createRedisSink } from './sink.ts';
import { redisTarget } from './client.ts';

export const redisProjector: ProjectorDefinition<RedisOp> = {
  name: 'redis',
  topics: redisTopics,
  mapping: mapToRedis,
  // set memberships (a follow's pair, a live stream) are left through `before`: every change must arrive
  batchChanges: 'every-change',
  createSink: ({ generation, env }) => createRedisSink({ target: redisTarget(env), generation, projector: 'redis' }),
  generations: redisGenerations,
  compareWithPostgres: compareRedisWithPostgres,
};
