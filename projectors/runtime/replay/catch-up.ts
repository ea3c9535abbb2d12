// When has a projector applied everything its topics held at one moment (the target)? When
// every partition's checkpoint has reached the end offset read at that moment. Fed by the
// runtime's checkpoint events, so tracking costs nothing per record.
import type { Checkpoint } from '../sink.ts';

/** One partition: where reading starts (the store's checkpoint, else the earliest retained offset) and the target end. */
export type PartitionRange = { topic: string; partition: number; start: bigint; end: bigint };

export type CatchUp = {
  /** feed it every checkpoint the projector writes */
  onCheckpoint(checkpoint: Checkpoint): void;
  /** records between start and target, and how many of them are applied */
  progress(): { applied: bigint; total: bigint };
  /** resolves once every partition is at or past its target */
  done: Promise<void>;
};

const keyOf = (topic: string, partition: number) => `${topic}:${partition}`;

export function trackCatchUp(ranges: PartitionRange[]): CatchUp {
  const reached = new Map(ranges.map((r) => [keyOf(r.topic, r.partition), r.start]));
  const ends = new Map(ranges.map((r) => [keyOf(r.topic, r.partition), r.end]));
  const pending = new Set(ranges.filter((r) => r.start < r.end).map((r) => keyOf(r.topic, r.partition)));
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  if (pending.size === 0) finish();

  return {
    onCheckpoint({ topic, partition, nextOffset }) {
      const key = keyOf(topic, partition);
      const end = ends.get(key);
      if (end === undefined) return; // a partition created after the target was read
      const offset = BigInt(nextOffset);
      if (offset > (reached.get(key) ?? 0n)) reached.set(key, offset);
      if (offset >= end && pending.delete(key) && pending.size === 0) finish();
    },
    progress() {
      let applied = 0n;
      let total = 0n;
      for (const r of ranges) {
        if (r.end <= r.start) continue;
        const at = reached.get(keyOf(r.topic, r.partition)) ?? r.start;
        total += r.end - r.start;
        applied += (at < r.end ? at : r.end) - r.start;
      }
      return { applied, total };
    },
    done,
  };
}
