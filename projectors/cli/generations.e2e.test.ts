// Blue/green and reconcile through the CLI, the way a data engineer rebuilds a view and an SRE
// checks one: a new generation is filled beside the live one, promoted once it has caught up,
// reconciled with PostgreSQL (clean, then with a key corrupted on purpose), the old one
// dropped. Redis goes the no-gap way (`run --promote-when-caught-up` becomes the new live
// process); Elasticsearch the one-shot way (`rebuild --promote`). All of it in a reader
// namespace of this file's own (set in the env the CLI and projectors inherit), so what the
// app reads never moves: checked after the file.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { aliasNames, elasticsearchProjector, indexName, readerAliasName } from '../elasticsearch/index.ts';
import { openRedis, redisTarget, scan } from '../redis/client.ts';
import { redisProjector } from '../redis/index.ts';
import { liveGenerationKey } from '../redis/generations.ts';
import { assertMatchesPostgres, caughtUp } from '../redis/test/harness.ts';
import { claimGeneration } from '../redis/test/own-generation.ts';
import { ownReaderNamespace } from '../runtime/testing/own-namespace.ts';
import { type ProjectorProcess, runNova, startProjector, stopProjector } from '../runtime/testing/projector-process.ts';

const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const es = new Client({ node: env('ELASTICSEARCH_URL') });
const kafka = new Kafka({ clientId: 'nova-generations-e2e', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });
const redisGenerations = redisProjector.generations!;
const esGenerations = elasticsearchProjector.generations!;
let projector: ProjectorProcess | undefined;

const nova = (...args: string[]) => runNova(args, 540_000);
ownReaderNamespace();
const seedNames = { ...process.env, NOVA_READER_NAMESPACE: '' };
const control = openRedis(redisTarget(process.env), { queue: true });
// as stored, not as read: a pointer written where none was reads the same (the default, 1)
const seedLive = () => Promise.all([control.get(liveGenerationKey(seedNames)), esGenerations.live(seedNames)]);
let seedLiveBefore: Array<string | number | null | undefined> = [];

const assertSeedUnmoved = async () => assert.deepEqual(await seedLive(), seedLiveBefore, 'the generations the app reads never moved');

before(async () => {
  await db.connect();
  seedLiveBefore = await seedLive();
});
after(async () => {
  if (projector) await stopProjector(projector);
  // the namespace's Redis pointer (its Elasticsearch aliases went with the indices)
  await control.del(liveGenerationKey(process.env));
  await assertSeedUnmoved();
  control.disconnect();
  await Promise.all([db.end(), es.close()]);
});

test('redis: run --promote-when-caught-up fills a new generation, promotes it, keeps it fresh; drop refuses the live one', { timeout: 600_000 }, async () => {
  const before = await redisGenerations.live(process.env);
  const claimed = await claimGeneration(process.env);
  const { generation, redis, keys } = claimed;
  try {
    projector = startProjector('redis', ['--generation', String(generation), '--promote-when-caught-up']);
    await waitFor('the new generation to be promoted', async () => ((await redisGenerations.live(process.env)) === generation ? true : undefined), 300_000);
    assert.match(projector.output.join(''), new RegExp(`generation ${generation} promoted`));
    await assertSeedUnmoved();

    // written after the promotion: the same process keeps the now-live generation fresh
    const user = (await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`gen-${generation}-${Date.now()}`])).rows[0].id;
    const other = (await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`gen-${generation}-other-${Date.now()}`])).rows[0].id;
    await db.query(`INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)`, [user, other]);
    await caughtUp(redis, generation, kafka, db);
    assert.deepEqual(await redis.smembers(keys.following(user)), [String(other)]);
    await assertMatchesPostgres(redis, generation, db);

    const clean = await nova('projector', 'reconcile', 'redis');
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, new RegExp(`^redis generation ${generation}: no drift`));
    await redis.sadd(keys.following(user), '999999999'); // a follow PostgreSQL never had
    const drifted = await nova('projector', 'reconcile', 'redis', '--json');
    assert.equal(drifted.code, 1, drifted.stderr);
    const report = JSON.parse(drifted.stdout) as { drift: Array<{ view: string; key: string }>; rechecks: number };
    assert.deepEqual(report.drift.map((d) => [d.view, d.key]), [['user:following', `user:following:${user}`]]);
    assert.ok(report.rechecks > 0, 'drift is reported only after re-checking once caught up');
    await redis.srem(keys.following(user), '999999999');

    const refused = await nova('projector', 'drop', 'redis', '--generation', String(generation));
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /is live; promote another one first/);
  } finally {
    if (projector) await stopProjector(projector);
    await redisGenerations.promote(before ?? 1, process.env);
    const dropped = await nova('projector', 'drop', 'redis', '--generation', String(generation));
    assert.equal(dropped.code, 0, dropped.stderr);
    const left: string[] = [];
    for await (const page of scan(redis, claimed.key('*'))) left.push(...page);
    assert.deepEqual(left, [], 'drop removes every key of the generation');
    await claimed.release();
  }
});

