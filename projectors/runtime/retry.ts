// Capped, jittered exponential backoff. How often an error is tried is decided by its kind
// (errors.ts): a transient one for as long as it takes, a bounded one a few times, anything
// else once.
import { NovaError } from './errors.ts';

export type RetryOptions = {
  initialMs?: number;
  maxMs?: number;
  /** how many attempts an error gets in all (Infinity: until it succeeds); default: attemptsFor */
  attempts?: (error: unknown) => number;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Once aborted (the work is no longer this process's: its partition was revoked), no attempt
   * starts and a backoff ends at once: the signal's reason is thrown. An attempt running ends first.
   */
  signal?: AbortSignal;
};

export const isTransient = (error: unknown) => error instanceof NovaError && error.kind === 'transient';

/** Attempts a bounded error gets before the caller splits its batch. */
export const boundedAttempts = 4;

/** Transient: until it succeeds (a batch is never dropped); bounded: a few; the rest: once. */
export const attemptsFor = (error: unknown): number =>
  error instanceof NovaError ? (error.kind === 'transient' ? Infinity : error.kind === 'bounded' ? boundedAttempts : 1) : 1;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits `ms`, cut short when `signal` aborts (then rejects with its reason). */
export const sleepUnlessAborted = (ms: number, signal?: AbortSignal): Promise<void> => (signal?.aborted ? Promise.reject(signal.reason) : pause(ms, defaultSleep, signal));

/** sleep(ms), cut short when the signal aborts (then rejects with its reason) */
function pause(ms: number, sleep: (ms: number) => Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleep(ms);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    sleep(ms).then(() => (signal.removeEventListener('abort', onAbort), resolve()), reject);
  });
}

export async function retry<T>(work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { initialMs = 100, maxMs = 10_000, attempts = attemptsFor, onRetry, sleep = defaultSleep, signal } = options;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts(error)) throw error;
      signal?.throwIfAborted();
      const ceiling = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
      const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      onRetry?.(error, attempt, delayMs);
      await pause(delayMs, sleep, signal);
    }
  }
}
