// Kills at random moments of a working process, for the kill -9 tests: the workload's progress
// callback (onProgress) names the targets; at each one the workload waits until the process is
// at work (`atWork`: a restarted member first waits out the dead one's session, ~10 s, to get
// its partitions), then goes on writing while the kill lands 0-1.5 s later. A kill made while
// the workload waited would mostly meet a process that had caught up and sat idle.
import { randomInt } from 'node:crypto';

export type RandomKills = {
  /** the workload's onProgress */
  onProgress: (done: number) => Promise<void>;
  /** once the workload has ended: waits for the kill in flight; throws what a kill threw, or that a target was never reached */
  finished: () => Promise<void>;
};

export function randomKills(options: { at: number[]; atWork: (done: number) => Promise<unknown>; kill: (done: number) => Promise<void>; maxDelayMs?: number }): RandomKills {
  const { at, atWork, kill, maxDelayMs = 1_500 } = options;
  let next = 0;
  let pending: Promise<void> | undefined;
  let failure: unknown;
  const delay = () => new Promise<void>((resolve) => setTimeout(resolve, randomInt(0, maxDelayMs + 1)));
  return {
    async onProgress(done) {
      if (failure !== undefined || next >= at.length || done < (at[next] as number)) return;
      // a kill still in flight lands first (the workload waits for the rest of its delay)
      await pending;
      next++;
      await atWork(done);
      pending = delay()
        .then(() => kill(done))
        .catch((error: unknown) => void (failure = error))
        .finally(() => (pending = undefined));
    },
    async finished() {
      await pending;
      if (failure !== undefined) throw failure;
      // targets lie well before the workload's end (a progress call each): one left is a test's mistake
      if (next < at.length) throw new Error(`the workload ended before kill ${next + 1}'s target, statement ${at[next]}`);
    },
  };
}
