// Faults that must stall loudly instead of skipping (issue 8, items 2 and 4), on the real stack:
// real Kafka, the real registry, ClickHouse as the store. The in-process projector reads topics
// of this file's own, filled with real CDC records copied from nova.user.user_interactions, so a
// test may cut or recreate them; one test runs the real projector process on the live topic.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import kafkajs, { type Admin } from 'kafkajs';
import pg from 'pg';
import avro from 'avsc';
import { clickhouseClient, clickhouseProjector, clearCheckpoints, currentStateQuery, dropGeneration, userBehaviorEvents } from '../clickhouse/index.ts';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { deadLetterHeaders, deadLetterTopic, replayTopic } from './dead-letter.ts';
import { replayDeadLetters } from './dead-letter-replay.ts';
import type { RawRecord } from './decode/index.ts';
import { codes } from './errors.ts';
import { decode } from './testing/cdc-capture.ts';
import { decodeWithWriter, exactLongs } from './testing/exact-longs.ts';
import { runInProcess, type InProcessProjector } from './testing/in-process.ts';
import { captureTopics, endOffsets } from './testing/kafka-capture.ts';
import { deleteConsumerGroup, outputTail, startProjector, stopProjector, type ProjectorProcess } from './testing/projector-process.ts';
import { projectorGroup } from './source/kafkajs-source.ts';

