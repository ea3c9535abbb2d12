// A Debezium connector of a test's own beside nova-postgres: its own slot, topics and metric
// names, the same database and publication, nova-postgres's settings without its transforms,
// heartbeat and topic groups (the test gives its own), and its removal afterwards.
import { Kafka, logLevel } from 'kafkajs';
import { connectRequest } from '../../../connectors/connect-rest.ts';
import { loadConnector } from '../../../connectors/register.ts';
import { dropReplicationSlot, replicatorFromEnv } from '../../../connectors/slot.ts';
import { env } from '../../../scripts/stack.d/test/stack.ts';

export async function throwawayConfig(name: string, slot: string, overrides: Record<string, string>): Promise<Record<string, string>> {
  const { config } = await loadConnector();
  const dropped = (key: string) =>
    key.startsWith('transforms') || key.startsWith('predicates') || key.startsWith('heartbeat.') || key === 'topic.heartbeat.prefix' || (key.startsWith('topic.creation.') && !key.startsWith('topic.creation.default.'));
  return {
    ...Object.fromEntries(Object.entries(config).filter(([key]) => !dropped(key))),
    'slot.name': slot,
    'heartbeat.interval.ms': '0',
    // the same topic.prefix would give this connector nova-postgres's JMX names; Debezium
    // then retries registering them for a minute per context before it starts
    'custom.metric.tags': `connector=${name}`,
    ...overrides,
  };
}

/** Deletes the connector, its slot and its topics; whatever is already gone is passed. */
export async function removeThrowaway(name: string, slot: string, topics: string[]): Promise<void> {
  await connectRequest(env('KAFKA_CONNECT_URL'), 'DELETE', `/connectors/${name}`).catch(() => undefined);
  await dropReplicationSlot(replicatorFromEnv(process.env), slot).catch(() => undefined);
  const admin = new Kafka({ clientId: `remove-${name}`, brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
