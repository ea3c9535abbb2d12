// `scripts/nova projector reconcile milvus` as an SRE runs it, against the real servers: a
// generation of this file's own, filled and kept fresh by the real projector process, is caught
// up; then its collections are made to differ from PostgreSQL on purpose in each of the three
// ways (a vector changed, a row gone missing, a row PostgreSQL does not have, under a key past
// 2^53) and reconcile, after re-checking once caught up, names those keys and not an untouched
// one. Other writers share the tables, so the report is searched for the planted keys, never
// counted.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import type { Drift } from '../runtime/sink.ts';
import { deleteConsumerGroup, outputTail, type ProjectorProcess, runNova, startProjector, stopProjector } from '../runtime/testing/projector-process.ts';
import { collectionName, compareMilvusWithPostgres, connectMilvus, dropGeneration, milvusProjector } from './index.ts';
import { byKey, compareCollection, readRows } from './test/oracle.ts';
import { createOwners, randomVector } from './test/workload.ts';
import { projectorGroup } from '../runtime/source/kafkajs-source.ts';

const { name } = milvusProjector;
const generation = randomInt(1_000_000, 2_000_000);
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const milvus = await connectMilvus(env('MILVUS_ADDRESS'));
const admin = new Kafka({ clientId: 'nova-milvus-reconcile-test', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING }).admin();
const [users, posts] = [collectionName('user_embeddings', generation), collectionName('post_embeddings', generation)];
let projector: ProjectorProcess | undefined;
let owners: { user_embeddings: number[]; post_embeddings: number[] } | undefined;

const logTail = () => outputTail(projector, 8, 300);

const nova = (...args: string[]) => runNova(args, 120_000);

before(async () => {
  await Promise.all([db.connect(), admin.connect()]);
  assert.equal((await milvus.hasCollection({ collection_name: users })).value, false, `generation ${generation} is in use`);
});

after(async () => {
  if (projector) await stopProjector(projector);
  await dropGeneration(milvus, generation);
  await deleteConsumerGroup(admin, projectorGroup(name, generation));
  if (owners) {
    await db.query('DELETE FROM post_embeddings WHERE post_id = ANY($1::bigint[])', [owners.post_embeddings]);
    await db.query('DELETE FROM user_embeddings WHERE user_id = ANY($1::bigint[])', [owners.user_embeddings]);
    await db.query('DELETE FROM posts WHERE id = ANY($1::bigint[])', [owners.post_embeddings]);
    await db.query('DELETE FROM users WHERE id = ANY($1::bigint[])', [owners.user_embeddings]);
  }
  await Promise.all([db.end(), admin.disconnect(), milvus.closeConnection()]);
});

test('reconcile --generation N --json names a changed vector, a missing row and a row PostgreSQL lacks, exit 1', { timeout: 90_000 }, async (t) => {
  t.after(() => t.diagnostic(`generation ${generation}; last projector output:\n${logTail()}`));
  projector = startProjector(name, ['--generation', String(generation), '--shadow']);
  owners = await createOwners(db, `milvus-reconcile-${randomUUID().slice(0, 8)}`, 3);
  // a third user row of this test's own: the pages below must cover more than one page, whatever other writers left
  const [changed, missing, third] = owners.user_embeddings.map(String) as [string, string, string];
  const untouched = String(owners.post_embeddings[0]);
  for (const user of [changed, missing, third]) await db.query(`INSERT INTO user_embeddings (user_id, embedding, model_version) VALUES ($1, $2, 'm1')`, [user, randomVector()]);
  await db.query(`INSERT INTO post_embeddings (post_id, embedding, model_version) VALUES ($1, $2, 'm1')`, [untouched, randomVector()]);
  const mine = { user_embeddings: [changed, missing, third], post_embeddings: [untouched] } as const;
  await waitFor('the projector to write this test\'s rows as PostgreSQL has them', async () => {
    for (const collection of ['user_embeddings', 'post_embeddings'] as const) if ((await compareCollection(db, milvus, generation, collection, mine[collection])).length > 0) return undefined;
    return true;
  }, 60_000);

  // the whole collection, two rows a page, comes back in key order, each row once
  const paged = [...(await readRows(milvus, generation, 'user_embeddings', { pageSize: 2 })).keys()];
  assert.ok([changed, missing, third].every((key) => paged.includes(key)), `${paged.length} rows read`);
  assert.deepEqual(paged, [...paged].sort(byKey));

  // a vector PostgreSQL does not have (same version: the projector's guard leaves it), a row
  // deleted behind the projector's back, and one no table row stands for
  const row = (await readRows(milvus, generation, 'user_embeddings', { keys: [changed] })).get(changed);
  assert.ok(row);
  const { commit_order } = (await milvus.query({ collection_name: users, filter: `user_id == ${changed}`, output_fields: ['commit_order'] })).data[0] ?? {};
  const planted = (2n ** 62n + BigInt(randomInt(1_000_000_000))).toString();
  const writes = [
    await milvus.upsert({ collection_name: users, data: [{ user_id: changed, ...row, embedding: row.embedding.map((x) => x + 0.5), version: row.version.toString(), commit_order }] }),
    await milvus.delete({ collection_name: users, filter: `user_id in [${missing}]` }),
    await milvus.upsert({ collection_name: posts, data: [{ post_id: planted, embedding: randomVector(), model_version: 'planted', updated_at: 0, version: '1', commit_order: '1' }] }),
  ];
  assert.deepEqual(writes.map((w) => w.status.error_code), ['Success', 'Success', 'Success']);

  const only = new Map([['user_embeddings', new Set([changed])], ['post_embeddings', new Set([untouched])]]);
  const some = await compareMilvusWithPostgres({ generation, env: process.env, only });
  assert.deepEqual(some.map((d) => [d.view, d.key]), [['user_embeddings', changed]], 'only the keys asked for are compared');

  const drifted = await nova('projector', 'reconcile', 'milvus', '--generation', String(generation), '--json');
  assert.equal(drifted.code, 1, drifted.stdout.slice(0, 2_000) + drifted.stderr.slice(-2_000));
  const report = JSON.parse(drifted.stdout) as { projector: string; generation: number; drift: Drift[]; rechecks: number };
  assert.equal(report.generation, generation);
  assert.ok(report.rechecks > 0, 'drift is reported only after re-checking once caught up');
  const detail = (view: string, key: string) => report.drift.find((d) => d.view === view && d.key === key)?.detail ?? '(not reported)';
  assert.match(detail('user_embeddings', changed), /^differs in embedding \(256 of 256 values; \[0\] /);
  assert.match(detail('user_embeddings', missing), /^missing: PostgreSQL has model m1$/);
  assert.match(detail('post_embeddings', planted), /^not in PostgreSQL: Milvus holds model planted \(version e0:0\/1\)$/);
  assert.equal(detail('post_embeddings', untouched), '(not reported)');
});
