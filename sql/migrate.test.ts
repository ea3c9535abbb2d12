// The migration runner and Nova's real migrations against the stack's PostgreSQL, in a scratch
// database created for this run and dropped after it (the `nova` database is never touched).
// Fixture migrations each run in a schema of their own, so each of those tests starts empty.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { env } from '../scripts/stack.d/test/stack.ts';
import { MigrationError, migrate } from './migrate.ts';

const scratchDatabase = `nova_migrate_test_${randomUUID().slice(0, 8)}`;
const admin = new pg.Client({ connectionString: env('NOVA_PG_ADMIN_URL') });
const clients: pg.Client[] = [];

function scratchUrl(user?: { name: string; password: string }): string {
  const url = new URL(env('DATABASE_URL'));
  url.pathname = `/${scratchDatabase}`;
  if (user) {
    url.username = user.name;
    url.password = user.password;
  }
  return url.href;
}

async function connect(url = scratchUrl()): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  clients.push(client);
  await client.connect();
  return client;
}

before(async () => {
  await admin.connect();
  await admin.query(`CREATE DATABASE ${scratchDatabase}`);
});

after(async () => {
  await Promise.all(clients.map((client) => client.end()));
  await admin.query(`DROP DATABASE IF EXISTS ${scratchDatabase} WITH (FORCE)`);
  await admin.end();
});

const expectedReplicaIdentity: Record<string, 'full' | 'default'> = {
  users: 'full',
  notifications: 'full',
  notification_settings: 'full',
  push_tokens: 'full',
  conversations: 'full',
  messages: 'full',
  message_read_status: 'default',
  live_streams: 'full',
  follows: 'full',
  user_stats: 'default',
  user_interactions: 'default',
  posts: 'full',
  user_embeddings: 'default',
  post_embeddings: 'default',
  debezium_heartbeat: 'default',
  debezium_signal: 'default',
};
const projectedTables = Object.keys(expectedReplicaIdentity).sort();
// In the database, not in the publication: Nova's own bookkeeping, and comments (no view reads
// them: their notifications reach the views through the notifications table)
const unpublished = { nova_source_epoch: 'default', comments: 'default', api_idempotency: 'default' } as const;
const realMigrations = ['001-tables.sql', '002-heartbeat.sql', '003-publication.sql', '004-signal.sql', '005-source-epoch.sql', '006-row-bounds.sql', '007-api.sql', '008-message-pages.sql', '009-read-marks-forward.sql'];

