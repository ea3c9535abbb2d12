// The CDC core against the real pipeline: PostgreSQL -> Debezium -> Kafka -> Nova's decoder.
// Runs on the `nova` database with the nova-postgres connector that scripts/test registers.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { env } from '../../../scripts/stack.d/test/stack.ts';
import { insertOneRowEach } from '../testing/every-table.ts';
import { captureDecoded, changesFor, decodeAll, keyString, readerSchemas as readers } from '../testing/cdc-capture.ts';
import { captureTopics, endOffsets } from '../testing/kafka-capture.ts';
import { TOAST_PLACEHOLDER, UNCHANGED, createDecoder, registryLookup, type Change, type Decoded, type RawRecord } from './index.ts';

const run = randomUUID().slice(0, 8);
const db = new pg.Client({ connectionString: env('DATABASE_URL') });

const topicOf: Record<string, string> = {
  users: 'nova.social.users',
  posts: 'nova.social.posts',
  follows: 'nova.social.follows',
  user_stats: 'nova.social.user_stats',
  conversations: 'nova.message.conversations',
  messages: 'nova.message.messages',
  message_read_status: 'nova.message.message_read_status',
  notifications: 'nova.notification.notifications',
  notification_settings: 'nova.notification.notification_settings',
  push_tokens: 'nova.notification.push_tokens',
  live_streams: 'nova.live.live_streams',
  user_interactions: 'nova.user.user_interactions',
  user_embeddings: 'nova.recommendation.user_embeddings',
  post_embeddings: 'nova.recommendation.post_embeddings',
};

const one = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows[0];

before(() => db.connect());
after(() => db.end());

describe('every projected table', () => {
  test('insert, update and delete arrive in commit order per key with increasing LSNs', { timeout: 120_000 }, async () => {
    const since = await endOffsets(env('KAFKA_BROKERS'), Object.values(topicOf));
    const { keys, users: [a, b] } = await insertOneRowEach(db, `cdc-${run}`);
    const updates: Record<string, string> = {
      users: `UPDATE users SET bio = 'updated' WHERE id = $1`,
      posts: `UPDATE posts SET text = 'updated' WHERE id = $1`,
      conversations: `UPDATE conversations SET last_message_at = now() WHERE id = $1`,
      follows: `UPDATE follows SET status = 'muted' WHERE id = $1`,
      user_stats: `UPDATE user_stats SET follower_count = 5 WHERE user_id = $1`,
      messages: `UPDATE messages SET is_deleted = true WHERE id = $1`,
      message_read_status: `UPDATE message_read_status SET last_read_message_id = 2 WHERE user_id = $1 AND conversation_id = $2`,
      notifications: `UPDATE notifications SET is_read = true, read_at = now() WHERE id = $1`,
      notification_settings: `UPDATE notification_settings SET push_enabled = false WHERE user_id = $1`,
      push_tokens: `UPDATE push_tokens SET platform = 'web' WHERE id = $1`,
      live_streams: `UPDATE live_streams SET status = 'live', started_at = now() WHERE id = $1`,
      user_interactions: `UPDATE user_interactions SET interaction_value = 2 WHERE id = $1`,
      user_embeddings: `UPDATE user_embeddings SET model_version = 'v2' WHERE user_id = $1`,
      post_embeddings: `UPDATE post_embeddings SET model_version = 'v2' WHERE post_id = $1`,
    };
    for (const [table, sql] of Object.entries(updates)) await db.query(sql, Object.values(keys[table] as object));
    // dependants first, users last
    const deleteOrder = ['post_embeddings', 'user_embeddings', 'user_interactions', 'live_streams', 'push_tokens', 'notification_settings', 'notifications', 'message_read_status', 'messages', 'user_stats', 'follows', 'conversations', 'posts', 'users'];
    for (const table of deleteOrder) {
      const key = keys[table] as Record<string, unknown>;
      const where = Object.keys(key).map((column, i) => `${column} = $${i + 1}`).join(' AND ');
      await db.query(`DELETE FROM ${table} WHERE ${where}`, Object.values(key));
    }
    await db.query('DELETE FROM users WHERE id = $1', [b.id]);

    // partitions are consumed in no particular order: wait for every key's delete
    const decoded = await captureDecoded(Object.values(topicOf), since, (sofar) =>
      Object.keys(topicOf).every((table) => changesFor(sofar, table, keys[table] as object).some((c) => c.op === 'delete')),
    );

    for (const table of Object.keys(topicOf)) {
      const changes = changesFor(decoded, table, keys[table] as object);
      assert.deepEqual(changes.map((c) => c.op), ['create', 'update', 'delete'], `${table}: ops in commit order`);
      const versions = changes.map((c) => c.version);
      assert.ok(versions.every((v, i) => i === 0 || v > (versions[i - 1] as bigint)), `${table}: versions increase (${versions.join(', ')})`);
      const orders = changes.map((c) => c.commitOrder);
      assert.ok(orders.every((o, i) => i === 0 || o > (orders[i - 1] as bigint)), `${table}: one transaction each, so commit orders increase (${orders.join(', ')})`);
      assert.ok(changes.every((c) => c.commitTs instanceof Date && !Number.isNaN(c.commitTs.getTime())), `${table}: commit timestamps`);
      assert.ok(changes.every((c) => c.position.topic === topicOf[table]), `${table}: on its domain topic`);
    }
    const [created] = changesFor(decoded, 'notifications', keys.notifications as object);
    assert.deepEqual(created?.after?.content, { n: 1 }, 'JSONB arrives parsed');
    assert.ok(created?.after?.created_at instanceof Date, 'timestamptz arrives as a Date');
    const [settings] = changesFor(decoded, 'notification_settings', keys.notification_settings as object);
    assert.deepEqual(settings?.after?.types_disabled, ['like'], 'TEXT[] arrives as an array');
    const [embedding] = changesFor(decoded, 'user_embeddings', keys.user_embeddings as object);
    assert.equal((embedding?.after?.embedding as number[]).length, 256, 'REAL[] arrives as 256 numbers');
    const followDelete = changesFor(decoded, 'follows', keys.follows as object)[2];
    assert.equal(followDelete?.before?.follower_id, Number(a.id), 'a FULL-identity delete carries the old row');
    assert.equal(followDelete?.after, null);
    const messageChanges = decoded.filter((d) => d.kind === 'change' && d.table === 'public.messages' && keyString(d.key) === keyString(keys.messages));
    assert.equal(new Set(messageChanges.map((c) => c.position.partition)).size, 1, 'one message stays on one partition');
  });
});