const { ConfigResourceTypes, Kafka, logLevel } = kafkajs;
const source = 'nova.user.user_interactions';
const run = randomUUID().slice(0, 8);
const kafka = new Kafka({ clientId: `nova-faults-${run}`, brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
const admin: Admin = kafka.admin();
const producer = kafka.producer();
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const ch = clickhouseClient(process.env);
const generations: number[] = [];
const topics: string[] = [];
const running: InProcessProjector<unknown>[] = [];

before(async () => {
  await Promise.all([admin.connect(), producer.connect(), db.connect()]);
});
after(async () => {
  for (const p of running) await p.close();
  for (const generation of generations) {
    await dropGeneration(ch, generation);
    await clearCheckpoints(ch, { projector: clickhouseProjector.name, generation });
  }
  await admin.deleteTopics({ topics }).catch(() => {});
  await Promise.all([admin.disconnect(), producer.disconnect(), db.end(), ch.close()]);
});

const newGeneration = () => {
  const generation = randomInt(1_000_000_000, 2_000_000_000);
  generations.push(generation);
  return generation;
};

async function newTopic(partitions: number): Promise<string> {
  const topic = `nova.test.faults-${run}-${topics.length}`;
  topics.push(topic);
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  return topic;
}

/** `count` interactions written to PostgreSQL, as Debezium published them (raw records, in commit order). */
async function interactions(count: number, tag: string): Promise<RawRecord[]> {
  const since = await endOffsets(env('KAFKA_BROKERS'), [source]);
  const user = (await db.query('INSERT INTO users (username) VALUES ($1) RETURNING id', [`faults-${run}-${tag}`])).rows[0].id;
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const { rows } = await db.query(`INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type) VALUES ($1, 'post', $2, $3) RETURNING id`, [user, i, tag]);
    ids.push(Number(rows[0].id));
  }
  const mine = new Map<number, RawRecord>();
  await captureTopics({
    brokers: env('KAFKA_BROKERS'),
    topics: [source],
    since,
    until: async (records) => {
      for (const record of records) {
        const decoded = await decode(record).catch(() => undefined);
        const id = Number(decoded?.key?.['id']);
        if (decoded?.kind === 'change' && ids.includes(id)) mine.set(id, record);
      }
      return mine.size === count;
    },
  });
  return ids.map((id) => mine.get(id) as RawRecord);
}

/** Copies records to a partition of a test topic, headers and all. */
async function copyTo(topic: string, partition: number, records: RawRecord[]) {
  await producer.send({
    topic,
    messages: records.map((r) => ({ partition, key: r.key, value: r.value, headers: Object.fromEntries(Object.entries(r.headers ?? {}).filter((e): e is [string, Buffer] => e[1] !== undefined)) })),
  });
}

async function start(topic: string | string[], generation: number, extra: { snapshotFills?: boolean; definition?: typeof clickhouseProjector } = {}) {
  const list = Array.isArray(topic) ? topic : [topic];
  const projector = await runInProcess({ definition: extra.definition ?? clickhouseProjector, generation, topics: list, readerTopic: () => source, snapshotFills: extra.snapshotFills });
  running.push(projector as InProcessProjector<unknown>);
  return projector;
}

/** Until the projector's checkpoints reach every partition's end. */
async function caughtUp(projector: InProcessProjector<unknown>, topic: string) {
  const ends = await endOffsets(env('KAFKA_BROKERS'), [topic]);
  await waitFor(`checkpoints at the end of ${topic}`, async () => {
    const at = new Map((await projector.sink.load()).map((c) => [`${c.topic}:${c.partition}`, c.nextOffset]));
    return [...ends].every(([key, end]) => end === '0' || at.get(key) === end) ? true : undefined;
  });
}

async function viewIds(generation: number): Promise<string[]> {
  const result = await ch.query({ query: `SELECT toString(id) AS id FROM (${currentStateQuery(userBehaviorEvents, generation)}) ORDER BY id`, format: 'JSONEachRow' });
  return (await result.json<{ id: string }>()).map((r) => r.id);
}

describe('retention', () => {
  test('a checkpoint that retention has passed stalls the partition for good, names the repair, and nothing after the hole is applied', { timeout: 180_000 }, async () => {
    const topic = await newTopic(2);
    const generation = newGeneration();
    const first = await interactions(5, 'first');
    await copyTo(topic, 0, first);
    let projector = await start(topic, generation);
    await caughtUp(projector, topic);
    const filled = await viewIds(generation);
    assert.equal(filled.length, 5);
    await projector.close();

    // the projector is down for longer than retention: ten records come and go unseen
    await copyTo(topic, 0, await interactions(10, 'lost'));
    const end = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === 0)?.high as string;
    assert.equal(end, '15');
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: end }] });
    const after = await interactions(1, 'after');
    await copyTo(topic, 0, after);
    await copyTo(topic, 1, after); // partition 1 is whole: it flows

    projector = await start(topic, generation);
    const stall = await waitFor('the stall', async () => projector.seen('projector.stalled')[0]);
    assert.equal(stall.code, codes.retentionGap);
    assert.equal(stall.partition, 0);
    assert.equal(stall.retryInMs, null);
    assert.match(stall.reason, new RegExp(`${topic.replaceAll('.', '\\.')}\\[0\\].*checkpoint is at offset 5 but the topic now starts at 15.*rebuild .*--snapshot`));
    await waitFor('partition 1', async () => ((await projector.sink.load()).some((c) => c.partition === 1 && c.nextOffset === '1') ? true : undefined));
    assert.equal(projector.health.ready(), false);
    assert.match(projector.health.reasons().join('\n'), /NOVA_C1001/);
    const checkpoint = (await projector.sink.load()).find((c) => c.topic === topic && c.partition === 0);
    assert.equal(checkpoint?.nextOffset, '5', 'the checkpoint did not move past the hole');
    assert.deepEqual((await viewIds(generation)).length, 6, 'the five from before and the one of the whole partition');
  });

  test('a checkpoint beyond the end (the topic was recreated) stalls the partition', { timeout: 120_000 }, async () => {
    const topic = await newTopic(1);
    const generation = newGeneration();
    await copyTo(topic, 0, await interactions(3, 'recreated'));
    let projector = await start(topic, generation);
    await caughtUp(projector, topic);
    await projector.close();
    await admin.deleteTopics({ topics: [topic] });
    await waitFor('the topic to be gone', async () => (!(await admin.listTopics()).includes(topic) ? true : undefined));
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    await copyTo(topic, 0, await interactions(1, 'anew'));
    projector = await start(topic, generation);
    const stall = await waitFor('the stall', async () => projector.seen('projector.stalled')[0]);
    assert.equal(stall.code, codes.beyondEnd);
    assert.match(stall.reason, /checkpoint is at offset 3 but the partition ends at 1 .*recreated/);
  });
});