test('elasticsearch: rebuild --promote --snapshot exits once caught up and moves every alias at once; reconcile names a corrupted document', { timeout: 600_000 }, async () => {
  const unused = async () => {
    let g = randomInt(100_000, 1_000_000);
    while (await es.indices.exists({ index: indexName('messages', g) })) g = randomInt(100_000, 1_000_000);
    return g;
  };
  const [live, generation] = [await unused(), await unused()];
  // nothing is live in the namespace: a projector's first start makes its generation live
  assert.equal(await esGenerations.live(process.env), undefined);
  await (await elasticsearchProjector.createSink({ generation: live, env: process.env })).close();
  // a post to corrupt below, whatever ran before
  const author = (await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`gen-es-${generation}`])).rows[0].id;
  await db.query(`INSERT INTO posts (author_id, text) VALUES ($1, 'a post to corrupt')`, [author]);
  try {
    assert.equal(await esGenerations.live(process.env), live);
    const onLive = await nova('projector', 'rebuild', 'elasticsearch', '--generation', String(live));
    assert.equal(onLive.code, 2);
    assert.match(onLive.stderr, /is live: rebuild into another one/);
    // --snapshot: Debezium re-publishes every current row first, as a rebuild needs once retention cut the topics
    const rebuilt = await nova('projector', 'rebuild', 'elasticsearch', '--generation', String(generation), '--promote', '--snapshot');
    assert.equal(rebuilt.code, 0, rebuilt.stderr.slice(-2_000));
    assert.match(rebuilt.stderr, /snapshot of public\.users, public\.posts, public\.messages: completed|snapshot of .*: completed/);
    assert.match(rebuilt.stdout, new RegExp(`generation ${generation} promoted`));
    assert.equal(await esGenerations.live(process.env), generation);
    await assertSeedUnmoved();
    for (const alias of aliasNames) {
      assert.deepEqual(Object.keys(await es.indices.getAlias({ name: readerAliasName(alias, process.env) })), [indexName(alias, generation)]);
    }
    const status = await nova('projector', 'status', 'elasticsearch', '--generation', String(generation));
    assert.match(status.stdout, new RegExp(`readers see generation ${generation}`));

    // a post whose document says something PostgreSQL does not: reconcile names it
    const post = (await db.query(`SELECT id FROM posts ORDER BY id DESC LIMIT 1`)).rows[0].id as string;
    await es.update({ index: indexName('posts', generation), id: String(post), doc: { text: 'not what PostgreSQL says' }, refresh: true });
    const drifted = await nova('projector', 'reconcile', 'elasticsearch', '--json');
    assert.equal(drifted.code, 1, drifted.stderr);
    const { drift } = JSON.parse(drifted.stdout) as { drift: Array<{ view: string; key: string; detail: string }> };
    assert.match(drift.find((d) => d.view === 'posts' && d.key === String(post))?.detail ?? '(not reported)', /^differs in text/);

    const refused = await nova('projector', 'drop', 'elasticsearch', '--generation', String(generation));
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /is live; promote another one first/);
  } finally {
    // deleting the indices takes the namespace's aliases along
    for (const g of [generation, live]) {
      await es.indices.delete({ index: aliasNames.map((alias) => indexName(alias, g)), ignore_unavailable: true });
      assert.equal((await nova('projector', 'drop', 'elasticsearch', '--generation', String(g))).code, 0);
    }
    assert.equal(await es.indices.exists({ index: indexName('messages', generation) }), false);
  }
});

// issue 8: after a blue/green move a restarted service must keep the live view fresh, not refill an old one
test('run without --generation runs the live generation; a generation readers do not see only with --shadow', { timeout: 180_000 }, async () => {
  const before = await redisGenerations.live(process.env);
  const [live, other] = [await claimGeneration(process.env), await claimGeneration(process.env)];
  const running = (p: ProjectorProcess) =>
    waitFor('the projector to run', async () => p.output.join('').split('\n').find((line) => line.includes('"msg":"projector running"')), 60_000);
  try {
    await redisGenerations.promote(live.generation, process.env);
    const refused = await nova('projector', 'run', 'redis', '--generation', String(other.generation));
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, new RegExp(`generation ${other.generation} is not the live one \\(readers see generation ${live.generation}\\).*--shadow`));

    projector = startProjector('redis');
    assert.equal(JSON.parse(await running(projector)).generation, live.generation);
    await stopProjector(projector);

    projector = startProjector('redis', ['--generation', String(other.generation), '--shadow']);
    assert.equal(JSON.parse(await running(projector)).generation, other.generation);
    await stopProjector(projector);
    assert.equal(await redisGenerations.live(process.env), live.generation, 'a shadow run moves nothing');
    await assertSeedUnmoved();
  } finally {
    if (projector) await stopProjector(projector);
    await redisGenerations.promote(before ?? 1, process.env);
    await Promise.all([live.release(), other.release()]);
  }
});
