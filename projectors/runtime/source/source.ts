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

/** A partition handed to this process, with what the topic retains of it now: offsets [low, high). */
export type AssignedPartition = { topic: string; partition: number; low: string; high: string; retentionMs: number | null };

/** Where to start reading a partition: an offset, or undefined for the earliest retained. */
export type StartAt = (topic: string, partition: number) => string | undefined;

export type SourceRunOptions = {
  topics: string[];
  startAt: StartAt;
  /**
   * Called on every assignment (start, rebalance) before any batch of those partitions is
   * handed in; a rejection stops the source.
   */
  onAssign: (partitions: AssignedPartition[]) => Promise<void>;
  /** per partition, in offset order */
  onBatch: (batch: SourceBatch) => Promise<void>;
};

export interface Source {
  /** Consumes until stop() (resolves) or a fatal error (rejects). */
  run(options: SourceRunOptions): Promise<void>;
  /** Records progress in Kafka too, for lag monitoring only: the store's checkpoints are the truth. */
  commit(checkpoints: Checkpoint[]): Promise<void>;
  /** Stops fetching one partition (a stall); it stays paused across rebalances until resumed. */
  pause(topic: string, partition: number): void;
  /** Fetches it again, from `offset` (undefined: from the first record it did not hand over completely). */
  resume(topic: string, partition: number, offset: string | undefined): void;
  /** Lets the batch in flight finish, then leaves the group. */
  stop(): Promise<void>;
}
