// The tombstone horizon against the real Kafka: scratch topics whose records carry their commit
// order as text (the decoder is the one seam replaced: which records count, and what retention
// and the letter topics do to the horizon, is Kafka's and this module's).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { env } from '../../../scripts/stack.d/test/stack.ts';
import { deadLetterHeaders, deadLetterTopic, replayTopic } from '../dead-letter.ts';
import type { Decoded, DecodeRecord } from '../decode/index.ts';
import { codes, NovaError } from '../errors.ts';
import { horizonOf, nothingRetained, tombstoneHorizon } from './horizon.ts';

const run = randomUUID().slice(0, 8);
const projector = `horizon${run}`;
const [changes, quiet, poisoned] = ['changes', 'quiet', 'poisoned'].map((name) => `nova.test.horizon_${name}_${run}`) as [string, string, string];
const topics = [changes, quiet, poisoned];
const kafka = new Kafka({ clientId: 'nova-horizon-test', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });

/** A value `co=N` is a change at commit order N, none (a Kafka tombstone) is no change, `poison` never decodes, `away` is a registry that does not answer. */
let registryAway = false;
const decode: DecodeRecord = async (record) => {
  const text = record.value?.toString();
  if (text === undefined) return { kind: 'tombstone' } as Decoded;
  if (text === 'poison') throw new NovaError('poison', codes.notAvro, 'not Avro');
  if (registryAway) throw new NovaError('transient', codes.registryUnavailable, 'the registry did not answer');
  return { kind: 'change', commitOrder: BigInt(text.slice(3)) } as Decoded;
};

const value = (v: string | null) => ({ key: null, value: v === null ? null : Buffer.from(v) });

before(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: changes, numPartitions: 2 },
      { topic: quiet, numPartitions: 1 },
      { topic: poisoned, numPartitions: 1 },
      { topic: deadLetterTopic(projector), numPartitions: 1 },
      { topic: replayTopic(projector), numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: changes, messages: [{ ...value(null), partition: 0 }, { ...value('co=30'), partition: 0 }, { ...value('co=40'), partition: 0 }] });
  await producer.send({ topic: changes, messages: [{ ...value('co=20'), partition: 1 }, { ...value('co=50'), partition: 1 }] });
  await producer.send({ topic: poisoned, messages: [value('poison'), value('co=70'), value('co=80')] });
  await producer.disconnect();
});

after(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [...topics, deadLetterTopic(projector), replayTopic(projector)] });
  await admin.disconnect();
});

const horizon = async () => {
  const found = await tombstoneHorizon({ kafka, projector, topics, decode });
  return Object.fromEntries(topics.map((t) => [t.split('_')[1], horizonOf(found, t)]));
};

test('per topic, the lowest commit order of the first change each partition retains: a Kafka tombstone or a record that never decodes is passed over, an empty topic holds nothing back', async () => {
  assert.deepEqual(await horizon(), { changes: 20n, quiet: nothingRetained, poisoned: 70n });
});

test('retention moving a partition\'s start moves the horizon with it', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.fetchTopicMetadata({ topics: [changes] }); // deleteTopicRecords needs it loaded
  await admin.deleteTopicRecords({ topic: changes, partitions: [{ partition: 1, offset: '1' }] });
  await admin.disconnect();
  assert.deepEqual(await horizon(), { changes: 30n, quiet: nothingRetained, poisoned: 70n }, 'partition 1 starts at co=50 now: partition 0\'s co=30 is the lowest');
});

test('every retained letter of the projector counts, wherever it lies in its topic, at its source topic', async () => {
  const producer = kafka.producer();
  await producer.connect();
  const letter = (v: string, source: string) => ({ ...value(v), headers: { [deadLetterHeaders.topic]: source, [deadLetterHeaders.partition]: '0' } });
  await producer.send({ topic: deadLetterTopic(projector), messages: [letter('co=60', changes), letter('co=10', changes), letter('co=1', 'nova.not.ours')] });
  await producer.send({ topic: replayTopic(projector), messages: [letter('co=3', quiet)] });
  await producer.disconnect();
  assert.deepEqual(await horizon(), { changes: 10n, quiet: 3n, poisoned: 70n });
});

test('a letter that does not decode holds its source topic\'s tombstones back (a fix may make it decode, and dlq-replay hand it back)', async () => {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: deadLetterTopic(projector), messages: [{ ...value('poison'), headers: { [deadLetterHeaders.topic]: poisoned, [deadLetterHeaders.partition]: '0' } }] });
  await producer.disconnect();
  assert.deepEqual(await horizon(), { changes: 10n, quiet: 3n, poisoned: 0n });
});

test('a record that cannot be read for now (the registry away) leaves the horizon unknown: an error, not a guess', async () => {
  registryAway = true;
  try {
    await assert.rejects(horizon(), (error: unknown) => error instanceof NovaError && error.code === codes.registryUnavailable);
  } finally {
    registryAway = false;
  }
});
