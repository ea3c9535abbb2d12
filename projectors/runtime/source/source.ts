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
  /**
   * keeps the consumer's group membership alive during a long apply (retries); when the group
   * answers that the partition is no longer this consumer's, it aborts `revoked` instead of
   * rejecting
   */
  heartbeat(): Promise<void>;
  /**
   * Aborted once the partition is no longer this consumer's: a rebalance began (another
   * instance joined or left) or the group dropped this member. Work on the batch still to do is
   * abandoned (its new owner resumes from the store's checkpoint); a write in progress ends.
   */
  revoked: AbortSignal;
};

/** A partition handed to this process, with what the topic retains of it now: offsets [low, high). */
export type AssignedPartition = { topic: string; partition: number; low: string; high: string; retentionMs: number | null };

/**
 * Where to start reading a partition: an offset, or undefined for the earliest retained. Asked
 * for each assigned partition once onAssign has resolved, so that it answers from the
 * checkpoints onAssign read again: the store's, never the group's committed offset.
 */
export type StartAt = (topic: string, partition: number) => string | undefined;

export type SourceRunOptions = {
  topics: string[];
  startAt: StartAt;
  /**
   * Called on every assignment (start, rebalance) before any batch of those partitions is
   * handed in; then every assigned partition is read from startAt. A rejection stops the source.
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
