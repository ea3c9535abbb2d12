// The source epoch and a lost replication slot, end to end (issue 8 item 5), on a throwaway
// connector of this file's own (its own slot and topic, public.user_interactions only, no
// snapshot): the connector stamps the epoch on every record; `connector epoch --bump` raises
// it and `register` never takes it back; a connector whose slot is gone is refused by
// `register`; `epoch --bump --after-gap` starts a new stream, which a generation filled before
// refuses (a gap) and a rebuild past the gap fills.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { clearCheckpoints, clickhouseClient, clickhouseProjector, currentStateQuery, dropGeneration, userBehaviorEvents } from '../projectors/clickhouse/index.ts';
import { epochOf, sourceEpochHeader, streamSinceHeader, type Change, type RawRecord } from '../projectors/runtime/decode/index.ts';
import { codes } from '../projectors/runtime/errors.ts';
import { decode } from '../projectors/runtime/testing/cdc-capture.ts';
import { runInProcess, type InProcessProjector } from '../projectors/runtime/testing/in-process.ts';
import { captureTopics, endOffsets } from '../projectors/runtime/testing/kafka-capture.ts';
import { runNova } from '../projectors/runtime/testing/projector-process.ts';
import { removeThrowaway, throwawayConfig } from '../projectors/runtime/testing/throwaway-connector.ts';
import { env, waitFor } from '../scripts/stack.d/test/stack.ts';
import { connectorOffsets, connectorStatus } from './connect-rest.ts';
import { loadConnector } from './register.ts';
import { dropReplicationSlot, replicatorFromEnv } from './slot.ts';

const run = randomUUID().slice(0, 8);
const name = `nova-epoch-${run}`;
const slot = `nova_epoch_${run}`;
const topic = `nova_epoch_${run}.user_interactions`;
const source = 'nova.user.user_interactions';
const connectUrl = env('KAFKA_CONNECT_URL');
const dir = mkdtempSync(join(tmpdir(), 'nova-epoch-'));
const file = join(dir, 'connector.json');
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const ch = clickhouseClient(process.env);
const generations = [randomInt(1_000_000_000, 2_000_000_000), randomInt(1_000_000_000, 2_000_000_000)];
const projectors: InProcessProjector<unknown>[] = [];
let user: number;

/** nova-postgres narrowed to one table: its own slot and topic, no snapshot, the epoch transforms kept. */
async function throwawayConnector() {
  const { config } = await loadConnector();
  const kept = (key: string) => config[key] as string;
  return {
    name,
    config: await throwawayConfig(name, slot, {
      'snapshot.mode': 'no_data',
      'table.include.list': 'public.user_interactions',
      transforms: 'sourceEpoch,streamSince,route',
      'transforms.sourceEpoch.type': kept('transforms.sourceEpoch.type'),
      'transforms.sourceEpoch.header': kept('transforms.sourceEpoch.header'),
      'transforms.sourceEpoch.value.literal': '0',
      'transforms.streamSince.type': kept('transforms.streamSince.type'),
      'transforms.streamSince.header': kept('transforms.streamSince.header'),
      'transforms.streamSince.value.literal': '0',
      'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
      'transforms.route.regex': 'nova\\.public\\.user_interactions',
      'transforms.route.replacement': topic,
    }),
  };
}

const dropSlot = () => dropReplicationSlot(replicatorFromEnv(process.env), slot);

before(async () => {
  await db.connect();
  writeFileSync(file, JSON.stringify(await throwawayConnector()));
  user = Number((await db.query('INSERT INTO users (username) VALUES ($1) RETURNING id', [`epoch-${run}`])).rows[0].id);
});

