// Incremental snapshots through Debezium's signalling table (sql/004-signal.sql): every
// current row of the named tables is re-read and published as a snapshot read, interleaved
// with streaming so no change is lost or reordered. A rebuild needs this because a topic keeps
// only its retention's worth of history. Completion is learnt from Debezium's notifications
// (notification.sink.topic.name), which carry the signal's id.
import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { registryLookup } from '../projectors/runtime/decode/index.ts';
import type { ConnectorConfig } from './topic-plan.ts';

export type SnapshotProgress = { type: string; detail: Record<string, string> };
type Notification = { id: string; aggregate_type: string; type: string; additional_data: Record<string, string> };

/** Confluent wire format: magic byte 0, then the 4-byte schema id, then Avro. */
async function decodeNotification(value: Buffer, schemaOf: (id: number) => Promise<avro.Type>): Promise<Notification | undefined> {
  if (value.length < 5 || value[0] !== 0) return undefined;
  return (await schemaOf(value.readInt32BE(1))).fromBuffer(value.subarray(5)) as Notification;
}

export async function incrementalSnapshot(options: {
  db: pg.ClientBase;
  kafka: Kafka;
  registryUrl: string;
  config: ConnectorConfig;
  /** schema-qualified, as Debezium names them: public.users */
  tables: string[];
  onProgress?: (progress: SnapshotProgress) => void;
  timeoutMs?: number;
}): Promise<{ id: string }> {
  const { db, kafka, config, tables, onProgress, timeoutMs = 30 * 60_000 } = options;
  const topic = config['notification.sink.topic.name'];
  const signalTable = config['signal.data.collection'];
  if (!topic || !signalTable) throw new Error('the connector has no signal.data.collection and notification.sink.topic.name: snapshots need both');
  const id = `nova-snapshot-${randomUUID()}`;
  const lookup = registryLookup({ url: options.registryUrl });
  const types = new Map<number, avro.Type>();
  const schemaOf = async (schemaId: number) => types.get(schemaId) ?? types.set(schemaId, avro.Type.forSchema(JSON.parse(await lookup(schemaId)))).get(schemaId)!;

  const consumer = kafka.consumer({ groupId: `${id}-watch`, maxWaitTimeInMs: 200 });
  const admin = kafka.admin();
  await Promise.all([consumer.connect(), admin.connect()]);
  try {
    const start = await admin.fetchTopicOffsets(topic).catch(() => []);
    // only notifications written after the signal can be ours: start at today's end
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const { partition, offset } of start) consumer.seek({ topic, partition, offset });
    });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const finished = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`incremental snapshot ${id} did not complete within ${timeoutMs / 1000} s`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const notification = message.value ? await decodeNotification(message.value, schemaOf) : undefined;
          if (notification?.id !== id) return;
          onProgress?.({ type: notification.type, detail: notification.additional_data });
          if (notification.type === 'COMPLETED' || notification.type === 'ABORTED') {
            clearTimeout(timer);
            if (notification.type === 'ABORTED') reject(new Error(`incremental snapshot ${id} was aborted`));
            else resolve();
          }
        },
      });
    });
    const [schema, name] = signalTable.split('.') as [string, string];
    await db.query(`INSERT INTO ${db.escapeIdentifier(schema)}.${db.escapeIdentifier(name)} (id, type, data) VALUES ($1, 'execute-snapshot', $2)`, [
      id,
      JSON.stringify({ 'data-collections': tables, type: 'incremental' }),
    ]);
    await finished;
    return { id };
  } finally {
    await Promise.all([consumer.disconnect(), admin.disconnect()]);
  }
}
