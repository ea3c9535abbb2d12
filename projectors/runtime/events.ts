// What the runtime reports, as typed events. Metrics, logs and `status` listen; the
// pipeline never waits on them, and a listener that throws is logged, not fatal.
import { EventEmitter } from 'node:events';
import type { Checkpoint } from './sink.ts';

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
  'projector.dead_letter': { topic: string; partition: number; offset: string; code: string; reason: string };
  'projector.retry': { stage: string; attempt: number; delayMs: number; error: string };
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