describe('schema evolution', () => {
  const column = `added_${run}`;
  after(() => db.query(`ALTER TABLE live_streams DROP COLUMN IF EXISTS ${column}`));

  test('a column added upstream keeps decoding, and a reader schema that asks for it sees it', { timeout: 60_000 }, async () => {
    const since = await endOffsets(env('KAFKA_BROKERS'), ['nova.live.live_streams']);
    const user = await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`evolve-${run}`]);
    await db.query(`ALTER TABLE live_streams ADD COLUMN ${column} TEXT`);
    const stream = await one(`INSERT INTO live_streams (user_id, title, rtmp_url, ${column}) VALUES ($1, 't', 'rtmp://x', 'new!') RETURNING id`, [user.id]);

    // a reader schema one column newer than ours: the row record gains the field, optional
    const current = readers('nova.live.live_streams', 'value') as { fields: { name: string; type: unknown[] }[] };
    const newer = structuredClone(current);
    const row = newer.fields.find((f) => f.name === 'before')?.type.find((t) => typeof t === 'object') as { fields: object[] };
    row.fields.push({ name: column, type: ['null', 'string'], default: null });
    const decodeNewer = createDecoder({
      lookupSchema: registryLookup({ url: env('SCHEMA_REGISTRY_URL') }),
      readerSchemas: (topic, part) => (topic === 'nova.live.live_streams' && part === 'value' ? (newer as never) : readers(topic, part)),
    });

    let ours: Change | undefined;
    let theirs: Change | undefined;
    await captureTopics({
      brokers: env('KAFKA_BROKERS'),
      topics: ['nova.live.live_streams'],
      since,
      until: async (records) => {
        const last = records.at(-1) as RawRecord;
        const [decoded] = await decodeAll([last]);
        if (decoded?.kind === 'change' && keyString(decoded.key) === keyString({ id: Number(stream.id) })) {
          ours = decoded;
          theirs = (await decodeNewer(last)) as Change;
          return true;
        }
        return false;
      },
    });
    assert.equal(ours?.op, 'create');
    assert.equal(ours?.after?.title, 't');
    assert.equal(column in (ours?.after ?? {}), false, 'our reader schema ignores the new column');
    assert.equal(theirs?.after?.[column], 'new!', 'a reader schema that asks for it sees it');
  });
});

