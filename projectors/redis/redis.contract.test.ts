// The runtime's sink contract against the real Redis, in a generation of its own. Readers see the
// reader keys (drift.ts reads them as reconcile does), never Nova's bookkeeping (`nova:*`); the
// contract's row is a live stream (test/changes.ts says why).
import { after } from 'node:test';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { redisTarget } from './client.ts';
import { actualFromRedis } from './drift.ts';
import { mapToRedis } from './mapping/index.ts';
import { createRedisSink } from './sink.ts';
import { liveStreamChange } from './test/changes.ts';
import { claimGeneration } from './test/own-generation.ts';

const own = await claimGeneration(process.env);
after(() => own.release());

sinkContract({
  store: 'redis',
  mapping: mapToRedis,
  sink: () => createRedisSink({ target: redisTarget(process.env), generation: own.generation, projector: 'contract' }),
  view: () => actualFromRedis(own.redis, own.generation),
  reset: own.reset,
  row: liveStreamChange,
  truncates: 'in-commit-order',
});
