// What leaves PostgreSQL through Debezium is what PostgreSQL holds: an explicit NULL stays NULL
// where the column has a DEFAULT, and an incremental snapshot re-publishes every current row.
// Real pipeline, like cdc.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { loadConnector } from '../../../connectors/register.ts';
import { incrementalSnapshot } from '../../../connectors/snapshot.ts';
import { env } from '../../../scripts/stack.d/test/stack.ts';
import { captureDecoded, changesFor } from '../testing/cdc-capture.ts';
import { endOffsets } from '../testing/kafka-capture.ts';
import type { Change, Decoded } from './index.ts';

const run = randomUUID().slice(0, 8);
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const one = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows[0];

before(() => db.connect());
after(() => db.end());

// Kafka Connect answers a null field with its schema default (KAFKA-8713) and Debezium puts
// each column's DEFAULT in the schema: without connectors/transforms' DropNullableDefaults an
// explicit NULL would arrive as 'text', false, 0 or the epoch.
describe('explicit NULL in a column with a DEFAULT', () => {
  const topics = ['nova.message.messages', 'nova.social.follows', 'nova.live.live_streams', 'nova.notification.notification_settings'];

  test('arrives as null on insert and update; an omitted column still arrives as its default', { timeout: 60_000 }, async () => {
    const since = await endOffsets(env('KAFKA_BROKERS'), topics);
    const a = await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`null-a-${run}`]);
    const b = await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`null-b-${run}`]);
    const [p1, p2] = [a.id, b.id].map(Number).sort((x, y) => x - y);
    const conv = await one(`INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2) RETURNING id`, [p1, p2]);
    const nulled = await one(
      `INSERT INTO messages (conversation_id, sender_id, content, message_type, is_deleted, created_at) VALUES ($1, $2, 'n', NULL, NULL, NULL) RETURNING id`,
      [conv.id, a.id],
    );
    const defaulted = await one(`INSERT INTO messages (conversation_id, sender_id, content) VALUES ($1, $2, 'd') RETURNING id`, [conv.id, a.id]);
    await db.query(`UPDATE messages SET message_type = NULL, is_deleted = NULL WHERE id = $1`, [defaulted.id]);
    const follow = await one(`INSERT INTO follows (follower_id, followee_id, status) VALUES ($1, $2, NULL) RETURNING id`, [a.id, b.id]);
    const stream = await one(
      `INSERT INTO live_streams (user_id, title, rtmp_url, status, viewer_count) VALUES ($1, 't', 'rtmp://x', NULL, NULL) RETURNING id`,
      [a.id],
    );
    await db.query(`INSERT INTO notification_settings (user_id, push_enabled, types_disabled) VALUES ($1, NULL, NULL)`, [a.id]);

    const find = (decoded: Decoded[], table: string, key: object, op: Change['op']) => changesFor(decoded, table, key).find((c) => c.op === op);
    const wanted = (decoded: Decoded[]) => [
      find(decoded, 'messages', { id: Number(nulled.id) }, 'create'),
      find(decoded, 'messages', { id: Number(defaulted.id) }, 'update'),
      find(decoded, 'follows', { id: Number(follow.id) }, 'create'),
      find(decoded, 'live_streams', { id: Number(stream.id) }, 'create'),
      find(decoded, 'notification_settings', { user_id: Number(a.id) }, 'create'),
    ];
    const decoded = await captureDecoded(topics, since, (sofar) => wanted(sofar).every(Boolean));
    const [message, update, follows, live, settings] = wanted(decoded).map((c) => c?.after);
    const created = find(decoded, 'messages', { id: Number(defaulted.id) }, 'create')?.after;

    assert.deepEqual(pick(message, 'message_type', 'is_deleted', 'created_at'), { message_type: null, is_deleted: null, created_at: null });
    assert.deepEqual(pick(created, 'message_type', 'is_deleted'), { message_type: 'text', is_deleted: false }, 'PostgreSQL applied the defaults');
    assert.deepEqual(pick(update, 'message_type', 'is_deleted'), { message_type: null, is_deleted: null });
    assert.deepEqual(pick(follows, 'status'), { status: null });
    assert.deepEqual(pick(live, 'status', 'viewer_count'), { status: null, viewer_count: null });
    assert.deepEqual(pick(settings, 'push_enabled', 'types_disabled', 'email_enabled'), { push_enabled: null, types_disabled: null, email_enabled: true });
  });
});

