// Re-feeds a projector's dead letters after a fix: each one goes back, byte for byte, to
// the topic and partition it came from, so the projector (and any other consumer of that
// topic) meets it again; per-key LSN guards make the repeat harmless to stores that had
// applied it. Progress is a consumer group of its own, so a letter is re-fed once.
import type { Kafka } from 'kafkajs';
import { deadLetterHeaders, deadLetterTopic } from './dead-letter.ts';

export type ReplayReport = { refed: number; skipped: number };

export async function replayDeadLetters(options: { kafka: Kafka; projector: string; dryRun?: boolean; onLetter?: (line: string) => void }): Promise<ReplayReport> {
  const { kafka, projector, dryRun = false, onLetter = () => {} } = options;
  const topic = deadLetterTopic(projector);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const end = new Map(ends.map((o) => [o.partition, BigInt(o.high)]));
  const pending = new Set(ends.filter((o) => o.high !== o.low).map((o) => o.partition));
  const report: ReplayReport = { refed: 0, skipped: 0 };
  if (pending.size === 0) return report;

  const consumer = kafka.consumer({ groupId: `nova-dlq-replay-${projector}` });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), producer.connect()]);
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const header = (name: string) => message.headers?.[name]?.toString();
            const source = { topic: header(deadLetterHeaders.topic), partition: Number(header(deadLetterHeaders.partition)) };
            const where = `${topic}[${partition}]@${message.offset} (${header(deadLetterHeaders.code)}: from ${source.topic}[${source.partition}]@${header(deadLetterHeaders.offset)})`;
            if (!source.topic || Number.isNaN(source.partition)) {
              report.skipped++;
              onLetter(`skipped ${where}: no source headers`);
            } else {
              if (!dryRun) await producer.send({ topic: source.topic, acks: -1, messages: [{ key: message.key, value: message.value, partition: source.partition }] });
              report.refed++;
              onLetter(`${dryRun ? 'would re-feed' : 're-fed'} ${where}`);
            }
            const next = BigInt(message.offset) + 1n;
            if (!dryRun) await consumer.commitOffsets([{ topic, partition, offset: next.toString() }]);
            if (next >= (end.get(partition) ?? 0n)) pending.delete(partition);
            if (pending.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
  }
  return report;
}
