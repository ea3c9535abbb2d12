// A view always lags PostgreSQL a little, so a key that differs may only be in flight. Drift is
// what still differs after the projector has caught up with everything committed by then: the
// differing keys are compared again, alone, after each catch-up, `rounds` times at most.
import type { CompareWithPostgres, Drift, DriftKeys } from '../sink.ts';

export type FindDriftOptions = {
  compare: CompareWithPostgres;
  generation: number;
  env: NodeJS.ProcessEnv;
  /** resolves once the generation holds everything committed when it was called */
  caughtUp: () => Promise<void>;
  rounds?: number;
};

export const keysOf = (drift: Drift[]): DriftKeys => {
  const keys: DriftKeys = new Map();
  for (const { view, key } of drift) (keys.get(view) ?? keys.set(view, new Set()).get(view)!).add(key);
  return keys;
};

export async function findDrift({ compare, generation, env, caughtUp, rounds = 3 }: FindDriftOptions): Promise<{ drift: Drift[]; rechecks: number }> {
  let drift = await compare({ generation, env });
  let rechecks = 0;
  while (drift.length > 0 && rechecks < rounds) {
    await caughtUp();
    drift = await compare({ generation, env, only: keysOf(drift) });
    rechecks += 1;
  }
  return { drift, rechecks };
}
