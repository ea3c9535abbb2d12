// The nova-postgres connector on the running stack, driven through `scripts/nova connector`
// the way an operator would: registration is idempotent, status reports state and slot lag,
// the topics carry the partitions and retention the connector JSON gives them, and the
// heartbeat keeps the replication slot moving while the projected tables are idle.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { runNova } from '../projectors/runtime/testing/projector-process.ts';
import { env, waitFor } from '../scripts/stack.d/test/stack.ts';
import { ensureTopics, loadConnector, registerConnector } from './register.ts';
import { topicPlan } from './topic-plan.ts';

// kafkajs is CommonJS and Node cannot see every named export: take them from the default
const { ConfigResourceTypes, Kafka, logLevel } = kafkajs;
const { name, config } = await loadConnector();
const db = new pg.Client({ connectionString: env('DATABASE_URL') });

const nova = (...args: string[]) => runNova(args, 60_000);

before(() => db.connect());
after(() => db.end());

test('register run twice updates the connector in place and creates no topics', { timeout: 120_000 }, async () => {
  const first = await nova('connector', 'register');
  assert.equal(first.code, 0, first.stderr);
  const second = await nova('connector', 'register');
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, new RegExp(`^connector ${name} updated \\(source epoch \\d+, stream since epoch \\d+\\)\n$`));
});

test('status shows the connector and its task RUNNING and the slot lag in bytes', { timeout: 60_000 }, async () => {
  // a re-registration may have restarted the task: wait for it to settle
  const status = await waitFor('connector status to exit 0', async () => {
    const result = await nova('connector', 'status');
    return result.code === 0 ? result : undefined;
  });
  assert.match(status.stdout, new RegExp(`^connector ${name}: RUNNING on `, 'm'));
  assert.match(status.stdout, /^ {2}task 0: RUNNING$/m);
  assert.match(status.stdout, new RegExp(`^ {2}slot ${config['slot.name']}: active, wal_status reserved, lag \\d+ bytes$`, 'm'));
  assert.match(status.stdout, /^ {2}source epoch \d+, stream since epoch \d+$/m);
});

test("every planned topic exists with the connector JSON's partitions and retention.ms", async () => {
  const plan = topicPlan(config);
  const admin = new Kafka({ clientId: 'nova-connector-test', brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    assert.deepEqual(plan.filter((t) => !existing.has(t.topic)).map((t) => t.topic), [], 'missing topics');
    const topics = plan.map((t) => t.topic);
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((topic) => ({ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'max.message.bytes'] })),
    });
    const config = new Map(resources.map((r) => [r.resourceName, new Map(r.configEntries.map((e) => [e.configName, e.configValue]))]));
    const actual = Object.fromEntries(
      metadata.map((m) => [m.name, { partitions: m.partitions.length, retentionMs: Number(config.get(m.name)?.get('retention.ms')), maxMessageBytes: Number(config.get(m.name)?.get('max.message.bytes')) }]),
    );
    const expected = Object.fromEntries(plan.map((t) => [t.topic, { partitions: t.partitions, retentionMs: t.retentionMs, maxMessageBytes: t.maxMessageBytes }]));
    assert.deepEqual(actual, expected);
  } finally {
    await admin.disconnect();
  }
});

test('the heartbeat writes debezium_heartbeat and the slot advances past it while tables are idle', { timeout: 90_000 }, async () => {
  const { rows } = await db.query('SELECT now()::text AS now, pg_current_wal_lsn()::text AS lsn');
  const start = rows[0] as { now: string; lsn: string };
  const beat = await waitFor(
    'a heartbeat row written after the test started',
    async () => (await db.query('SELECT beat_at FROM debezium_heartbeat WHERE id = 1 AND beat_at > $1::timestamptz', [start.now])).rows[0],
    30_000,
  );
  assert.ok(beat.beat_at instanceof Date);
  await waitFor(
    `slot ${config['slot.name']} to confirm past ${start.lsn}`,
    async () => {
      const { rows: slot } = await db.query(
        'SELECT confirmed_flush_lsn > $1::pg_lsn AS advanced FROM pg_replication_slots WHERE slot_name = $2',
        [start.lsn, config['slot.name']],
      );
      return slot[0]?.advanced ? true : undefined;
    },
    30_000,
  );
});

test('register repairs drifted retention, refuses a topic whose partition count differs from the plan', { timeout: 60_000 }, async () => {
  const admin = new Kafka({ clientId: 'nova-connector-test', brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const run = Date.now().toString(36);
  const [drifted, repartitioned] = [`nova.test.retention-${run}`, `nova.test.partitions-${run}`];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: drifted, numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '1000' }] },
        { topic: repartitioned, numPartitions: 2 },
      ],
    });
    const spec = (topic: string, partitions: number) => ({ topic, table: 'public.t', partitions, retentionMs: 86_400_000, maxMessageBytes: 1_048_588 });
    assert.deepEqual(await ensureTopics(admin, [spec(drifted, 2)]), { created: [], aligned: [drifted] });
    assert.deepEqual(await ensureTopics(admin, [spec(drifted, 2)]), { created: [], aligned: [] }, 'a second run changes nothing');
    await assert.rejects(ensureTopics(admin, [spec(repartitioned, 4)]), new RegExp(`${repartitioned.replaceAll('.', '\\.')} has 2 partitions, the plan says 4`));
  } finally {
    await admin.deleteTopics({ topics: [drifted, repartitioned] }).catch(() => {});
    await admin.disconnect();
  }
});

test('register fails loudly when Kafka Connect does not answer, instead of reporting the connector created', async () => {
  const admin = new Kafka({ clientId: 'nova-connector-test', brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const connector = { name: 'nova-unreachable', config: { 'topic.prefix': 'nova', 'table.include.list': '' } };
    await assert.rejects(registerConnector({ connectUrl: 'http://127.0.0.1:9', admin, db, connector }), /fetch failed|ECONNREFUSED/);
  } finally {
    await admin.disconnect();
  }
});