describe('faults outside the records', () => {
  test('a registry at the wrong API path stalls the projector loudly: nothing is dead-lettered, no checkpoint moves; fixed, it catches up', { timeout: 240_000 }, async () => {
    await interactions(2, 'registry');
    const generation = newGeneration();
    const port = String(randomInt(40_000, 50_000));
    const wrong = { ...process.env, SCHEMA_REGISTRY_URL: env('APICURIO_REGISTRY_V2_URL') };
    const letters = await endOffsets(env('KAFKA_BROKERS'), [deadLetterTopic('clickhouse')]).catch(() => new Map<string, string>());
    let projector: ProjectorProcess | undefined = startProjector('clickhouse', ['--generation', String(generation), '--shadow', '--metrics-port', port], wrong);
    try {
      const readyz = await waitFor('/readyz to report the stall', async () => {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        const body = await response?.text();
        return response?.status === 503 && body?.includes(codes.unknownSchema) ? body : undefined;
      }, 120_000);
      assert.match(readyz, /stalled nova\.user\.user_interactions\[\d+\]: NOVA_D1002 .*has no schema with id \d+.*SCHEMA_REGISTRY_URL/);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /nova_projector_stalled\{[^}]*code="NOVA_D1002"[^}]*\} 1/);
      const store = await clickhouseProjector.createSink({ generation, env: process.env, shadow: true });
      assert.deepEqual((await store.load()).filter((c) => c.nextOffset !== '0'), [], 'no checkpoint moved past a record it could not read');
      await store.close();
      // the letter topic is shared with any live clickhouse projector: look for this generation's letters
      const lettersNow = await endOffsets(env('KAFKA_BROKERS'), [deadLetterTopic('clickhouse')]);
      const added = [...lettersNow].reduce((n, [key, end]) => n + Number(BigInt(end) - BigInt(letters.get(key) ?? '0')), 0);
      const mine = added === 0 ? [] : (await captureTopics({ brokers: env('KAFKA_BROKERS'), topics: [deadLetterTopic('clickhouse')], since: letters, until: (rs) => rs.length >= added })).filter((r) => r.headers?.[deadLetterHeaders.generation]?.toString() === String(generation));
      assert.deepEqual(mine, [], 'nothing was dead-lettered');
      await stopProjector(projector);

      projector = startProjector('clickhouse', ['--generation', String(generation), '--shadow', '--metrics-port', port]);
      await waitFor('/readyz ready with the right registry', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), 120_000);
      const ends = await endOffsets(env('KAFKA_BROKERS'), [source]);
      const caughtUpStore = await clickhouseProjector.createSink({ generation, env: process.env, shadow: true });
      await waitFor('the generation to catch up', async () => {
        const at = new Map((await caughtUpStore.load()).map((c) => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
        return [...ends].every(([key, end]) => (at.get(key) ?? 0n) >= BigInt(end)) ? true : undefined;
      }, 120_000);
      await caughtUpStore.close();
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${outputTail(projector, 20)}`, { cause: error });
    } finally {
      if (projector) await stopProjector(projector);
      await deleteConsumerGroup(admin, projectorGroup('clickhouse', generation));
    }
  });

  test('a writer schema that does not resolve (a renamed column) stalls only its topic, naming the field; the other topic flows', { timeout: 120_000 }, async () => {
    const [renamed, intact] = [await newTopic(1), await newTopic(1)];
    const generation = newGeneration();
    const good = await interactions(2, 'schema');
    await copyTo(intact, 0, good);
    // the same record as a writer that renamed interaction_type would send it
    const record = good[0] as RawRecord;
    const { value: written, writer: writerText } = await decodeWithWriter(env('SCHEMA_REGISTRY_URL'), record);
    const original = written as Record<string, Record<string, unknown> | null>;
    const text = writerText.replaceAll('"interaction_type"', '"interaction_kind"');
    const subject = `${renamed}-value`;
    const registered = await fetch(`${env('SCHEMA_REGISTRY_URL')}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: text }),
    });
    const { id } = (await registered.json()) as { id: number };
    const moved = (row: Record<string, unknown> | null) => (row ? Object.fromEntries(Object.entries(row).map(([k, v]) => [k === 'interaction_type' ? 'interaction_kind' : k, v])) : null);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(id, 1);
    const value = Buffer.concat([header, avro.Type.forSchema(JSON.parse(text), exactLongs()).toBuffer({ ...original, before: moved(original.before ?? null), after: moved(original.after ?? null) })]);
    await copyTo(renamed, 0, [{ ...record, value }]);
    const projector = await start([renamed, intact], generation);
    const stall = await waitFor('the stall', async () => projector.seen('projector.stalled')[0]);
    assert.equal(stall.topic, renamed);
    assert.equal(stall.code, codes.incompatibleSchema);
    assert.match(stall.reason, new RegExp(`writer schema id ${id} \\(${subject.replaceAll('.', '\\.')} version 1\\)`), 'names the writer schema and its version');
    assert.match(stall.reason, /field before\.interaction_type is missing/, 'names the column');
    await caughtUp(projector, intact);
    assert.equal((await viewIds(generation)).length, 2);
    assert.deepEqual(projector.seen('projector.dead_letter'), []);
  });
});

