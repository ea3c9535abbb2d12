// Registers the Debezium connector through Kafka Connect's REST API (PUT .../config:
// create or update, so running it twice is safe) after creating its topics with the
// partitions and retention the connector JSON gives them.
import { readFile } from 'node:fs/promises';
import kafkajs, { type Admin } from 'kafkajs';
import type pg from 'pg';
import { connectorOffsets, putConnectorConfig } from './connect-rest.ts';
import { currentEpoch, deployedConfig, withSourceEpoch, type SourceEpoch } from './epoch.ts';
import { topicPlan, type ConnectorConfig, type TopicSpec } from './topic-plan.ts';

// kafkajs is CommonJS and Node cannot see every named export: take them from the default
const { ConfigResourceTypes } = kafkajs;

export type ConnectorFile = { name: string; config: ConnectorConfig };

export const defaultConnectorFile = new URL('./postgres-nova.json', import.meta.url);

export async function loadConnector(file: string | URL = defaultConnectorFile): Promise<ConnectorFile> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ConnectorFile>;
  if (typeof parsed.name !== 'string' || typeof parsed.config !== 'object' || parsed.config === null) {
    throw new Error(`${file}: expected {"name": ..., "config": {...}}`);
  }
  return parsed as ConnectorFile;
}

export type TopicsOutcome = { created: string[]; aligned: string[] };

/**
 * Creates the planned topics that do not exist and sets retention.ms and max.message.bytes
 * where an existing one drifted from the plan. A partition count that differs is refused, not changed: adding
 * partitions re-maps keys, so a row's later changes would land on another partition than its
 * history and per-key order across the two would be lost.
 */
export async function ensureTopics(admin: Admin, plan: TopicSpec[]): Promise<TopicsOutcome> {
  const existing = new Set(await admin.listTopics());
  const missing = plan.filter((t) => !existing.has(t.topic));
  const present = plan.filter((t) => existing.has(t.topic));
  if (present.length > 0) {
    const { topics } = await admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) });
    const partitions = new Map(topics.map((t) => [t.name, t.partitions.length]));
    const wrong = present.filter((t) => t.partitions > 0 && partitions.get(t.topic) !== t.partitions);
    if (wrong.length > 0) {
      const list = wrong.map((t) => `${t.topic} has ${partitions.get(t.topic)} partitions, the plan says ${t.partitions}`).join('; ');
      throw new Error(`topics differ from the connector's plan: ${list}. Changing the count re-maps keys to partitions; recreate those topics deliberately (and rebuild the views) instead.`);
    }
  }
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, configEntries: plannedEntries(t) })),
    });
  }
  return { created: missing.map((t) => t.topic), aligned: await alignConfigs(admin, present) };
}

const plannedEntries = (t: TopicSpec) => [
  ...(t.retentionMs === null ? [] : [{ name: 'retention.ms', value: String(t.retentionMs) }]),
  ...(t.maxMessageBytes === null ? [] : [{ name: 'max.message.bytes', value: String(t.maxMessageBytes) }]),
];

async function alignConfigs(admin: Admin, topics: TopicSpec[]): Promise<string[]> {
  const planned = topics.filter((t) => plannedEntries(t).length > 0);
  if (planned.length === 0) return [];
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: planned.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.topic, configNames: ['retention.ms', 'max.message.bytes'] })),
  });
  const current = new Map(resources.map((r) => [r.resourceName, new Map(r.configEntries.map((e) => [e.configName, e.configValue]))]));
  const drifted = planned.filter((t) => plannedEntries(t).some(({ name, value }) => current.get(t.topic)?.get(name) !== value));
  if (drifted.length > 0) {
    // alterConfigs replaces a topic's overrides: the planned ones are all Nova sets
    await admin.alterConfigs({
      validateOnly: false,
      resources: drifted.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.topic, configEntries: plannedEntries(t) })),
    });
  }
  return drifted.map((t) => t.topic);
}

/** The replication slot's state: missing, or PostgreSQL's wal_status ('lost' once max_slot_wal_keep_size passed it). */
export async function slotState(db: pg.ClientBase, slot: string): Promise<{ exists: boolean; walStatus: string | null; active: boolean; lagBytes: number | null }> {
  const { rows } = await db.query(
    `SELECT wal_status, active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = rows[0];
  return row ? { exists: true, walStatus: row.wal_status, active: row.active, lagBytes: row.lag === null ? null : Number(row.lag) } : { exists: false, walStatus: null, active: false, lagBytes: null };
}

/** What to do once a connector that has streamed has no usable slot: changes since its last position are gone. */
export const lostSlotRepair = (slot: string) =>
  `replication slot ${slot} is missing or lost, but the connector has streamed before: the changes since its last position are gone. ` +
  'Start a new stream with `scripts/nova connector epoch --bump --after-gap` (it drops the old slot, resets the offsets and snapshots again), ' +
  'then rebuild every projector: `scripts/nova projector rebuild NAME --generation M --snapshot --promote`.';

export async function registerConnector(options: { connectUrl: string; admin: Admin; db: pg.ClientBase; connector: ConnectorFile }): Promise<{ topics: TopicsOutcome; action: 'created' | 'updated'; epoch: SourceEpoch }> {
  const { connectUrl, admin, db, connector } = options;
  const topics = await ensureTopics(admin, topicPlan(connector.config));
  // only a 404 means "not there yet": any other failure (Connect down, 500) is reported as itself
  const existed = (await deployedConfig(connectUrl, connector.name)) !== undefined;
  const slot = connector.config['slot.name'] as string;
  if (existed && (await connectorOffsets(connectUrl, connector.name)).length > 0) {
    const state = await slotState(db, slot);
    // Debezium would fail its task (or, configured otherwise, stream on from a new slot past the hole)
    if (!state.exists || state.walStatus === 'lost') throw new Error(lostSlotRepair(slot));
  }
  const epoch = await currentEpoch({ db, connectUrl, name: connector.name, file: connector.config });
  await putConnectorConfig(connectUrl, connector.name, withSourceEpoch(connector.config, epoch));
  return { topics, action: existed ? 'updated' : 'created', epoch };
}