describe('TOAST', () => {
  // random text does not compress, so PostgreSQL moves it out of line (TOAST)
  // (under sql/006-row-bounds.sql's 16 KB for JSON columns, far over the 2 KB TOAST threshold)
  const big = randomBytes(9_000).toString('base64');

  test('an unchanged TOASTed column never arrives as the placeholder', { timeout: 60_000 }, async () => {
    const since = await endOffsets(env('KAFKA_BROKERS'), ['nova.message.messages', 'nova.user.user_interactions']);
    const a = await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`toast-a-${run}`]);
    const b = await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`toast-b-${run}`]);
    const [p1, p2] = [a.id, b.id].map(Number).sort((x, y) => x - y);
    const conv = await one(`INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2) RETURNING id`, [p1, p2]);
    const message = await one(`INSERT INTO messages (conversation_id, sender_id, content) VALUES ($1, $2, $3) RETURNING id`, [conv.id, a.id, big]);
    await db.query(`UPDATE messages SET is_deleted = true WHERE id = $1`, [message.id]);
    // user_interactions keeps REPLICA IDENTITY DEFAULT: no old row to take the value from
    const interaction = await one(
      `INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type, metadata) VALUES ($1, 'post', 1, 'view', $2) RETURNING id`,
      [a.id, JSON.stringify({ blob: big })],
    );
    await db.query(`UPDATE user_interactions SET interaction_value = 3 WHERE id = $1`, [interaction.id]);

    const updateOf = (decoded: Decoded[], table: string, id: number) => changesFor(decoded, table, { id }).find((c) => c.op === 'update');
    const decoded = await captureDecoded(['nova.message.messages', 'nova.user.user_interactions'], since, (sofar) =>
      Boolean(updateOf(sofar, 'messages', Number(message.id)) && updateOf(sofar, 'user_interactions', Number(interaction.id))),
    );
    const messageUpdate = updateOf(decoded, 'messages', Number(message.id));
    assert.equal(messageUpdate?.after?.is_deleted, true);
    assert.ok(messageUpdate?.after?.content === big, 'FULL identity: the unchanged value is taken from before');
    const interactionUpdate = updateOf(decoded, 'user_interactions', Number(interaction.id));
    assert.equal(interactionUpdate?.after?.interaction_value, 3);
    assert.ok(interactionUpdate?.after?.metadata === UNCHANGED, 'DEFAULT identity: an explicit UNCHANGED marker');
    for (const change of decoded) {
      assert.ok(!JSON.stringify(change, (_key, value) => (typeof value === 'bigint' ? String(value) : value)).includes(TOAST_PLACEHOLDER), `no placeholder in ${change.position.topic}@${change.position.offset}`);
    }
  });
});

describe('TRUNCATE', () => {
  // only tables no foreign key points at: a TRUNCATE ... CASCADE would wipe the whole schema
  const leaves = { user_interactions: 'nova.user.user_interactions', push_tokens: 'nova.notification.push_tokens' };

  test('arrives as a truncate change, keyless, after the rows it removed', { timeout: 60_000 }, async () => {
    const since = await endOffsets(env('KAFKA_BROKERS'), Object.values(leaves));
    const user = await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`truncate-${run}`]);
    await db.query(`INSERT INTO push_tokens (user_id, platform, token) VALUES ($1, 'web', $2)`, [user.id, `truncate-${run}`]);
    await db.query(`INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type) VALUES ($1, 'post', 1, 'view')`, [user.id]);
    await db.query(`TRUNCATE ${Object.keys(leaves).join(', ')}`);

    const onTopic = (decoded: Decoded[], topic: string) => decoded.filter((d): d is Change => d.kind === 'change' && d.position.topic === topic);
    // partitions arrive in no particular order: wait for the insert and the truncate of each table
    const decoded = await captureDecoded(Object.values(leaves), since, (sofar) =>
      Object.values(leaves).every((t) => ['create', 'truncate'].every((op) => onTopic(sofar, t).some((c) => c.op === op))),
    );
    for (const [table, topic] of Object.entries(leaves)) {
      const truncate = onTopic(decoded, topic).find((c) => c.op === 'truncate');
      assert.equal(truncate?.table, `public.${table}`);
      assert.equal(truncate?.key, null);
      assert.equal(truncate?.after, null);
      const create = onTopic(decoded, topic).find((c) => c.op === 'create');
      assert.ok(create && truncate && truncate.version > create.version && truncate.commitOrder > create.commitOrder, `${table}: the truncate comes after the insert`);
    }
  });
});
