// Readiness means "making progress", fed by the runtime's events: unready while a partition is
// stalled, while the dead-letter breaker is open, or while records wait (lag > 0) and nothing
// has been applied for `stuckAfterMs`. The reasons are what /readyz answers with.
import type { ProjectorEventBus } from './events.ts';

export type Health = { ready(): boolean; reasons(): string[] };

export function projectorHealth(events: ProjectorEventBus, options: { started: () => boolean; stuckAfterMs?: number; now?: () => number }): Health {
  const { started, stuckAfterMs = 60_000, now = Date.now } = options;
  const lag = new Map<string, { high: bigint; next: bigint }>();
  const stalled = new Map<string, string>();
  let breakerOpen = false;
  /** when the projector last applied something, or last had nothing to do */
  let progressAt = now();
  const keyOf = (topic: string, partition: number) => `${topic}[${partition}]`;
  const waiting = () => [...lag.values()].reduce((n, { high, next }) => n + (high > next ? high - next : 0n), 0n);

  events.on('projector.fetched', ({ topic, partition, highWatermark, firstOffset }) => {
    const key = keyOf(topic, partition);
    if (waiting() === 0n) progressAt = now();
    lag.set(key, { high: BigInt(highWatermark), next: lag.get(key)?.next ?? BigInt(firstOffset) });
  });
  events.on('projector.checkpoint', ({ topic, partition, nextOffset, highWatermark }) => {
    progressAt = now();
    lag.set(keyOf(topic, partition), { high: BigInt(highWatermark), next: BigInt(nextOffset) });
  });
  events.on('projector.stalled', ({ topic, partition, code, reason }) => stalled.set(keyOf(topic, partition), `${code} ${reason}`));
  events.on('projector.unstalled', ({ topic, partition }) => stalled.delete(keyOf(topic, partition)));
  events.on('projector.breaker', ({ open }) => (breakerOpen = open));
  // a partition handed to another member is no longer this one's to wait for
  events.on('projector.assigned', ({ partitions }) => {
    const mine = new Set(partitions.map((p) => keyOf(p.topic, p.partition)));
    for (const key of [...lag.keys(), ...stalled.keys()]) if (!mine.has(key)) (lag.delete(key), stalled.delete(key));
  });

  const reasons = () => {
    const out: string[] = [];
    if (!started()) out.push('starting: resuming from the store');
    for (const [where, why] of stalled) out.push(`stalled ${where}: ${why}`);
    if (breakerOpen) out.push('dead-letter breaker open: most recent records were dead-lettered');
    const behind = waiting();
    if (behind > 0n && now() - progressAt > stuckAfterMs) out.push(`no progress for ${Math.round((now() - progressAt) / 1000)} s with ${behind} records waiting`);
    return out;
  };
  return { ready: () => reasons().length === 0, reasons };
}
