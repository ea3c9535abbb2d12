// The format marker on the real server: a generation Nova has not written to is marked format 3
// when its sink is created; one holding Nova bookkeeping but no marker is refused with the
// repair; a marked one opens as it is, on reads alone.
import assert from 'node:assert/strict';
import { after, beforeEach, test } from 'node:test';
import { masters, redisTarget, scan } from './client.ts';
import { formatKey } from './format.ts';
import { checkpointKey, createRedisSink, sinkConnectionName, truncatedKey } from './sink.ts';
import { claimGeneration } from './test/own-generation.ts';

const own = await claimGeneration(process.env);
after(() => own.release());
beforeEach(() => own.reset());

const sinkOnIt = () => createRedisSink({ target: redisTarget(process.env), generation: own.generation, projector: 'redis' });
const refusal = (generation: number, found: RegExp) => (error: unknown) => {
  const message = (error as Error).message;
  assert.match(message, new RegExp(`generation ${generation} `));
  assert.match(message, found);
  assert.match(message, /scripts\/nova projector rebuild redis --generation M --snapshot/);
  assert.match(message, /scripts\/nova projector promote redis --generation M/);
  return true;
};

test('a generation without Nova data is marked format 3, and opens again with what it holds', async () => {
  await (await sinkOnIt()).close();
  assert.equal(await own.redis.get(own.key(formatKey)), '3');
  const sink = await sinkOnIt();
  await sink.apply([], [{ topic: 'nova.live.live_streams', partition: 0, nextOffset: '5', commitOrder: 7n }], async () => {});
  await sink.close();
  const reopened = await sinkOnIt();
  assert.deepEqual(await reopened.load(), [{ topic: 'nova.live.live_streams', partition: 0, nextOffset: '5', commitOrder: 7n }]);
  await reopened.close();
});

test('a marked generation opens while Redis holds writes back (CLIENT PAUSE WRITE): an instance joins its group on reads alone', async () => {
  await (await sinkOnIt()).close();
  const nodes = masters(own.redis);
  // a client the pause holds shows flag b in CLIENT LIST (a read, still answered)
  const held = new RegExp(`name=${sinkConnectionName('redis', own.generation)} [^\\n]*flags=\\w*b`);
  await Promise.all(nodes.map((node) => node.call('CLIENT', 'PAUSE', '30000', 'WRITE')));
  try {
    const opening = sinkOnIt();
    let settled = false;
    const outcome = await Promise.race([
      opening.then(() => 'opened' as const),
      (async () => {
        while (!settled) {
          for (const node of nodes) if (held.test(String(await node.call('CLIENT', 'LIST')))) return 'held by the pause' as const;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return 'opened' as const;
      })(),
    ]);
    settled = true;
    await Promise.all(nodes.map((node) => node.call('CLIENT', 'UNPAUSE')));
    await (await opening).close();
    assert.equal(outcome, 'opened');
  } finally {
    await Promise.all(nodes.map((node) => node.call('CLIENT', 'UNPAUSE')));
  }
});

/** Every key of the test's generation, sorted. */
async function keysOfGeneration() {
  const found: string[] = [];
  for await (const page of scan(own.redis, own.key('*'))) found.push(...page);
  return found.sort();
}

// Nova bookkeeping without a marker: a checkpoint, a truncate
const leftUnmarked: Array<[string, () => Promise<unknown>]> = [
  ['a checkpoint', () => own.redis.hset(own.key(checkpointKey('redis')), 'nova.live.live_streams:0', JSON.stringify({ nextOffset: '5', commitOrder: null }))],
  ['a truncate', () => own.redis.hset(own.key(truncatedKey), 'public.follows', '24312080')],
];
for (const [what, leave] of leftUnmarked) {
  test(`a generation holding ${what} but no format marker is refused, and left as it was`, async () => {
    await leave();
    await own.redis.set(own.key('stream:meta:{1}'), '{"id":1}');
    const keys = await keysOfGeneration();
    await assert.rejects(sinkOnIt(), refusal(own.generation, /holds data but no format marker/));
    assert.deepEqual(await keysOfGeneration(), keys);
  });
}

test('a generation marked with another format is refused', async () => {
  await own.redis.set(own.key(formatKey), '2');
  await assert.rejects(sinkOnIt(), refusal(own.generation, /is in format 2, not 3/));
});