after(async () => {
  for (const p of projectors) await p.close();
  await removeThrowaway(name, slot, [topic]);
  for (const generation of generations) {
    await dropGeneration(ch, generation).catch(() => undefined);
    await clearCheckpoints(ch, { projector: clickhouseProjector.name, generation }).catch(() => undefined);
  }
  await db.query('DELETE FROM nova_source_epoch WHERE connector = $1', [name]);
  await Promise.all([db.end(), ch.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const nova = (...args: string[]) => runNova([...args, '--file', file], 120_000);

/** Inserts an interaction and returns its record on the throwaway topic, with the epoch it carries. */
async function written(tag: string) {
  const since = await endOffsets(env('KAFKA_BROKERS'), [topic]).catch(() => new Map<string, string>());
  const { rows } = await db.query(`INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type) VALUES ($1, 'post', 1, $2) RETURNING id`, [user, tag]);
  const id = Number(rows[0].id);
  const mine = async (r: RawRecord) => {
    const d = await decode({ ...r, schemaTopic: source }).catch(() => undefined);
    return d?.kind === 'change' && Number(d.key?.['id']) === id ? d : undefined;
  };
  let found: { record: RawRecord; change: Change } | undefined;
  await captureTopics({
    brokers: env('KAFKA_BROKERS'),
    topics: [topic],
    since,
    until: async (rs) => {
      for (const record of rs) {
        const change = await mine(record);
        if (change) found = { record, change };
      }
      return found !== undefined;
    },
    timeoutMs: 120_000,
  });
  const { record, change } = found as NonNullable<typeof found>;
  const epoch = record.headers?.[sourceEpochHeader]?.toString();
  writtenIds.push({ id, epoch });
  return { id, epoch, since: record.headers?.[streamSinceHeader]?.toString(), change };
}

/**
 * Writes until a record carries `epoch`: Connect restarts the task with the new config in its own
 * time, so records written meanwhile may still carry the old one; none after the first new one may.
 */
/** every interaction this file wrote and saw published, with the epoch its record carried */
const writtenIds: { id: number; epoch: string | undefined }[] = [];
const idsAt = (...epochs: string[]) => writtenIds.filter((w) => epochs.includes(w.epoch ?? '')).map((w) => w.id).sort((a, b) => a - b);

async function writtenAtEpoch(tag: string, epoch: string) {
  for (let attempt = 0; attempt < 60; attempt++) {
    const record = await written(`${tag}-${attempt}`);
    if (record.epoch === epoch) {
      const next = await written(`${tag}-after`);
      assert.equal(next.epoch, epoch, 'the epoch never goes back once a record carried the new one');
      return record;
    }
  }
  throw new Error(`no record carried epoch ${epoch}`);
}

async function taskRunning() {
  await waitFor(`connector ${name} RUNNING`, async () => {
    const status = await connectorStatus(connectUrl, name).catch(() => undefined);
    if (status?.tasks[0]?.state === 'FAILED') throw new Error(status.tasks[0].trace);
    return status?.tasks[0]?.state === 'RUNNING' ? true : undefined;
  }, 120_000);
}

const viewIds = async (generation: number) =>
  (await (await ch.query({ query: `SELECT toString(id) AS id FROM (${currentStateQuery(userBehaviorEvents, generation)}) ORDER BY id`, format: 'JSONEachRow' })).json<{ id: string }>()).map((r) => Number(r.id)).sort((a, b) => a - b);

const start = async (generation: number, options: { skipBeforeEpoch?: number; snapshotFills?: boolean } = {}) => {
  const projector = await runInProcess({ definition: clickhouseProjector, generation, topics: [topic], readerTopic: () => source, ...options });
  projectors.push(projector as InProcessProjector<unknown>);
  return projector;
};

test('the epoch is stamped on every record, raised by --bump, and never taken back by register; a lost slot is refused; --after-gap starts a new stream that old generations refuse', { timeout: 600_000 }, async () => {
  const registered = await nova('connector', 'register');
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.stdout, /source epoch 0, stream since epoch 0/);
  await taskRunning();
  const first = await written('epoch-0');
  assert.deepEqual([first.epoch, first.since], ['0', '0']);
  assert.equal(epochOf(first.change.version), 0);

  const missingReason = await nova('connector', 'epoch', '--bump');
  assert.notEqual(missingReason.code, 0, 'a bump says why');
  const bumped = await nova('connector', 'epoch', '--bump', '--reason', 'test cutover');
  assert.equal(bumped.code, 0, bumped.stderr);
  await taskRunning();
  const second = await writtenAtEpoch('epoch-1', '1');
  assert.deepEqual([second.epoch, second.since], ['1', '0']);
  assert.equal(epochOf(second.change.version), 1);
  assert.ok(second.change.version > first.change.version);

  const again = await nova('connector', 'register');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /source epoch 1, stream since epoch 0/, 'register keeps the raised epoch');
  const shown = await nova('connector', 'epoch');
  assert.match(shown.stdout, /deployed epoch 1, stream since epoch 0; recorded in PostgreSQL epoch 1, stream since epoch 0/);

  // a generation filled from this stream
  const filled = await start(generations[0] as number);
  const beforeGap = idsAt('0', '1');
  await waitFor('the generation to hold everything so far', async () => (JSON.stringify(await viewIds(generations[0] as number)) === JSON.stringify(beforeGap) ? true : undefined));
  await filled.close();

  // the slot is lost under the running connector (a failover, an invalidation): Debezium's task
  // fails rather than stream on past the hole
  await waitFor('Connect to hold offsets', async () => ((await connectorOffsets(connectUrl, name)).length > 0 ? true : undefined));
  await dropSlot();
  await db.query(`INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type) VALUES ($1, 'post', 1, 'lost')`, [user]);
  const failed = await waitFor('the task to fail', async () => {
    const task = (await connectorStatus(connectUrl, name)).tasks[0];
    return task?.state === 'FAILED' ? task.trace : undefined;
  }, 120_000);
  assert.match(failed ?? '', /no longer available on the server/);
  const refused = await nova('connector', 'register');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr + refused.stdout, new RegExp(`replication slot ${slot} is missing or lost.*epoch --bump --after-gap`));

  const gap = await nova('connector', 'epoch', '--bump', '--after-gap');
  assert.equal(gap.code, 0, gap.stderr);
  await taskRunning();
  const third = await writtenAtEpoch('epoch-2', '2');
  assert.deepEqual([third.epoch, third.since], ['2', '2']);

  // the generation filled before refuses the new stream; a rebuild past the gap takes only it
  const old = await start(generations[0] as number);
  const stall = await waitFor('the gap', async () => old.seen('projector.stalled')[0], 120_000);
  assert.equal(stall.code, codes.streamGap);
  assert.match(stall.reason, /began at source epoch 2, after a gap/);
  assert.deepEqual(await viewIds(generations[0] as number), beforeGap);
  const rebuilt = await start(generations[1] as number, { skipBeforeEpoch: 2, snapshotFills: true });
  await waitFor('the rebuild', async () => ((await viewIds(generations[1] as number)).includes(third.id) ? true : undefined), 120_000);
  await waitFor('the rebuild to hold the new stream', async () => (JSON.stringify(await viewIds(generations[1] as number)) === JSON.stringify(idsAt('2')) ? true : undefined));
  assert.deepEqual(await viewIds(generations[1] as number), idsAt('2'), 'records before the gap are passed, not applied');
  assert.deepEqual(rebuilt.seen('projector.stalled'), []);
});
