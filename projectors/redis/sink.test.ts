// What the Redis sink keeps beyond the shared contract, on the real server: versions and commit
// orders of a source epoch above 0 (past 2^53, where Lua's doubles would round) compare exactly,
// and the checkpoint's commit order is stored as exact text.
import assert from 'node:assert/strict';
import { after, beforeEach, test } from 'node:test';
import { versionText, withEpoch, type Change } from '../runtime/decode/index.ts';
import type { Checkpoint } from '../runtime/sink.ts';
import { redisTarget } from './client.ts';
import { mapToRedis } from './mapping/index.ts';
import { checkpointKey, createRedisSink } from './sink.ts';
import { liveStreamChange } from './test/changes.ts';
import { claimGeneration } from './test/own-generation.ts';

const own = await claimGeneration(process.env);
after(() => own.release());
beforeEach(() => own.reset());

// epoch 5: 5 << 56 is far past 2^53, so versions one apart are the same double
const at = (position: number) => withEpoch(5, BigInt(position));
// each change the next record of its partition, so none is skipped as already processed
let offset = 0;
const next = (change: Change): Change => ({ ...change, position: { ...change.position, offset: String(++offset) } });
const streamed = (id: number, variant: 'a' | 'b', version: bigint, commitOrder = version): Change => next({ ...liveStreamChange(id, variant), version, commitOrder });
const truncate = (version: bigint, commitOrder = version): Change => next({ ...liveStreamChange(0, 'a'), op: 'truncate', key: null, after: null, version, commitOrder });
const titleOf = async (id: number) => JSON.parse((await own.redis.get(own.keys.streamMeta(id))) ?? '{"title": null}').title as string | null;

async function applied(...changes: Change[]) {
  const sink = await createRedisSink({ target: redisTarget(process.env), generation: own.generation, projector: 'sink-test' });
  try {
    for (const change of changes) await sink.apply(mapToRedis(change).map((op) => ({ op, change })), [], async () => {});
  } finally {
    await sink.close();
  }
}

test('versions one apart past 2^53: the newer applies, the older is refused', async () => {
  assert.equal(Number(at(1)), Number(at(2)), 'the two versions are one double');
  await applied(streamed(1, 'a', at(1)), streamed(1, 'b', at(2)));
  assert.equal(await titleOf(1), 'stream 1, variant b');
  await applied(streamed(1, 'a', at(1)));
  assert.equal(await titleOf(1), 'stream 1, variant b');
  // the version the stream's own slot holds it at (apply.lua's rows hash)
  assert.equal(await own.redis.hget(own.key('nova:rows:public.live_streams:{1}'), '1'), versionText(at(2)));
});

test('a truncate past 2^53: one commit order below it is refused, its own transaction after it survives', async () => {
  await applied(truncate(at(10), at(8)), streamed(1, 'a', at(9), at(7)), streamed(2, 'a', at(11), at(8)));
  assert.equal(await titleOf(1), null);
  assert.equal(await titleOf(2), 'stream 2, variant a');
});

test('a checkpoint past 2^53 is stored as its exact decimal text', async () => {
  const sink = await createRedisSink({ target: redisTarget(process.env), generation: own.generation, projector: 'sink-test' });
  try {
    const checkpoint: Checkpoint = { topic: 'nova.live.live_streams', partition: 1, nextOffset: '9', commitOrder: at(3) };
    await sink.apply([], [checkpoint], async () => {});
    const stored = JSON.parse((await own.redis.hget(own.key(checkpointKey('sink-test')), 'nova.live.live_streams:1')) as string);
    assert.deepEqual(stored, { nextOffset: '9', commitOrder: String(at(3)) });
    assert.deepEqual(await sink.load(), [checkpoint]);
  } finally {
    await sink.close();
  }
});

test('a checkpoint below the stored one is refused: a partition\'s previous holder cannot set it back', async () => {
  const sink = await createRedisSink({ target: redisTarget(process.env), generation: own.generation, projector: 'sink-test' });
  try {
    const at = (nextOffset: string, partition = 1): Checkpoint => ({ topic: 'nova.live.live_streams', partition, nextOffset, commitOrder: 7n });
    await sink.apply([], [at('250')], async () => {});
    await sink.apply([], [at('200'), at('3', 2)], async () => {});
    assert.deepEqual((await sink.load()).sort((a, b) => a.partition - b.partition), [at('250'), at('3', 2)], 'the stale one refused, the other partition written');
  } finally {
    await sink.close();
  }
});
