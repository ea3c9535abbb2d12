// The runtime's sink contract against the real Redis, in a database of its own. Readers see the
// reader keys (drift.ts reads them as reconcile does), never Nova's bookkeeping (`nova:*`); the
// contract's row is a live stream (test/changes.ts says why).
import { after } from 'node:test';
import { env } from '../../scripts/stack.d/test/stack.ts';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { actualFromRedis } from './drift.ts';
import { mapToRedis } from './mapping/index.ts';
import { createRedisSink } from './sink.ts';
import { liveStreamChange } from './test/changes.ts';
import { claimDatabase } from './test/own-database.ts';

const own = await claimDatabase(env('REDIS_URL'));
after(() => own.release());

sinkContract({
  store: 'redis',
  mapping: mapToRedis,
  sink: () => createRedisSink({ url: env('REDIS_URL'), generation: own.generation, projector: 'contract' }),
  view: () => actualFromRedis(own.redis),
  reset: own.reset,
  row: liveStreamChange,
  truncates: 'in-commit-order',
});