describe("Nova's migrations", () => {
  let db: pg.Client;
  before(async () => {
    db = await connect();
  });

  test('apply to an empty database', async () => {
    const result = await migrate({ client: db });
    assert.deepEqual(result, { applied: realMigrations, skipped: [] });
  });

  test('create every table with its replica identity', async () => {
    const { rows } = await db.query<{ relname: string; relreplident: string }>(
      `SELECT relname, relreplident FROM pg_class
       WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname <> 'schema_migrations'`,
    );
    const identityName: Record<string, string> = { f: 'full', d: 'default', n: 'nothing', i: 'index' };
    const actual = Object.fromEntries(rows.map((r) => [r.relname, identityName[r.relreplident]]));
    assert.deepEqual(actual, { ...expectedReplicaIdentity, ...unpublished });
  });

  test('publish exactly the projected tables, every operation', async () => {
    const tables = await db.query<{ tablename: string }>(
      "SELECT tablename FROM pg_publication_tables WHERE pubname = 'nova_cdc' ORDER BY tablename",
    );
    assert.deepEqual(tables.rows.map((r) => r.tablename), projectedTables);
    const { rows } = await db.query(
      "SELECT pubinsert, pubupdate, pubdelete, pubtruncate, puballtables FROM pg_publication WHERE pubname = 'nova_cdc'",
    );
    assert.deepEqual(rows, [{ pubinsert: true, pubupdate: true, pubdelete: true, pubtruncate: true, puballtables: false }]);
  });

  test('apply nothing the second time', async () => {
    const result = await migrate({ client: db });
    assert.deepEqual(result, { applied: [], skipped: realMigrations });
  });

  test('let debezium snapshot every projected table and write only the heartbeat and its signal watermarks', async () => {
    const replicator = { name: env('NOVA_PG_REPLICATION_USER'), password: env('NOVA_PG_REPLICATION_PASSWORD') };
    const debezium = await connect(scratchUrl(replicator));
    for (const table of projectedTables) await debezium.query(`SELECT * FROM ${table} LIMIT 1`);
    const heartbeat =
      'INSERT INTO debezium_heartbeat (id, beat_at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET beat_at = EXCLUDED.beat_at';
    await debezium.query(heartbeat);
    await debezium.query(heartbeat);
    // incremental snapshots: Debezium writes its chunk watermarks into the signalling table
    await debezium.query("INSERT INTO debezium_signal (id, type) VALUES ('watermark-test', 'snapshot-window-open')");
    await debezium.query("DELETE FROM debezium_signal WHERE id = 'watermark-test'");
    await assert.rejects(debezium.query("INSERT INTO users (username) VALUES ('intruder')"), { code: '42501' });
  });

  test('refuse an embedding that is not one dimension of 256 floats', async () => {
    const user = await db.query<{ id: string }>("INSERT INTO users (username) VALUES ('embedded') RETURNING id");
    const userId = user.rows[0]!.id;
    const post = await db.query<{ id: string }>("INSERT INTO posts (author_id, text) VALUES ($1, 'hi') RETURNING id", [userId]);
    const owners = { user_embeddings: ['user_id', userId], post_embeddings: ['post_id', post.rows[0]!.id] };
    for (const [table, [keyColumn, key]] of Object.entries(owners)) {
      const insert = (vector: string) =>
        db.query(`INSERT INTO ${table} (${keyColumn}, embedding, model_version) VALUES ($1, ${vector}, 'v1')`, [key]);
      const refusedByCheck = { code: '23514', constraint: 'embedding_256_dims' };
      await assert.rejects(insert('array_fill(0.5::real, ARRAY[255])'), refusedByCheck);
      await assert.rejects(insert('array_fill(0.5::real, ARRAY[16, 16])'), refusedByCheck);
      await assert.rejects(insert('array_fill(0.5::real, ARRAY[255]) || NULL::real'), refusedByCheck);
      await insert('array_fill(0.5::real, ARRAY[256])');
    }
  });

  test('bound every free-text and JSON column, so no change record outgrows the 1 MB Connect and the topics take', async () => {
    const user = Number((await db.query("INSERT INTO users (username) VALUES ('bounded') RETURNING id")).rows[0].id);
    const refused = (constraint: string) => ({ code: '23514', constraint });
    await assert.rejects(db.query('UPDATE users SET bio = $2 WHERE id = $1', [user, 'é'.repeat(8193)]), refused('users_bio_size'), '16 KB of bytes, not characters');
    await db.query('UPDATE users SET bio = $2 WHERE id = $1', [user, 'é'.repeat(8192)]);
    await assert.rejects(db.query("INSERT INTO posts (author_id, text) VALUES ($1, $2)", [user, 'x'.repeat(65537)]), refused('posts_text_size'));
    const other = Number((await db.query("INSERT INTO users (username) VALUES ('bounded-2') RETURNING id")).rows[0].id);
    const [p1, p2] = [Math.min(user, other), Math.max(user, other)];
    const conversation = Number((await db.query('INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2) RETURNING id', [p1, p2])).rows[0].id);
    const message = (content: string, metadata: unknown = null) =>
      db.query('INSERT INTO messages (conversation_id, sender_id, content, metadata) VALUES ($1, $2, $3, $4)', [conversation, user, content, metadata]);
    await assert.rejects(message('x'.repeat(65537)), refused('messages_content_size'));
    await assert.rejects(message('hi', { big: 'x'.repeat(16384) }), refused('messages_metadata_size'));
    await message('x'.repeat(65536), { big: 'x'.repeat(16000) });
    await assert.rejects(db.query("INSERT INTO notification_settings (user_id, types_disabled) VALUES ($1, array_fill('like'::text, ARRAY[65]))", [user]), refused('notification_settings_types_disabled_size'));
    await assert.rejects(db.query('INSERT INTO notification_settings (user_id, types_disabled) VALUES ($1, ARRAY[$2])', [user, 'x'.repeat(5000)]), refused('notification_settings_types_disabled_size'), 'bytes, not only elements');
  });

  test('keep conversation participants in order', async () => {
    const { rows } = await db.query<{ id: string }>("INSERT INTO users (username) VALUES ('ann'), ('bob') RETURNING id");
    const ids = rows.map((r) => Number(r.id));
    const [low, high] = [Math.min(...ids), Math.max(...ids)];
    const insert = (p1: number, p2: number) =>
      db.query('INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2)', [p1, p2]);
    await assert.rejects(insert(high, low), { code: '23514', constraint: 'participants_order' });
    await assert.rejects(insert(low, low), { code: '23514', constraint: 'participants_order' });
    await insert(low, high);
  });

  test('keep a read mark from moving back, and let it stay or move forward', async () => {
    const { rows } = await db.query<{ id: string }>("INSERT INTO users (username) VALUES ('cat'), ('dan') RETURNING id");
    const [low, high] = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    const conversation = (await db.query<{ id: string }>('INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2) RETURNING id', [low, high])).rows[0]?.id;
    await db.query('INSERT INTO message_read_status (user_id, conversation_id, last_read_message_id) VALUES ($1, $2, 50)', [low, conversation]);
    const mark = (to: number) => db.query('UPDATE message_read_status SET last_read_message_id = $3 WHERE user_id = $1 AND conversation_id = $2', [low, conversation, to]);
    await assert.rejects(mark(49), { code: '23514', constraint: 'read_mark_forward', message: /only moves forward \(50 -> 49/ });
    // an upsert's update is held to it too
    const upsert = (to: number) => db.query('INSERT INTO message_read_status (user_id, conversation_id, last_read_message_id) VALUES ($1, $2, $3) ON CONFLICT (user_id, conversation_id) DO UPDATE SET last_read_message_id = EXCLUDED.last_read_message_id', [low, conversation, to]);
    await assert.rejects(upsert(10), { code: '23514', constraint: 'read_mark_forward' });
    await mark(50);
    await mark(51);
    const { rows: [stored] } = await db.query('SELECT last_read_message_id::int AS m FROM message_read_status WHERE user_id = $1 AND conversation_id = $2', [low, conversation]);
    assert.equal(stored?.m, 51);
  });
});

describe('the migration runner', () => {
  // A temp dir of fixture migrations, removed when the test ends.
  async function fixtureDir(t: TestContext, files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'nova-migrate-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFixtures(dir, files);
    return dir;
  }

  async function writeFixtures(dir: string, files: Record<string, string>): Promise<void> {
    await Promise.all(Object.entries(files).map(([name, sql]) => writeFile(join(dir, name), sql)));
  }

  // A client whose unqualified names (schema_migrations included) live in a schema of its own.
  async function clientInSchema(schema: string): Promise<pg.Client> {
    const client = await connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET search_path TO ${schema}`);
    return client;
  }

  async function recordedVersions(client: pg.Client): Promise<string[]> {
    const { rows } = await client.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
    return rows.map((r) => r.version);
  }

  async function tableExists(client: pg.Client, table: string): Promise<boolean> {
    const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table]);
    return rows[0]!.exists;
  }

  test('applies files in numeric order, not by name', async (t) => {
    const dir = await fixtureDir(t, {
      '9-create.sql': 'CREATE TABLE ordered (step int);',
      '10-insert.sql': 'INSERT INTO ordered VALUES (10);',
    });
    const client = await clientInSchema('fixture_order');
    assert.deepEqual(await migrate({ client, dir }), { applied: ['9-create.sql', '10-insert.sql'], skipped: [] });
  });

  test('refuses an applied file that changed, before applying anything', async (t) => {
    const dir = await fixtureDir(t, { '001-a.sql': 'CREATE TABLE a (id int);' });
    const client = await clientInSchema('fixture_changed');
    await migrate({ client, dir });
    await writeFixtures(dir, { '001-a.sql': 'CREATE TABLE a (id bigint);', '002-b.sql': 'CREATE TABLE b (id int);' });

    await assert.rejects(migrate({ client, dir }), (error) => {
      assert.ok(error instanceof MigrationError);
      assert.equal(error.kind, 'changed');
      assert.equal(error.file, '001-a.sql');
      assert.match(error.message, /^001-a\.sql: differs from migration 001 as it was applied \(sha256 [0-9a-f]{64} then, [0-9a-f]{64} now\)/);
      return true;
    });
    assert.equal(await tableExists(client, 'b'), false);
    assert.deepEqual(await recordedVersions(client), ['001']);
  });

  test('rolls back a failing file and does not record it', async (t) => {
    const dir = await fixtureDir(t, {
      '001-ok.sql': 'CREATE TABLE ok (id int);',
      '002-broken.sql': 'CREATE TABLE half_done (id int);\nINSERT INTO ok VALUES (1);\nSELECT no_such_column FROM ok;',
    });
    const client = await clientInSchema('fixture_failing');
    await assert.rejects(migrate({ client, dir }), (error) => {
      assert.ok(error instanceof MigrationError);
      assert.equal(error.kind, 'failed');
      assert.equal(error.file, '002-broken.sql');
      assert.match(error.message, /^002-broken\.sql: failed and was rolled back: column "no_such_column" does not exist \(line 3\)$/);
      return true;
    });
    assert.deepEqual(await recordedVersions(client), ['001']);
    assert.equal(await tableExists(client, 'half_done'), false);
    assert.equal((await client.query('SELECT id FROM ok')).rowCount, 0);

    await writeFixtures(dir, { '002-broken.sql': 'CREATE TABLE half_done (id int);' });
    assert.deepEqual(await migrate({ client, dir }), { applied: ['002-broken.sql'], skipped: ['001-ok.sql'] });
  });

  test('serialises concurrent runners', async (t) => {
    const dir = await fixtureDir(t, { '001-slow.sql': 'CREATE TABLE slow (id int);\nSELECT pg_sleep(0.3);' });
    const first = await clientInSchema('fixture_concurrent');
    const second = await clientInSchema('fixture_concurrent');
    const results = await Promise.all([migrate({ client: first, dir }), migrate({ client: second, dir })]);
    assert.deepEqual(results.flatMap((r) => r.applied), ['001-slow.sql']);
    assert.deepEqual(results.flatMap((r) => r.skipped), ['001-slow.sql']);
  });
});
