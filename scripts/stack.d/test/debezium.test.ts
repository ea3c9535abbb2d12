// The CDC path end to end on a throwaway table: PostgreSQL WAL -> Debezium (pgoutput)
// -> Apicurio's Avro converter -> Kafka, decoded with the Confluent-compatible registry
// client Nova's runtime will use. Then the registry restarts and the same bytes decode
// again, proving its schemas live in PostgreSQL.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { longAsBigint } from '../../../projectors/runtime/testing/exact-longs.ts';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import pg from 'pg';
import { env, stack, waitFor } from './stack.ts';

const run = randomUUID().slice(0, 8);
const table = `stack_smoke_${run}`;
const connector = `stack-smoke-${run}`;
const topic = `smoke_${run}.public.${table}`;
const slot = `smoke_${run}`;
const publication = `smoke_${run}`;

const connectUrl = env('KAFKA_CONNECT_URL');
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const kafka = new Kafka({ clientId: 'stack-smoke', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });

// Debezium's envelope carries ts_ns (beyond 2^53): Avro longs decode as bigint (longAsBigint).
const newRegistryClient = () =>
  new SchemaRegistry({ host: env('SCHEMA_REGISTRY_URL') }, { [SchemaType.AVRO]: { typeHook: longAsBigint } });

async function connectRest(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${connectUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function connectorConfig(): Record<string, string> {
  const pgUrl = new URL(env('DATABASE_URL'));
  const avro = 'io.apicurio.registry.utils.converter.AvroConverter';
  const converter = (side: 'key' | 'value') => ({
    [`${side}.converter`]: avro,
    [`${side}.converter.apicurio.registry.url`]: env('APICURIO_REGISTRY_V2_URL'),
    [`${side}.converter.apicurio.registry.auto-register`]: 'true',
    [`${side}.converter.apicurio.registry.find-latest`]: 'true',
    // Confluent wire format: magic byte + 4-byte id (the content id), no headers
    [`${side}.converter.apicurio.registry.as-confluent`]: 'true',
    [`${side}.converter.apicurio.registry.use-id`]: 'contentId',
    [`${side}.converter.apicurio.registry.headers.enabled`]: 'false',
  });
  return {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'plugin.name': 'pgoutput',
    'database.hostname': '127.0.0.1',
    'database.port': pgUrl.port,
    'database.user': env('NOVA_PG_REPLICATION_USER'),
    'database.password': env('NOVA_PG_REPLICATION_PASSWORD'),
    'database.dbname': pgUrl.pathname.slice(1),
    'topic.prefix': `smoke_${run}`,
    'table.include.list': `public.${table}`,
    'slot.name': slot,
    'publication.name': publication,
    'publication.autocreate.mode': 'disabled',
    'snapshot.mode': 'initial',
    'topic.creation.default.replication.factor': '1',
    'topic.creation.default.partitions': '1',
    ...converter('key'),
    ...converter('value'),
  };
}

before(async () => {
  await db.connect();
  await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL, qty int)`);
  await db.query(`ALTER TABLE ${table} REPLICA IDENTITY FULL`);
  await db.query(`CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
  await db.query(`GRANT SELECT ON ${table} TO ${env('NOVA_PG_REPLICATION_USER')}`);
  await db.query(`INSERT INTO ${table} VALUES (0, 'before the connector', 0)`);
});

after(async () => {
  await connectRest('DELETE', `/connectors/${connector}`);
  // Dropping a slot takes the replication role.
  const asReplicator = new URL(env('DATABASE_URL'));
  asReplicator.username = env('NOVA_PG_REPLICATION_USER');
  asReplicator.password = env('NOVA_PG_REPLICATION_PASSWORD');
  const replicator = new pg.Client({ connectionString: asReplicator.href });
  await replicator.connect();
  await waitFor('the smoke replication slot to be dropped', async () => {
    const { rows } = await replicator.query('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (rows.length === 0) return true;
    // the stopped task's walsender can linger; it runs as our role, so we may end it
    if (rows[0].active_pid) await replicator.query('SELECT pg_terminate_backend($1)', [rows[0].active_pid]);
    await replicator.query('SELECT pg_drop_replication_slot($1)', [slot]);
    return true;
  });
  await replicator.end();
  await db.query(`DROP PUBLICATION IF EXISTS ${publication}`);
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.end();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
});

async function consumeAll(count: number): Promise<KafkaMessage[]> {
  // Debezium creates the topic with its first record; subscribing earlier fails
  const admin = kafka.admin();
  await admin.connect();
  await waitFor(`topic ${topic}`, async () => ((await admin.listTopics()).includes(topic) ? true : undefined));
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `stack-smoke-${run}-${randomUUID()}` });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    await waitFor(`${count} records on ${topic}`, async () => (messages.length >= count ? true : undefined), 90_000);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

type Row = { id: number; name: string; qty: number | null };
type Envelope = { op: string; before: Row | null; after: Row | null };

// avsc decodes records into instances of generated classes; compare them as plain data
async function decodeAll(registry: SchemaRegistry, messages: KafkaMessage[]) {
  return Promise.all(
    messages.map(async (m) => ({
      key: m.key ? (structuredClone(await registry.decode(m.key)) as { id: number }) : null,
      value: m.value ? (structuredClone(await registry.decode(m.value)) as Envelope) : null,
    })),
  );
}

test('insert, update and delete arrive as Avro and decode through the registry, before and after it restarts', async () => {
  const created = await connectRest('PUT', `/connectors/${connector}/config`, connectorConfig());
  assert.ok(created.ok, `connector rejected: ${await created.text()}`);
  await waitFor('the connector task to run', async () => {
    const res = await connectRest('GET', `/connectors/${connector}/status`);
    if (!res.ok) return undefined;
    const status = (await res.json()) as { tasks: { state: string; trace?: string }[] };
    const task = status.tasks[0];
    if (task?.state === 'FAILED') throw new Error(`connector task failed: ${task.trace}`);
    return task?.state === 'RUNNING' ? true : undefined;
  });

  await db.query(`INSERT INTO ${table} VALUES (1, 'first', 10)`);
  await db.query(`UPDATE ${table} SET name = 'renamed', qty = 11 WHERE id = 1`);
  await db.query(`DELETE FROM ${table} WHERE id = 1`);

  // snapshot read, create, update, delete, and the delete's tombstone
  const messages = await consumeAll(5);
  assert.equal(messages[0]?.value?.readUInt8(0), 0, 'Confluent wire format starts with magic byte 0');

  const expectDecoded = (decoded: Awaited<ReturnType<typeof decodeAll>>) => {
    assert.deepEqual(
      decoded.map((d) => d.value?.op ?? 'tombstone'),
      ['r', 'c', 'u', 'd', 'tombstone'],
    );
    assert.deepEqual(decoded.map((d) => d.key?.id), [0, 1, 1, 1, 1]);
    assert.deepEqual(decoded[0]?.value?.after, { id: 0, name: 'before the connector', qty: 0 });
    assert.deepEqual(decoded[1]?.value?.after, { id: 1, name: 'first', qty: 10 });
    assert.deepEqual(decoded[2]?.value?.before, { id: 1, name: 'first', qty: 10 });
    assert.deepEqual(decoded[2]?.value?.after, { id: 1, name: 'renamed', qty: 11 });
    assert.deepEqual(decoded[3]?.value?.before, { id: 1, name: 'renamed', qty: 11 });
    assert.equal(decoded[3]?.value?.after, null);
  };
  expectDecoded(await decodeAll(newRegistryClient(), messages));

  await stack('down', 'registry');
  await stack('up', 'registry');
  // a fresh client has no cached schemas: every id is fetched from the restarted registry
  expectDecoded(await decodeAll(newRegistryClient(), messages));
});
