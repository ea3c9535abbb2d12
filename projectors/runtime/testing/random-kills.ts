// Kills at random moments of a working process, for the kill -9 tests: the workload's progress
// callback (onProgress) names the targets. At each one the workload waits until the process
// holds its partitions (the only member of its consumer group, not the one killed last: a
// restarted member first waits out the dead one's session, ~10 s), then goes on writing while
// the kill lands 0-1.5 s later. A kill made while the workload waited would mostly meet a
// process that had caught up and sat idle; a gate on records applied could wait forever once
// the process had applied everything written.
import { randomInt } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { waitFor } from '../../../scripts/stack.d/test/stack.ts';

export type RandomKills = {
  /** the workload's onProgress */
  onProgress: (done: number) => Promise<void>;
  /** once the workload has ended: waits for the kill in flight; throws what a kill threw, or that a target was never reached */
  finished: () => Promise<void>;
};

/** The one member of `groupId` holding partitions, once the group is stable with it alone and it is not `not`. */
async function soleMember(admin: Admin, groupId: string, not: string | undefined): Promise<string> {
  return waitFor(`a new member of ${groupId} to hold the partitions`, async () => {
    const [group] = (await admin.describeGroups([groupId])).groups;
    const [member, ...others] = group?.members ?? [];
    if (group?.state !== 'Stable' || !member || others.length > 0 || member.memberId === not || member.memberAssignment.length === 0) return undefined;
    return member.memberId;
  }, 120_000);
}

export function randomKills(options: {
  at: number[];
  admin: Admin;
  /** the projector's consumer group: nova-projector-<name>-g<generation> */
  groupId: string;
  kill: (done: number) => Promise<void>;
  /** checks of the running process before it is killed (it holds its partitions by then) */
  atWork?: (done: number) => Promise<unknown>;
  maxDelayMs?: number;
}): RandomKills {
  const { at, admin, groupId, kill, atWork, maxDelayMs = 1_500 } = options;
  let next = 0;
  let killed: string | undefined;
  let pending: Promise<void> | undefined;
  let failure: unknown;
  const delay = () => new Promise<void>((resolve) => setTimeout(resolve, randomInt(0, maxDelayMs + 1)));
  return {
    async onProgress(done) {
      if (failure !== undefined || next >= at.length || done < (at[next] as number)) return;
      // a kill still in flight lands first (the workload waits for the rest of its delay)
      await pending;
      next++;
      const member = await soleMember(admin, groupId, killed);
      await atWork?.(done);
      pending = delay()
        .then(async () => {
          killed = member;
          await kill(done);
        })
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
