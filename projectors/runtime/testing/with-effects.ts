// For crash fixtures (crash-child.ts): whether the sink call running now carries effects. A call
// of checkpoints alone (a partition's first checkpoint on assignment, a batch of tombstones) has
// no window between effects and checkpoint, so a fixture crashing there proves nothing.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Sink } from '../sink.ts';

const call = new AsyncLocalStorage<{ effects: boolean }>();

/** True inside an apply of a sink from markEffects that was given ops. */
export const callHasEffects = (): boolean => call.getStore()?.effects === true;

/** The sink, each apply run where callHasEffects can tell whether it was given ops. */
export function markEffects<Op, S extends Sink<Op>>(sink: S): S {
  return { ...sink, apply: (ops, checkpoints, onRejected, sinkCall) => call.run({ effects: ops.length > 0 }, () => sink.apply(ops, checkpoints, onRejected, sinkCall)) };
}
