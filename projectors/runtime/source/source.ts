// Port: where raw records come from. kafkajs sits behind it (kafkajs-source.ts) so a
// faster client can replace it after measuring.
import type { RawRecord } from '../decode/index.ts';
import type { Checkpoint } from '../sink.ts';

export type SourceBatch = {
  topic: string;
  partition: number;
  records: RawRecord[];
  /** the partition's end offset when the batch was fetched, for lag */
  highWatermark: string;
  /** keeps the consumer's group membership alive during a long apply (retries) */
  heartbeat(): Promise<void>;
};

/** Where to start reading a partition: an offset, or undefined for the earliest retained. */
export type StartAt = (topic: string, partition: number) => string | undefined;

export interface Source {
  /** Consumes until stop() (resolves) or a fatal error (rejects); onBatch runs per partition, in offset order. */
  run(options: { topics: string[]; startAt: StartAt; onBatch: (batch: SourceBatch) => Promise<void> }): Promise<void>;
  /** Records progress in Kafka too, for lag monitoring only: the store's checkpoints are the truth. */
  commit(checkpoints: Checkpoint[]): Promise<void>;
  /** Lets the batch in flight finish, then leaves the group. */
  stop(): Promise<void>;
}