describe('incremental snapshot', () => {
  // what a rebuild runs first: retention may have deleted a row's history, the snapshot re-publishes it
  test('re-publishes every current row of a table as a snapshot read, through the signalling table', { timeout: 120_000 }, async () => {
    const topic = 'nova.notification.push_tokens';
    const since = await endOffsets(env('KAFKA_BROKERS'), [topic]);
    const user = await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`snapshot-${run}`]);
    await db.query(`INSERT INTO push_tokens (user_id, platform, token) VALUES ($1, 'web', $2)`, [user.id, `snapshot-${run}`]);
    const ids = new Set((await db.query('SELECT id FROM push_tokens')).rows.map((r) => Number(r.id)));
    const { config } = await loadConnector();
    const kafka = new Kafka({ clientId: 'nova-cdc-test', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });
    const askedAt = BigInt((await one(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS lsn`)).lsn as string);
    const done = incrementalSnapshot({ db, kafka, registryUrl: env('SCHEMA_REGISTRY_URL'), config, tables: ['public.push_tokens'] });
    const readIds = (decoded: Decoded[]) => new Set(decoded.filter((d): d is Change => d.kind === 'change' && d.op === 'read').map((c) => Number((c.key as { id: number }).id)));
    const decoded = await captureDecoded([topic], since, (sofar) => [...ids].every((id) => readIds(sofar).has(id)));
    await done;
    assert.deepEqual([...ids].filter((id) => !readIds(decoded).has(id)), []);
    // reads only fill (version 0); Debezium sends them without an LSN but with the stream's
    // position when they were read, after the snapshot was asked for (version.ts)
    const reads = decoded.filter((d): d is Change => d.kind === 'change' && d.op === 'read');
    assert.deepEqual([...new Set(reads.map((r) => r.version))], [0n]);
    assert.ok(reads.every((r) => r.commitOrder >= askedAt), `commit orders ${[...new Set(reads.map((r) => r.commitOrder))].join(', ')} are at or after ${askedAt}`);
  });
});

function pick(row: Record<string, unknown> | null | undefined, ...names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, row?.[name]]));
}

// sql/006-row-bounds.sql bounds the rows so that no change record outgrows what Connect and
// the topics take (1 MB): the largest message the bounds allow, updated (REPLICA IDENTITY FULL
// carries it twice), must still arrive whole.
describe('the largest row the bounds allow', () => {
  test('is published whole, before and after', { timeout: 120_000 }, async () => {
    const topic = 'nova.message.messages';
    const since = await endOffsets(env('KAFKA_BROKERS'), [topic]);
    const a = await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`bound-a-${run}`]);
    const b = await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`bound-b-${run}`]);
    const [p1, p2] = [a.id, b.id].map(Number).sort((x, y) => x - y);
    const conv = await one(`INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2) RETURNING id`, [p1, p2]);
    // incompressible text, so TOAST cannot shrink what Debezium reads back
    const random = (bytes: number) => Array.from({ length: bytes / 8 }, () => Math.random().toString(36).slice(2, 10).padEnd(8, '0')).join('');
    const message = await one(`INSERT INTO messages (conversation_id, sender_id, content, metadata) VALUES ($1, $2, $3, $4) RETURNING id`, [conv.id, a.id, random(65536), { note: random(16000) }]);
    await db.query(`UPDATE messages SET content = $2 WHERE id = $1`, [message.id, random(65536)]);
    const decoded = await captureDecoded([topic], since, (sofar) => changesFor(sofar, 'messages', { id: Number(message.id) }).some((c) => c.op === 'update'));
    const update = changesFor(decoded, 'messages', { id: Number(message.id) }).find((c) => c.op === 'update');
    assert.equal((update?.before?.['content'] as string).length, 65536);
    assert.equal((update?.after?.['content'] as string).length, 65536);
  });
});
