// `dlq-replay`: after a fix, hands a projector's dead letters back to it, once each. Each letter
// is copied, bytes and headers as they are, to the projector's replay topic, which the running
// projector consumes beside its sources and applies with its own mapping and sink (its version
// guards make a letter that a newer change superseded harmless). A letter that fails again is
// dead-lettered again with its replay count raised. Progress is a consumer group of its own.
import type { Kafka } from 'kafkajs';
import { deadLetterHeaders, deadLetterTopic, replayTopic } from './dead-letter.ts';

export type ReplayReport = { handedBack: number; skipped: number };

export async function replayDeadLetters(options: { kafka: Kafka; projector: string; dryRun?: boolean; onLetter?: (line: string) => void }): Promise<ReplayReport> {
  const { kafka, projector, dryRun = false, onLetter = () => {} } = options;
  const topic = deadLetterTopic(projector);
  const target = replayTopic(projector);
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `nova-dlq-replay-${projector}`;
  const [ends, existing, done] = await Promise.all([admin.fetchTopicOffsets(topic), admin.listTopics(), admin.fetchOffsets({ groupId, topics: [topic] })]).finally(() => admin.disconnect());
  if (!existing.includes(target)) throw new Error(`${target} does not exist: start the ${projector} projector once (it creates its letter topics)`);
  const end = new Map(ends.map((o) => [o.partition, BigInt(o.high)]));
  // a partition is pending while letters lie past where this tool stopped last time (its
  // group's offset; -1 before it ever ran) and past where retention now starts
  const stoppedAt = new Map((done[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  const startOf = (o: { partition: number; low: string }) => [stoppedAt.get(o.partition) ?? -1n, BigInt(o.low)].reduce((a, b) => (a > b ? a : b));
  const pending = new Set(ends.filter((o) => startOf(o) < BigInt(o.high)).map((o) => o.partition));
  const report: ReplayReport = { handedBack: 0, skipped: 0 };
  if (pending.size === 0) return report;

  const consumer = kafka.consumer({ groupId });
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
              if (!dryRun) await producer.send({ topic: target, acks: -1, messages: [{ key: message.key, value: message.value, headers: message.headers }] });
              report.handedBack++;
              onLetter(`${dryRun ? 'would hand back' : 'handed back'} ${where}`);
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
