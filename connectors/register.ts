// Registers the Debezium connector through Kafka Connect's REST API (PUT .../config:
// create or update, so running it twice is safe) after creating its topics with the
// partitions and retention the connector JSON gives them.
import { readFile } from 'node:fs/promises';
import type { Admin } from 'kafkajs';
import { topicPlan, type ConnectorConfig, type TopicSpec } from './topic-plan.ts';

export type ConnectorFile = { name: string; config: ConnectorConfig };

export const defaultConnectorFile = new URL('./postgres-nova.json', import.meta.url);

export async function loadConnector(file: string | URL = defaultConnectorFile): Promise<ConnectorFile> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ConnectorFile>;
  if (typeof parsed.name !== 'string' || typeof parsed.config !== 'object' || parsed.config === null) {
    throw new Error(`${file}: expected {"name": ..., "config": {...}}`);
  }
  return parsed as ConnectorFile;
}

/** Creates the topics that do not exist yet; returns the ones it created. */
export async function ensureTopics(admin: Admin, plan: TopicSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = plan.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((t) => ({
      topic: t.topic,
      numPartitions: t.partitions,
      configEntries: t.retentionMs === null ? [] : [{ name: 'retention.ms', value: String(t.retentionMs) }],
    })),
  });
  return missing.map((t) => t.topic);
}

export async function connectRequest(connectUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${connectUrl.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Kafka Connect ${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function registerConnector(options: { connectUrl: string; admin: Admin; connector: ConnectorFile }) {
  const { connectUrl, admin, connector } = options;
  const createdTopics = await ensureTopics(admin, topicPlan(connector.config));
  const existed = await connectRequest(connectUrl, 'GET', `/connectors/${encodeURIComponent(connector.name)}`)
    .then(() => true)
    .catch(() => false);
  await connectRequest(connectUrl, 'PUT', `/connectors/${encodeURIComponent(connector.name)}/config`, connector.config);
  return { createdTopics, action: existed ? ('updated' as const) : ('created' as const) };
}

export type ConnectorStatus = {
  connector: { state: string; worker_id: string };
  tasks: { id: number; state: string; trace?: string }[];
};

export function connectorStatus(connectUrl: string, name: string): Promise<ConnectorStatus> {
  return connectRequest(connectUrl, 'GET', `/connectors/${encodeURIComponent(name)}/status`) as Promise<ConnectorStatus>;
}