describe('dead letters', () => {
  test('letter topics keep letters as long as the sources keep records, with room for the largest record', async () => {
    const [short, long] = [await newTopic(1), await newTopic(1)];
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: short, configEntries: [{ name: 'retention.ms', value: String(86_400_000) }] },
        { type: ConfigResourceTypes.TOPIC, name: long, configEntries: [{ name: 'retention.ms', value: String(90 * 86_400_000) }, { name: 'max.message.bytes', value: '2097152' }] },
      ],
    });
    const projector = await start([short, long], newGeneration());
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [deadLetterTopic(projector.name), replayTopic(projector.name)].map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms', 'max.message.bytes'] })),
    });
    for (const r of resources) {
      const config = Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue]));
      assert.deepEqual(config, { 'retention.ms': String(90 * 86_400_000), 'max.message.bytes': String(2097152 + 65536) }, r.resourceName);
    }
  });

  test('a replayed letter is applied by the projector itself, from its replay topic; the source topic gets nothing', { timeout: 180_000 }, async () => {
    const topic = await newTopic(1);
    const generation = newGeneration();
    const records = await interactions(3, 'replay');
    await copyTo(topic, 0, records);
    // a mapping bug refuses the second record
    const refused = records[1] as RawRecord;
    const buggy = { ...clickhouseProjector, mapping: (change: Parameters<typeof clickhouseProjector.mapping>[0]) => {
      if (change.position.offset === '1' && change.position.topic === topic) throw new Error('a mapping bug');
      return clickhouseProjector.mapping(change);
    } };
    const first = await start(topic, generation, { definition: buggy });
    await caughtUp(first, topic);
    assert.deepEqual(first.seen('projector.dead_letter').map((l) => l.offset), ['1']);
    assert.equal((await viewIds(generation)).length, 2);
    await first.running.stop();
    const sourceEnd = await endOffsets(env('KAFKA_BROKERS'), [topic]);

    // the fix is deployed: the same projector (same letter topics) runs the right mapping
    const fixed = await runInProcess({ definition: clickhouseProjector, generation, topics: [topic], readerTopic: () => source, name: first.name });
    assert.equal(fixed.name, first.name);
    running.push(fixed as InProcessProjector<unknown>);
    const report = await replayDeadLetters({ kafka, projector: first.name });
    assert.deepEqual(report, { handedBack: 1, skipped: 0 });
    await waitFor('the replayed letter in the view', async () => ((await viewIds(generation)).length === 3 ? true : undefined));
    assert.deepEqual(await endOffsets(env('KAFKA_BROKERS'), [topic]), sourceEnd, 'nothing was produced to the source topic');
    const replayed = await captureTopics({ brokers: env('KAFKA_BROKERS'), topics: [replayTopic(first.name)], until: (rs) => rs.length >= 1 });
    assert.equal(replayed[0]?.headers?.[deadLetterHeaders.offset]?.toString(), '1', 'the letter keeps its source position');
    assert.deepEqual(replayed[0]?.value, refused.value, 'byte for byte');
    assert.deepEqual(await replayDeadLetters({ kafka, projector: first.name }), { handedBack: 0, skipped: 0 }, 'once each');

    // another generation of the same projector (a rebuild) reads the replay topic from its start:
    // the letter is not its to apply, it met (or will meet) that record itself
    const otherGeneration = newGeneration();
    const empty = await newTopic(1);
    const other = await runInProcess({ definition: clickhouseProjector, generation: otherGeneration, topics: [empty], readerTopic: () => source, name: first.name });
    running.push(other as InProcessProjector<unknown>);
    await waitFor('the other generation to pass the replay topic', async () => ((await other.sink.load()).some((c) => c.topic === replayTopic(first.name) && c.nextOffset === '1') ? true : undefined));
    assert.deepEqual(await viewIds(otherGeneration), []);
  });
});
