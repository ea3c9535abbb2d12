// The loop's answers to each class of failure, with pure doubles for the ports
// (testing/fake-pipeline.ts); the same behaviour against the real stack is in faults.e2e.test.ts.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { deadLetterBreaker } from './breaker.ts';
import { NovaError, codes } from './errors.ts';
import type { ProjectorEvents } from './events.ts';
import { projectorHealth } from './health.ts';
import { runProjector, type RunProjectorOptions } from './run-projector.ts';
import { FakeLog, eventBus, fakeDeadLetter, fakeDecoder, fakeDefinition, fakeSink, fakeSource, quietLog, type FakeOp } from './testing/fake-pipeline.ts';

async function until(what: string, condition: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** `concurrent`: the source hands a round's partitions in at once (see fakeSource) */
type Setup = Partial<RunProjectorOptions<FakeOp>> & { topic: FakeLog; sink?: ReturnType<typeof fakeSink>; concurrent?: boolean };

/** Projectors started by a test: stopped after it, also when an assertion failed (a running one keeps the file from ending). */
const started: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const running of started.splice(0)) await running.stop();
});

async function start(setup: Setup) {
  const { topic, concurrent, ...rest } = setup;
  const source = fakeSource(topic, 3, { concurrent });
  const sink = setup.sink ?? fakeSink();
  const deadLetter = fakeDeadLetter();
  const events = setup.events ?? eventBus();
  const seen: { [E in keyof ProjectorEvents]?: ProjectorEvents[E][] } = {};
  for (const name of ['projector.stalled', 'projector.unstalled', 'projector.order_regression', 'projector.breaker', 'projector.dead_letter'] as const) {
    events.on(name, (payload) => ((seen[name] ??= [] as never[]) as unknown[]).push(payload));
  }
  const running = await runProjector({ definition: fakeDefinition, decode: fakeDecoder(), log: quietLog(), retryInitialMs: 1, retryMaxMs: 2, stallRetryInitialMs: 20, ...rest, sink, source, deadLetter, events });
  started.push(running);
  const nextOffset = (partition: number) => sink.saved.get(`t:${partition}`)?.nextOffset;
  return { source, sink, deadLetter, events, seen, running, nextOffset };
}

test('a bounded failure splits the call down to the record that fails alone, which stalls only its partition', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' }, { id: 2, value: 'poisoned' }, { id: 3, value: 'c' });
  log.append(1, { id: 10, value: 'x' }, { id: 11, value: 'y' });
  let healed = false;
  const sink = fakeSink((ops) => ({ fail: !healed && ops.some(({ op }) => op.value === 'poisoned') ? 'bounded' : undefined }));
  const { running, nextOffset, seen, source } = await start({ topic: log, sink, maxBatchRecords: 10 });
  await until('partition 0 to stall', () => (seen['projector.stalled'] ?? []).length > 0);
  await until('partition 1 to be applied', () => nextOffset(1) === '2');
  assert.equal(nextOffset(0), '1', 'the record before the failing one is applied, the checkpoint stops at it');
  assert.deepEqual([...sink.rows.keys()].sort((a, b) => a - b), [1, 10, 11]);
  assert.equal(seen['projector.stalled']?.[0]?.code, codes.storeTimeout);
  assert.match(seen['projector.stalled']?.[0]?.reason ?? '', /t\[0\]@1 fails alone/);
  assert.ok(source.calls.includes('pause 0'));
  healed = true; // the store is fixed: the retry after the backoff goes through
  await until('partition 0 to flow again', () => nextOffset(0) === '3');
  assert.equal(seen['projector.unstalled']?.length, 1);
  await running.stop();
});

test('a record rejected by the store is dead-lettered once, however often the call is retried', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'refuse me' }, { id: 2, value: 'b' });
  let attempts = 0;
  // the first two attempts refuse the record and then fail transiently; the third refuses it and passes
  const sink = fakeSink(() => ({ reject: (op) => op.value === 'refuse me', fail: ++attempts <= 2 ? 'transient' : undefined }));
  const { running, nextOffset, deadLetter } = await start({ topic: log, sink });
  await until('the checkpoint to pass both records', () => nextOffset(0) === '2');
  assert.ok(attempts >= 3, 'the call was tried three times');
  assert.deepEqual(deadLetter.letters, [{ offset: '0', partition: 0, code: codes.storeRejected }]);
  await running.stop();
});

