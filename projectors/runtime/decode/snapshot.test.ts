// The initial snapshot against the real pipeline: rows written before a connector exists
// reach Nova's decoder as `read` changes. A throwaway second connector (its own slot, the
// shared nova_cdc publication) snapshots public.users into a throwaway topic; the Avro
// schema names stay nova.public.users.*, so our nova.social.users reader schema resolves them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { connectRequest, connectorStatus } from '../../../connectors/connect-rest.ts';
import { loadReaderSchemas } from '../../../schemas/avro/reader-schemas.ts';
import { env, waitFor } from '../../../scripts/stack.d/test/stack.ts';
import { captureTopics } from '../testing/kafka-capture.ts';
import { removeThrowaway, throwawayConfig } from '../testing/throwaway-connector.ts';
import { createDecoder, registryLookup, type Change, type RawRecord } from './index.ts';

const run = randomUUID().slice(0, 8);
const connector = `nova-snapshot-${run}`;
const slot = `nova_snapshot_${run}`;
const topic = `nova_snapshot_${run}.users`;
const usernames = [1, 2, 3].map((n) => `snapshot-${n}-${run}`);

const connectUrl = env('KAFKA_CONNECT_URL');
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const kafka = new Kafka({ clientId: 'nova-snapshot-test', brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
const readers = loadReaderSchemas();
const decode = createDecoder({
  lookupSchema: registryLookup({ url: env('SCHEMA_REGISTRY_URL') }),
  readerSchemas: (t, part) => readers(t === topic ? 'nova.social.users' : t, part),
});

/** nova-postgres narrowed to public.users: own slot, no heartbeat, one router to the throwaway topic. */
const snapshotConfig = () =>
  throwawayConfig(connector, slot, {
    'snapshot.mode': 'initial',
    'table.include.list': 'public.users',
    transforms: 'snapshot',
    'transforms.snapshot.type': 'org.apache.kafka.connect.transforms.RegexRouter',
    'transforms.snapshot.regex': 'nova\\.public\\.users',
    'transforms.snapshot.replacement': topic,
  });

before(() => db.connect());

after(async () => {
  await removeThrowaway(connector, slot, [topic]);
  await db.query('DELETE FROM users WHERE username = ANY($1)', [usernames]);
  await db.end();
});

test('rows that exist before the connector arrive as snapshot reads', { timeout: 120_000 }, async () => {
  const { rows: inserted } = await db.query(
    'INSERT INTO users (username, bio) SELECT u, $2 FROM unnest($1::text[]) AS u RETURNING id, username, avatar_url, bio, created_at',
    [usernames, `before ${connector}`],
  );

  await connectRequest(connectUrl, 'PUT', `/connectors/${connector}/config`, await snapshotConfig());
  // Debezium creates the topic with its first record; subscribing earlier fails
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(`topic ${topic}`, async () => {
      const task = (await connectorStatus(connectUrl, connector)).tasks[0];
      if (task?.state === 'FAILED') throw new Error(`connector task failed: ${task.trace}`);
      return (await admin.listTopics()).includes(topic) ? true : undefined;
    }, 90_000);
  } finally {
    await admin.disconnect();
  }

  const ids = new Set(inserted.map((row) => Number(row.id)));
  const reads = new Map<number, Change>();
  await captureTopics({
    brokers: env('KAFKA_BROKERS'),
    topics: [topic],
    until: async (records) => {
      const decoded = await decode(records.at(-1) as RawRecord);
      const id = Number(decoded.key?.id);
      if (decoded.kind === 'change' && ids.has(id)) reads.set(id, decoded);
      return reads.size === ids.size;
    },
  });

  for (const row of inserted) {
    const change = reads.get(Number(row.id));
    assert.equal(change?.op, 'read', `${row.username}: a snapshot read`);
    assert.equal(change.table, 'public.users');
    assert.deepEqual(change.key, { id: Number(row.id) });
    assert.equal(change.before, null);
    assert.deepEqual(change.after, { ...row, id: Number(row.id) }, `${row.username}: the row as inserted`);
    // fill-only, and before everything streamed after the snapshot (decode/version.ts)
    assert.equal(change.version, 0n, `${row.username}: version 0`);
    assert.equal(change.commitOrder, 0n, `${row.username}: commit order 0`);
  }
});
