// Several instances of one projector share its partitions: what one instance does when
// partitions move, with the pure doubles of testing/fake-pipeline.ts standing in for Kafka and
// the store (the real thing, with kill -9, is clickhouse/clickhouse.instances.e2e.test.ts).
// "Another instance" is played by the test writing the store's checkpoint itself.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { codes, NovaError } from './errors.ts';
import type { ProjectorEvents } from './events.ts';
import { runProjector } from './run-projector.ts';
import { FakeLog, eventBus, fakeDeadLetter, fakeDecoder, fakeDefinition, fakeSink, fakeSource, quietLog } from './testing/fake-pipeline.ts';

async function until(what: string, condition: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const started: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const running of started.splice(0)) await running.stop();
});

async function start(log: FakeLog, sink: ReturnType<typeof fakeSink>, maxBatchRecords = 2000) {
  const source = fakeSource(log, 3);
  const events = eventBus();
  const fetched: ProjectorEvents['projector.fetched'][] = [];
  const abandoned: ProjectorEvents['projector.abandoned'][] = [];
  events.on('projector.fetched', (e) => fetched.push(e));
  events.on('projector.abandoned', (e) => abandoned.push(e));
  const running = await runProjector({ definition: fakeDefinition, sink, source, decode: fakeDecoder(), deadLetter: fakeDeadLetter(), events, log: quietLog(), retryInitialMs: 1, retryMaxMs: 2, maxBatchRecords });
  started.push(running);
  return { source, fetched, abandoned };
}

/** the ids of every op the store was handed, failed calls too */
const idsHanded = (sink: ReturnType<typeof fakeSink>) => sink.calls.flatMap(({ ops }) => ops.map((op) => op.id));

test('a partition assigned again starts at the checkpoint its other holder left in the store, not at the one this instance read before', async () => {
  const log = new FakeLog();
  for (let i = 0; i < 6; i++) log.append(0, { id: i, value: `a${i}` });
  log.append(1, { id: 100, value: 'x' });
  const sink = fakeSink();
  const { source, fetched } = await start(log, sink);
  await until('both partitions applied', () => sink.saved.get('t:0')?.nextOffset === '6' && sink.saved.get('t:1')?.nextOffset === '1');

  await source.rebalance([1]); // partition 0 moves to another instance
  for (let i = 6; i < 12; i++) log.append(0, { id: i, value: `a${i}` });
  // which applies offsets 6-8 and checkpoints there
  for (let i = 6; i < 9; i++) sink.rows.set(i, { value: `a${i}`, version: BigInt(i + 1) });
  sink.saved.set('t:0', { topic: 't', partition: 0, nextOffset: '9', commitOrder: 9n });
  const handedBefore = sink.calls.length;
  const fetchedBefore = fetched.length;

  await source.rebalance([0, 1]); // and back
  await until('partition 0 to reach its end', () => sink.saved.get('t:0')?.nextOffset === '12');
  assert.equal(fetched.slice(fetchedBefore).find((e) => e.partition === 0)?.firstOffset, '9', 'read from the store\'s checkpoint (9), not the one held in memory (6)');
  assert.deepEqual(idsHanded({ ...sink, calls: sink.calls.slice(handedBefore) }), [9, 10, 11], 'only what the other instance had not applied');
  const sinceLast = source.calls.slice(source.calls.lastIndexOf('assign 0,1'));
  assert.equal(sinceLast.find((c) => c.startsWith('read 0@')), 'read 0@9', `the source was sought to the store's checkpoint: ${sinceLast.join(', ')}`);
  assert.deepEqual(source.calls.filter((c) => c.startsWith('assign')), ['assign 0,1', 'assign 1', 'assign 0,1']);
});

