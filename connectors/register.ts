// Registers the Debezium connector through Kafka Connect's REST API (PUT .../config:
// create or update, so running it twice is safe) after creating its topics with the
// partitions and retention the connector JSON gives them.
import { readFile } from 'node:fs/promises';
import kafkajs, { type Admin } from 'kafkajs';
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

export type TopicsOutcome = { created: string[]; retentionSet: string[] };

/**
 * Creates the planned topics that do not exist and sets retention.ms where an existing one
 * drifted from the plan. A partition count that differs is refused, not changed: adding
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
      topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, configEntries: retentionEntries(t) })),
    });
  }
  return { created: missing.map((t) => t.topic), retentionSet: await alignRetention(admin, present) };
}

const retentionEntries = (t: TopicSpec) => (t.retentionMs === null ? [] : [{ name: 'retention.ms', value: String(t.retentionMs) }]);

async function alignRetention(admin: Admin, topics: TopicSpec[]): Promise<string[]> {
  const planned = topics.filter((t) => t.retentionMs !== null);
  if (planned.length === 0) return [];
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: planned.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.topic, configNames: ['retention.ms'] })),
  });
  const current = new Map(resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === 'retention.ms')?.configValue]));
  const drifted = planned.filter((t) => current.get(t.topic) !== String(t.retentionMs));
  if (drifted.length > 0) {
    // incremental: only retention.ms changes, the topic's other settings stay as they are
    await admin.alterConfigs({
      validateOnly: false,
      resources: drifted.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.topic, configEntries: retentionEntries(t) })),
    });
  }
  return drifted.map((t) => t.topic);
}

/** Kafka Connect answered with an error status. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function connectRequest(connectUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${connectUrl.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new ConnectError(`Kafka Connect ${method} ${path} answered ${response.status}: ${text}`, response.status);
  return text ? JSON.parse(text) : null;
}

export async function registerConnector(options: { connectUrl: string; admin: Admin; connector: ConnectorFile }) {
  const { connectUrl, admin, connector } = options;
  const topics = await ensureTopics(admin, topicPlan(connector.config));
  // only a 404 means "not there yet": any other failure (Connect down, 500) is reported as itself
  const existed = await connectRequest(connectUrl, 'GET', `/connectors/${encodeURIComponent(connector.name)}`).then(
    () => true,
    (error: unknown) => {
      if (error instanceof ConnectError && error.status === 404) return false;
      throw error;
    },
  );
  await connectRequest(connectUrl, 'PUT', `/connectors/${encodeURIComponent(connector.name)}/config`, connector.config);
  return { topics, action: existed ? ('updated' as const) : ('created' as const) };
}

export type ConnectorStatus = {
  connector: { state: string; worker_id: string };
  tasks: { id: number; state: string; trace?: string }[];
};

export function connectorStatus(connectUrl: string, name: string): Promise<ConnectorStatus> {
  return connectRequest(connectUrl, 'GET', `/connectors/${encodeURIComponent(name)}/status`) as Promise<ConnectorStatus>;
}
