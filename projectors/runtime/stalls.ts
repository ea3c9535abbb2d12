// Partitions that stopped loudly: a fault outside their records (a registry that has no schema,
// a writer schema that does not resolve, a gap in the topic, a record the store keeps failing
// even alone). A stalled partition is paused at the source; the others flow on. Unless the
// stall is permanent (a gap never heals), the partition is tried again after a backoff that
// doubles up to a ceiling; its first batch applied after that clears the stall.
import type { Logger } from 'pino';
import type { ErrorCode } from './errors.ts';
import type { ProjectorEventBus } from './events.ts';
import type { Source } from './source/source.ts';

export type PartitionRef = { topic: string; partition: number };

export type Stalls = {
  /** pauses the partition; it is tried again after a backoff (or `retryInMs`), unless `permanent` */
  stall(where: PartitionRef, why: { code: ErrorCode; reason: string }, options?: { permanent?: boolean; retryInMs?: number }): void;
  /** true while its records must not be applied (not while it is being tried again) */
  isStalled(topic: string, partition: number): boolean;
  /** a batch of the partition was applied: a stall it was in is over */
  applied(topic: string, partition: number): void;
  stop(): void;
};

type State = { attempts: number; retrying: boolean; permanent: boolean; timer?: NodeJS.Timeout };

export function createStalls(options: {
  source: Source;
  events: ProjectorEventBus;
  log: Logger;
  /** where a partition reads from again: the store's checkpoint (undefined: where it stopped) */
  resumeAt: (topic: string, partition: number) => string | undefined;
  initialMs?: number;
  maxMs?: number;
}): Stalls {
  const { source, events, log, resumeAt, initialMs = 5_000, maxMs = 5 * 60_000 } = options;
  const states = new Map<string, State>();
  const keyOf = (topic: string, partition: number) => `${topic}:${partition}`;

  return {
    stall({ topic, partition }, { code, reason }, { permanent = false, retryInMs: given } = {}) {
      const key = keyOf(topic, partition);
      const state = states.get(key) ?? { attempts: 0, retrying: false, permanent: false };
      // a gap never heals: nothing (the breaker's stall of every partition) makes it retry
      if (state.permanent) return;
      if (state.timer) clearTimeout(state.timer);
      state.permanent = permanent;
      state.attempts += 1;
      state.retrying = false;
      states.set(key, state);
      source.pause(topic, partition);
      const retryInMs = permanent ? null : (given ?? Math.min(maxMs, initialMs * 2 ** (state.attempts - 1)));
      events.emit('projector.stalled', { topic, partition, code, reason, retryInMs });
      log.error({ stage: 'source', topic, partition, code, retryInMs }, `partition stalled: ${reason}`);
      if (retryInMs === null) return;
      state.timer = setTimeout(() => {
        state.timer = undefined;
        state.retrying = true;
        log.info({ stage: 'source', topic, partition, code }, 'trying a stalled partition again');
        source.resume(topic, partition, resumeAt(topic, partition));
      }, retryInMs);
      state.timer.unref();
    },
    isStalled: (topic, partition) => {
      const state = states.get(keyOf(topic, partition));
      return state !== undefined && !state.retrying;
    },
    applied(topic, partition) {
      const key = keyOf(topic, partition);
      if (!states.get(key)?.retrying) return;
      states.delete(key);
      events.emit('projector.unstalled', { topic, partition });
      log.info({ stage: 'source', topic, partition }, 'stalled partition flows again');
    },
    stop() {
      for (const state of states.values()) if (state.timer) clearTimeout(state.timer);
    },
  };
}
