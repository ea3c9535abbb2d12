// The format marker on the real server: a generation Nova has not written to is marked format 2
// when its sink is created; one a Nova before format 2 filled (its bookkeeping, no marker) is
// refused with the repair; a marked one opens as it is.
import assert from 'node:assert/strict';
import { after, beforeEach, test } from 'node:test';
import { env } from '../../scripts/stack.d/test/stack.ts';
import { formatKey, rowVersionsKey, truncatedKey } from './format.ts';
import { checkpointKey, createRedisSink } from './sink.ts';
import { claimDatabase } from './test/own-database.ts';

const own = await claimDatabase(env('REDIS_URL'));
after(() => own.release());
beforeEach(() => own.reset());

const sinkOnIt = () => createRedisSink({ url: env('REDIS_URL'), generation: own.generation, projector: 'redis' });
const refusal = (generation: number, found: RegExp) => (error: unknown) => {
  const message = (error as Error).message;
  assert.match(message, new RegExp(`generation ${generation} `));
  assert.match(message, found);
  assert.match(message, /scripts\/nova projector rebuild redis --generation M --snapshot/);
  assert.match(message, /scripts\/nova projector promote redis --generation M/);
  return true;
};

test('a generation without Nova data is marked format 2, and opens again with what it holds', async () => {
  await (await sinkOnIt()).close();
  assert.equal(await own.redis.get(formatKey), '2');
  const sink = await sinkOnIt();
  await sink.apply([], [{ topic: 'nova.live.live_streams', partition: 0, nextOffset: '5', commitOrder: 7n }], async () => {});
  await sink.close();
  const reopened = await sinkOnIt();
  assert.deepEqual(await reopened.load(), [{ topic: 'nova.live.live_streams', partition: 0, nextOffset: '5', commitOrder: 7n }]);
  await reopened.close();
});

// what a Nova before format 2 left: its checkpoint (an LSN), row versions (a snapshot read's LSN too), a truncate
const leftBefore: Array<[string, () => Promise<unknown>]> = [
  ['a checkpoint', () => own.redis.hset(checkpointKey('redis'), 'nova.live.live_streams:0', JSON.stringify({ nextOffset: '5', lsn: 24_312_080 }))],
  ['row versions', () => own.redis.hset(rowVersionsKey('public.live_streams'), '1', '24312080')],
  ['a truncate', () => own.redis.hset(truncatedKey, 'public.follows', '24312080')],
];
for (const [what, leave] of leftBefore) {
  test(`a generation holding ${what} of a Nova before format 2 is refused, and left as it was`, async () => {
    await leave();
    await own.redis.set('stream:meta:1', '{"id":1}');
    const keys = (await own.redis.keys('*')).sort();
    await assert.rejects(sinkOnIt(), refusal(own.generation, /holds data but no format marker/));
    assert.deepEqual((await own.redis.keys('*')).sort(), keys);
  });
}

test('a generation marked with another format is refused', async () => {
  await own.redis.set(formatKey, '3');
  await assert.rejects(sinkOnIt(), refusal(own.generation, /is in format 3, not 2/));
});