test('a poison record the store throws on is isolated by splitting, dead-lettered, and passed', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' }, { id: 2, value: 'bad' }, { id: 3, value: 'c' }, { id: 4, value: 'd' });
  const sink = fakeSink((ops) => ({ fail: ops.some(({ op }) => op.value === 'bad') ? 'poison' : undefined }));
  const { running, nextOffset, deadLetter } = await start({ topic: log, sink, maxBatchRecords: 10 });
  await until('the checkpoint to pass every record', () => nextOffset(0) === '4');
  assert.deepEqual(deadLetter.letters.map((l) => l.offset), ['1']);
  assert.deepEqual([...sink.rows.keys()].sort(), [1, 3, 4]);
  await running.stop();
});

test('a configuration fault while decoding stalls the partition at that record: nothing is dead-lettered or skipped', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' }, Buffer.from('schema 404'), { id: 3, value: 'c' });
  log.append(1, { id: 10, value: 'x' });
  let registryFixed = false;
  const decode = fakeDecoder((record) => (registryFixed ? new NovaError('poison', codes.undecodable, 'unused') : new NovaError('stall', codes.unknownSchema, `${record.offset}: the registry has no schema with id 7`)));
  const inner = decode;
  const { running, nextOffset, deadLetter, seen } = await start({
    topic: log,
    decode: async (record) => (registryFixed && record.value?.toString() === 'schema 404' ? inner({ ...record, value: Buffer.from(JSON.stringify({ id: 2, value: 'b' })) }) : inner(record)),
  });
  await until('the stall', () => (seen['projector.stalled'] ?? []).length > 0);
  await until('partition 1', () => nextOffset(1) === '1');
  assert.equal(nextOffset(0), '1', 'stopped exactly at the record it cannot decode');
  assert.equal(seen['projector.stalled']?.[0]?.code, codes.unknownSchema);
  assert.deepEqual(deadLetter.letters, []);
  registryFixed = true;
  await until('the partition to resume and finish', () => nextOffset(0) === '3');
  assert.deepEqual(deadLetter.letters, []);
  await running.stop();
});

test('a checkpoint that retention has passed stalls that partition for good, naming the repair; the rest flows', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' }, { id: 2, value: 'b' }, { id: 3, value: 'c' }, { id: 4, value: 'd' });
  log.append(1, { id: 10, value: 'x' });
  const sink = fakeSink();
  sink.saved.set('t:0', { topic: 't', partition: 0, nextOffset: '1', commitOrder: 1n });
  log.cut(0, 3);
  const events = eventBus();
  const health = projectorHealth(events, { started: () => true });
  const { running, nextOffset, seen } = await start({ topic: log, sink, events });
  await until('partition 1', () => nextOffset(1) === '1');
  await until('the stall', () => (seen['projector.stalled'] ?? []).length > 0);
  const [stall] = seen['projector.stalled'] ?? [];
  assert.equal(stall?.code, codes.retentionGap);
  assert.equal(stall?.retryInMs, null, 'a gap never heals by retrying');
  assert.match(stall?.reason ?? '', /t\[0\].*offset 1.*starts at 3.*--snapshot/);
  assert.equal(nextOffset(0), '1', 'nothing after the hole was applied');
  assert.equal(health.ready(), false);
  assert.match(health.reasons().join('\n'), /stalled t\[0\]: NOVA_C1001/);
  await running.stop();
});

test('retention passing the checkpoint while the partition is stalled is a gap on resume, not a silent skip', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' }, Buffer.from('schema 404'), { id: 3, value: 'c' }, { id: 4, value: 'd' });
  let registryFixed = false;
  const inner = fakeDecoder(() => new NovaError('stall', codes.unknownSchema, 'the registry has no schema with id 7'));
  const { running, nextOffset, seen, sink } = await start({
    topic: log,
    decode: async (record) => (registryFixed && record.value?.toString() === 'schema 404' ? inner({ ...record, value: Buffer.from(JSON.stringify({ id: 2, value: 'b' })) }) : inner(record)),
  });
  await until('the first stall', () => (seen['projector.stalled'] ?? []).length === 1);
  log.cut(0, 3); // the stall outlasts retention: offsets 1 and 2 are gone
  registryFixed = true;
  await until('the gap', () => (seen['projector.stalled'] ?? []).some((s) => s.code === codes.retentionGap));
  const gap = (seen['projector.stalled'] ?? []).find((s) => s.code === codes.retentionGap);
  assert.equal(gap?.retryInMs, null);
  assert.equal(nextOffset(0), '1', 'the checkpoint stays before the hole');
  assert.deepEqual([...sink.rows.keys()], [1]);
  assert.equal(seen['projector.unstalled'], undefined);
  await running.stop();
});

