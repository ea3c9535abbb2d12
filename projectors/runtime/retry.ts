// Capped, jittered exponential backoff for transient failures. Everything else is
// rethrown at once: the error's kind (errors.ts) decides.
import { NovaError } from './errors.ts';

export type RetryOptions = {
  initialMs?: number;
  maxMs?: number;
  /** undefined: retry a transient error for as long as it takes (a batch is never dropped) */
  maxAttempts?: number;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  isTransient?: (error: unknown) => boolean;
};

export const isTransient = (error: unknown) => error instanceof NovaError && error.kind === 'transient';

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function retry<T>(work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { initialMs = 100, maxMs = 10_000, maxAttempts, onRetry, sleep = defaultSleep, isTransient: transient = isTransient } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!transient(error) || (maxAttempts !== undefined && attempt >= maxAttempts)) throw error;
      const ceiling = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
      const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      onRetry?.(error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}