test('a partition revoked while its sink call retries through a store outage is given up: no write after the revocation, its successor\'s checkpoint stands', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' }, { id: 2, value: 'b' });
  log.append(1, { id: 10, value: 'x' });
  let revoked = false;
  let callsAfterRevocation = 0;
  // partition 0's writes fail for as long as the test runs (the store is down for them)
  const sink = fakeSink((ops) => {
    const ofPartition0 = ops.some(({ change }) => change.position.partition === 0);
    if (ofPartition0 && revoked) callsAfterRevocation++;
    return { fail: ofPartition0 ? 'transient' : undefined };
  });
  const { source, abandoned } = await start(log, sink);
  await until('the call with partition 0 to be retrying', () => sink.calls.filter(({ ops }) => ops.some((op) => op.id === 1)).length >= 3);

  revoked = true;
  source.revoke(); // a heartbeat hears of the rebalance
  await until('the call to be given up', () => abandoned.some((a) => a.partition === 0));
  assert.deepEqual(abandoned.filter((a) => a.partition === 0).map((a) => [a.firstOffset, a.lastOffset]), [['0', '1']]);
  // resolves only once the round in flight settled: the retry loop let go of it
  await source.rebalance([1]);
  // the instance that holds partition 0 now applies it
  sink.saved.set('t:0', { topic: 't', partition: 0, nextOffset: '2', commitOrder: 2n });
  log.append(1, { id: 11, value: 'y' });
  await until('partition 1 to go on here', () => sink.saved.get('t:1')?.nextOffset === '2');
  assert.equal(callsAfterRevocation, 0, 'no attempt of the revoked call after the revocation');
  assert.equal(sink.saved.get('t:0')?.nextOffset, '2', 'the successor\'s checkpoint stands');
  assert.ok(!sink.rows.has(1) && !sink.rows.has(2), 'the abandoned call wrote nothing');
});

test('the rest of a batch whose partition is revoked while a sink call of it runs is dropped without a write', async () => {
  const log = new FakeLog();
  for (let i = 0; i < 3; i++) log.append(0, { id: i, value: `a${i}` });
  let release: () => void = () => {};
  let holding = true;
  const sink = fakeSink();
  const apply = sink.apply.bind(sink);
  // one record per call: the first call hangs (a slow store) while the batch's other two wait behind it
  sink.apply = async (...args) => {
    if (holding) {
      holding = false;
      await new Promise<void>((resolve) => (release = resolve));
    }
    return apply(...args);
  };
  const { source, abandoned } = await start(log, sink, 1);
  await until('the first call to hang', () => !holding);
  source.revoke();
  release();
  await source.rebalance([]);
  assert.equal(sink.saved.get('t:0')?.nextOffset, '1', 'the call in flight finished, and nothing after it was applied');
  assert.deepEqual(sink.calls.map(({ ops }) => ops.map((op) => op.id)), [[0]]);
  assert.deepEqual(abandoned, [], 'the rest was never handed to the sink');
});

test('a sink that fences is told of every assignment before its checkpoints are read again, and a partition it finds fenced stalls with its own code', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' });
  log.append(1, { id: 10, value: 'x' });
  const order: string[] = [];
  let fencedPartition: number | undefined;
  const sink = fakeSink();
  const { load, apply } = { load: sink.load.bind(sink), apply: sink.apply.bind(sink) };
  Object.assign(sink, {
    claim: async (partitions: Array<{ topic: string; partition: number }>) => void order.push(`claim ${partitions.map((p) => p.partition).join(',')}`),
    load: async () => (order.push('load'), load()),
    apply: async (...args: Parameters<typeof apply>) => {
      if (args[1].some((c) => c.partition === fencedPartition)) throw new NovaError('stall', codes.fenced, 'claimed by another instance');
      return apply(...args);
    },
  });
  const source = fakeSource(log, 3);
  const events = eventBus();
  const stalled: ProjectorEvents['projector.stalled'][] = [];
  events.on('projector.stalled', (e) => stalled.push(e));
  const running = await runProjector({ definition: fakeDefinition, sink, source, decode: fakeDecoder(), deadLetter: fakeDeadLetter(), events, log: quietLog(), retryInitialMs: 1, retryMaxMs: 2 });
  started.push(running);
  await until('both partitions applied', () => sink.saved.get('t:1')?.nextOffset === '1' && sink.saved.get('t:0')?.nextOffset === '1');
  await source.rebalance([1]);
  await source.rebalance([0, 1]);
  assert.deepEqual(order, ['load', 'claim 0,1', 'load', 'claim 1', 'load', 'claim 0,1', 'load'], 'the first load is the start\'s; each assignment claims, then loads');

  fencedPartition = 0; // another instance claimed partition 0 since (this one has not heard of it yet)
  log.append(0, { id: 2, value: 'b' });
  log.append(1, { id: 11, value: 'y' });
  await until('partition 0 to stall and partition 1 to go on', () => stalled.some((s) => s.partition === 0) && sink.saved.get('t:1')?.nextOffset === '2');
  assert.equal(stalled.find((s) => s.partition === 0)?.code, 'NOVA_S1006');
  assert.equal(sink.rows.has(2), false, 'nothing of the fenced partition written');
});