test('the dead-letter breaker never turns a gap into a retry', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' }, { id: 2, value: 'b' }, { id: 3, value: 'c' });
  for (let i = 0; i < 20; i++) log.append(1, { id: 100 + i, value: 'unmappable' });
  const sink = fakeSink();
  sink.saved.set('t:0', { topic: 't', partition: 0, nextOffset: '1', commitOrder: 1n });
  log.cut(0, 2);
  const breaker = deadLetterBreaker({ window: 10, minDeadLetters: 5, ratio: 0.5, initialCoolDownMs: 20 });
  const { running, seen, source } = await start({ topic: log, sink, breaker, maxBatchRecords: 10 });
  await until('the breaker to open and close', () => (seen['projector.breaker'] ?? []).some((e) => !e.open));
  await until('partition 1 to be tried again', () => source.calls.includes('resume 1@undefined') || source.calls.some((c) => c.startsWith('resume 1')));
  assert.ok(!source.calls.some((c) => c.startsWith('resume 0')), `partition 0 stays stalled: ${source.calls.join(', ')}`);
  assert.equal(sink.saved.get('t:0')?.nextOffset, '1');
  await running.stop();
});

test('with a snapshot to fill it, a cut partition the generation has nothing of starts at its first record, and says so in the store', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' }, { id: 2, value: 'b' }, { id: 3, value: 'c' });
  log.cut(0, 2);
  const { running, sink, nextOffset, seen } = await start({ topic: log, snapshotFills: true });
  await until('the partition', () => nextOffset(0) === '3');
  assert.deepEqual([...sink.rows.keys()], [3]);
  assert.equal(seen['projector.stalled'], undefined);
  await running.stop();
});

test('records of a stream that began after a gap stall a generation filled before it; a rebuild past the gap skips the old epoch', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'old', version: 10 }, { id: 2, value: 'new stream', version: 3, epoch: 1, since: 1 });
  const first = await start({ topic: log });
  await until('the stall', () => (first.seen['projector.stalled'] ?? []).length > 0);
  assert.equal(first.seen['projector.stalled']?.[0]?.code, codes.streamGap);
  assert.equal(first.nextOffset(0), '1');
  await first.running.stop();

  const rebuilt = await start({ topic: log, skipBeforeEpoch: 1, snapshotFills: true });
  await until('the rebuild', () => rebuilt.nextOffset(0) === '2');
  assert.deepEqual([...rebuilt.sink.rows.keys()], [2], 'the record before the gap is passed, not applied');
  await rebuilt.running.stop();
});

test('a change below its partition checkpoint in commit order is reported (a re-sent record, or positions that restarted lower)', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a', version: 100 }, { id: 2, value: 'b', version: 50 });
  const { running, nextOffset, seen } = await start({ topic: log });
  await until('both', () => nextOffset(0) === '2');
  assert.deepEqual(seen['projector.order_regression']?.map((e) => [e.offset, e.commitOrder, e.checkpointOrder]), [['1', 50n, 100n]]);
  await running.stop();
});

test('the dead-letter breaker stalls every partition when most records are dead-lettered, then lets them through after a cool-down', async () => {
  const log = new FakeLog();
  for (let i = 0; i < 20; i++) log.append(i % 2, { id: i, value: 'unmappable' });
  const breaker = deadLetterBreaker({ window: 10, minDeadLetters: 5, ratio: 0.5, initialCoolDownMs: 30 });
  const { running, seen, deadLetter } = await start({ topic: log, breaker, maxBatchRecords: 10 });
  await until('the breaker to open', () => (seen['projector.breaker'] ?? []).some((e) => e.open));
  const lettersAtTrip = deadLetter.letters.length;
  assert.ok(lettersAtTrip < 20, `stopped dead-lettering before the end (${lettersAtTrip} of 20)`);
  assert.deepEqual(new Set(seen['projector.stalled']?.map((e) => `${e.partition} ${e.code}`)), new Set([`0 ${codes.deadLetterRate}`, `1 ${codes.deadLetterRate}`]));
  await until('the breaker to half-open', () => (seen['projector.breaker'] ?? []).some((e) => !e.open));
  await running.stop();
});

