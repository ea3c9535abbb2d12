// Does the store's checkpoint of a partition still meet what the topic retains? Applying from
// anywhere else skips records silently: kafkajs answers an offset out of range by resetting to
// the earliest one, so a checkpoint that retention has passed (a long outage) would resume
// after a hole, and one beyond the end (a recreated topic) would filter out every new record.
import { codes, type ErrorCode } from '../errors.ts';
import type { Checkpoint } from '../sink.ts';
import type { AssignedPartition } from '../source/source.ts';

export type RangeProblem = { code: ErrorCode; reason: string };

const repair = 'the generation cannot be completed from the topic: rebuild into a new generation with `scripts/nova projector rebuild NAME --generation M --snapshot --promote`, then drop this one';

/**
 * Why applying `range` from `checkpoint` would leave a gap, or undefined. Without a checkpoint
 * the generation has applied nothing of the partition: a cut topic then lacks rows unchanged
 * since its first retained record, unless a snapshot re-publishes them (`snapshotFills`).
 */
export function retainedRangeProblem(checkpoint: Checkpoint | undefined, range: AssignedPartition, snapshotFills: boolean): RangeProblem | undefined {
  const where = `${range.topic}[${range.partition}]`;
  const [low, high] = [BigInt(range.low), BigInt(range.high)];
  if (checkpoint === undefined) {
    if (low === 0n || snapshotFills) return undefined;
    return { code: codes.retentionGap, reason: `${where} starts at offset ${low} (retention deleted the records before it) and this generation has applied none of it: ${repair}` };
  }
  const next = BigInt(checkpoint.nextOffset);
  if (next < low) return { code: codes.retentionGap, reason: `${where}: the store's checkpoint is at offset ${next} but the topic now starts at ${low}: retention deleted ${low - next} records before they were applied; ${repair}` };
  if (next > high) return { code: codes.beyondEnd, reason: `${where}: the store's checkpoint is at offset ${next} but the partition ends at ${high} (was the topic deleted and recreated?): ${repair}` };
  return undefined;
}
