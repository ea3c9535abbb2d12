// A Sink whose transient failures (store down, timeouts) are retried with backoff until
// they succeed: a batch is never dropped while it is this process's. Once the call's
// partitions are revoked (its signal) it stops retrying: their new owner applies the batch from
// the store's checkpoint. Fatal ones pass through and stop the process.
import { retry, type RetryOptions } from '../retry.ts';
import type { Sink } from '../sink.ts';

export function withRetry<Op, S extends Sink<Op>>(sink: S, options: RetryOptions): S {
  const wrapped: S = Object.create(sink);
  wrapped.apply = (ops, checkpoints, onRejected, call) => retry(() => sink.apply(ops, checkpoints, onRejected, call), { ...options, signal: call?.signal ?? options.signal });
  return wrapped;
}
