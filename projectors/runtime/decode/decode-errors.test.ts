// Bad input gets a typed error that names where it sits in Kafka: a record that is not Avro is
// poison (dead-lettered); a schema id the registry does not have is a configuration fault (a
// wrong registry, a restore from an older backup) that stalls the partition instead.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { loadReaderSchemas } from '../../../schemas/avro/reader-schemas.ts';
import { env } from '../../../scripts/stack.d/test/stack.ts';
import { DecodeError, codes } from '../errors.ts';
import { captureTopics } from '../testing/kafka-capture.ts';
import { createDecoder, registryLookup } from './index.ts';

const topic = `nova.test.garbage_${randomUUID().slice(0, 8)}`;
const kafka = new Kafka({ clientId: 'nova-decode-errors-test', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });
const users = loadReaderSchemas();
// the scratch topic reads as if it were the users topic
const decode = createDecoder({
  lookupSchema: registryLookup({ url: env('SCHEMA_REGISTRY_URL') }),
  readerSchemas: (_topic, part) => users('nova.social.users', part),
});

after(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
});

test('not Avro is poison, an unknown schema id stalls: typed errors naming topic, partition and offset', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]);
  await producer.send({ topic, messages: [{ key: null, value: Buffer.from('{"not": "avro"}') }, { key: null, value: unknownId }] });
  await producer.disconnect();

  const [notAvro, unknown] = await captureTopics({ brokers: env('KAFKA_BROKERS'), topics: [topic], until: (r) => r.length >= 2 });
  const expectError = async (record: typeof notAvro, kind: string, code: string, offset: string, text: RegExp) => {
    const error = await decode(record as NonNullable<typeof record>).then(
      () => assert.fail('decoded garbage'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DecodeError, `a DecodeError, got ${error}`);
    assert.equal(error.kind, kind);
    assert.equal(error.code, code);
    assert.deepEqual(error.position, { topic, partition: 0, offset });
    assert.match(error.message, new RegExp(`${topic.replaceAll('.', '\\.')}\\[0\\]@${offset}`));
    assert.match(error.message, text);
  };
  await expectError(notAvro, 'poison', codes.notAvro, '0', /not in Confluent wire format/);
  await expectError(unknown, 'stall', codes.unknownSchema, '1', /no schema with id 2147483632/);
});
