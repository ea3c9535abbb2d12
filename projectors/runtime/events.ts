// What the runtime reports, as typed events. Metrics, logs and `status` listen; the
// pipeline never waits on them, and a listener that throws is logged, not fatal.
import { EventEmitter } from 'node:events';
import type { Checkpoint } from './sink.ts';
import type { AssignedPartition } from './source/source.ts';

export type ProjectorEvents = {
  'projector.batch_applied': {
    topic: string;
    partition: number;
    firstOffset: string;
    lastOffset: string;
    changes: number;
    ops: number;
    durationMs: number;
    /** source commit to visible in the store, per change */
    freshnessMs: number[];
  };
  'projector.checkpoint': Checkpoint & { highWatermark: string };
  /** records of a partition arrived that are not applied yet (the first of them, and the partition's end) */
  'projector.fetched': { topic: string; partition: number; highWatermark: string; firstOffset: string; firstTimestamp: number | null };
  /** partitions handed to this process, with what their topics retain */
  'projector.assigned': { partitions: AssignedPartition[] };
  'projector.dead_letter': { topic: string; partition: number; offset: string; code: string; reason: string };
  'projector.retry': { stage: string; attempt: number; delayMs: number; error: string };
  /** a partition stopped loudly (stalls.ts); retryInMs null: until an operator repairs it */
  'projector.stalled': { topic: string; partition: number; code: string; reason: string; retryInMs: number | null };
  'projector.unstalled': { topic: string; partition: number };
  /** the dead-letter breaker (breaker.ts) opened or closed */
  'projector.breaker': { open: boolean; coolDownMs: number };
  /**
   * a streamed change earlier in commit order than its partition's checkpoint: Connect re-sent
   * records after a crash (harmless, brief), or the source restarted its positions lower (a
   * restore, an upgrade) and every later change is refused until the epoch is bumped
   */
  'projector.order_regression': { topic: string; partition: number; offset: string; commitOrder: bigint; checkpointOrder: bigint };
  /**
   * records whose sink call was given up because their partition was revoked (a rebalance: another
   * instance joined or left) before it succeeded; their new owner applies them from the store's
   * checkpoint, so some of them may be applied twice
   */
  'projector.abandoned': { topic: string; partition: number; firstOffset: string; lastOffset: string };
  'projector.crash': { error: string };
};

export type EventName = keyof ProjectorEvents;

export class ProjectorEventBus {
  readonly #emitter = new EventEmitter();
  readonly #onListenerError: (error: unknown, event: EventName) => void;

  constructor(onListenerError: (error: unknown, event: EventName) => void) {
    this.#onListenerError = onListenerError;
  }

  on<E extends EventName>(event: E, listener: (payload: ProjectorEvents[E]) => void): void {
    this.#emitter.on(event, (payload: ProjectorEvents[E]) => {
      try {
        listener(payload);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    });
  }

  emit<E extends EventName>(event: E, payload: ProjectorEvents[E]): void {
    this.#emitter.emit(event, payload);
  }
}
