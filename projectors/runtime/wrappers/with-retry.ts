// A Sink whose transient failures (store down, timeouts) are retried with backoff until
// they succeed: a batch is never dropped. Fatal ones pass through and stop the process.
import { retry, type RetryOptions } from '../retry.ts';
import type { Sink } from '../sink.ts';

export function withRetry<Op, S extends Sink<Op>>(sink: S, options: RetryOptions): S {
  const wrapped: S = Object.create(sink);
  wrapped.apply = (ops, checkpoints, onRejected) => retry(() => sink.apply(ops, checkpoints, onRejected), options);
  return wrapped;
}