test('a change the mapping cannot take is dead-lettered and passed; the rest of its batch applies', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' }, { id: 2, value: 'unmappable' }, { id: 3, value: 'c' });
  const { running, nextOffset, sink, deadLetter } = await start({ topic: log });
  await until('the checkpoint to pass all three', () => nextOffset(0) === '3');
  assert.deepEqual(deadLetter.letters, [{ offset: '1', partition: 0, code: codes.unmappable }]);
  assert.deepEqual([...sink.rows.keys()].sort(), [1, 3]);
  await running.stop();
});

test('each partition of a shared sink call gets its own checkpoint, with its own newest commit order', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a', version: 50 }, { id: 2, value: 'b', version: 70 });
  log.append(1, { id: 3, value: 'c', version: 90 }, { id: 4, value: 'd', version: 60 });
  // handed in together, as one fetch round of a consumer taking partitions concurrently
  const { running, sink } = await start({ topic: log, maxBatchRecords: 10, concurrent: true });
  await until('both partitions', () => sink.saved.size === 2 && [...sink.saved.values()].every((c) => c.nextOffset === '2'));
  const shared = sink.calls.filter(({ checkpoints }) => ['t:0', 't:1'].every((key) => checkpoints.some((c) => `${c.topic}:${c.partition}` === key)));
  assert.equal(shared.length, 1, `one sink call carries both partitions: ${JSON.stringify(sink.calls.map((c) => c.checkpoints.map((k) => `${k.topic}:${k.partition}`)))}`);
  assert.deepEqual(
    [...(shared[0]?.checkpoints ?? [])].sort((a, b) => a.partition - b.partition).map((c) => [`${c.topic}:${c.partition}`, c.nextOffset, c.commitOrder]),
    [
      ['t:0', '2', 70n], // its own part's newest, not the call's (90)
      ['t:1', '2', 90n], // its own newest, though not its last record's (60)
    ],
    'each checkpoint of the shared call carries its own part\'s newest commit order',
  );
  assert.deepEqual([sink.saved.get('t:0')?.commitOrder, sink.saved.get('t:1')?.commitOrder], [70n, 90n]);
  await running.stop();
});

test('while a store outage keeps the sink call retrying, the group membership is kept alive', async () => {
  const log = new FakeLog();
  log.append(0, { id: 1, value: 'a' });
  // the store stays down until the runtime has heartbeated twice while retrying: without the
  // keep-alive the call never succeeds and the test times out
  let heartbeats = () => 0;
  const sink = fakeSink(() => ({ fail: heartbeats() < 2 ? 'transient' : undefined }));
  const { running, nextOffset, source } = await start({ topic: log, sink, retryInitialMs: 50, retryMaxMs: 100 });
  heartbeats = source.heartbeats;
  await until('the record, after the outage', () => nextOffset(0) === '1', 10_000);
  await running.stop();
});

test('readiness: unready while records wait and nothing is applied for the bound', () => {
  const events = eventBus();
  let now = 0;
  const health = projectorHealth(events, { started: () => true, stuckAfterMs: 1000, now: () => now });
  assert.equal(health.ready(), true);
  events.emit('projector.fetched', { topic: 't', partition: 0, highWatermark: '10', firstOffset: '0', firstTimestamp: 0 });
  now = 999;
  assert.equal(health.ready(), true, 'within the bound');
  now = 1001;
  assert.match(health.reasons().join(), /no progress for 1 s with 10 records waiting/);
  events.emit('projector.checkpoint', { topic: 't', partition: 0, nextOffset: '5', commitOrder: null, highWatermark: '10' });
  assert.equal(health.ready(), true, 'progress resets the clock');
  now = 2100;
  assert.equal(health.ready(), false);
  events.emit('projector.checkpoint', { topic: 't', partition: 0, nextOffset: '10', commitOrder: null, highWatermark: '10' });
  now = 9000;
  assert.equal(health.ready(), true, 'nothing waits: idle is ready');
});
