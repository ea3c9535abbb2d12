// Kills at random moments of a working process, for the kill -9 tests: the workload's progress
// callback (onProgress) names the targets. At each one the workload waits until the process
// holds its partitions (the only member of its consumer group, not the one killed last: a
// restarted member first waits out the dead one's session, ~10 s), then goes on writing while
// the kill lands 0-1.5 s later. A kill made while the workload waited would mostly meet a
// process that had caught up and sat idle; a gate on records applied could wait forever once
// the process had applied everything written. At each kill it notes how many records the
// killed process left waiting; finished() requires some kill to have left some, so a run whose
// kills all met idle processes fails.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { AssignerProtocol, type Admin } from 'kafkajs';
import { waitFor } from '../../../scripts/stack.d/test/stack.ts';
import { endOffsets } from './caught-up.ts';

export type RandomKills = {
  /** the workload's onProgress */
  onProgress: (done: number) => Promise<void>;
  /**
   * Once the workload has ended: waits for the kill in flight, makes the kills still due, and
   * throws what a kill threw or that no kill left records waiting. Returns a line per kill.
   */
  finished: () => Promise<string[]>;
};

const members = async (admin: Admin, groupId: string) => (await admin.describeGroups([groupId])).groups[0];

/** Once the group is stable with one member alone, none of `dead`, assigned partitions. */
async function soleLiveMember(admin: Admin, groupId: string, dead: Set<string>): Promise<void> {
  await waitFor(`a new member of ${groupId} to hold the partitions`, async () => {
    const group = await members(admin, groupId);
    const [member, ...others] = group?.members ?? [];
    if (group?.state !== 'Stable' || !member || others.length > 0 || dead.has(member.memberId)) return undefined;
    const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment ?? {};
    return Object.values(assignment).some((partitions) => partitions.length > 0) ? true : undefined;
  }, 120_000);
}

export function randomKills(options: {
  at: number[];
  admin: Admin;
  /** the projector's consumer group (source/kafkajs-source.ts: projectorGroup) */
  groupId: string;
  /** the topics it reads, whose end offsets less what it applied are the records it left waiting */
  topics: string[];
  /** kills the process, starts the next, and returns the records the killed one applied (its stored checkpoints summed) */
  kill: (done: number) => Promise<bigint>;
  /** checks of the running process before it is killed (it holds its partitions by then) */
  atWork?: (done: number) => Promise<unknown>;
  maxDelayMs?: number;
}): RandomKills {
  const { at, admin, groupId, topics, kill, atWork, maxDelayMs = 1_500 } = options;
  const started = Date.now();
  const kills: Array<{ line: string; waiting: bigint }> = [];
  let next = 0;
  /** every member the group listed when a kill landed: the dead stay listed until their session expires */
  const dead = new Set<string>();
  let pending: Promise<void> | undefined;
  let failure: unknown;
  const delay = () => new Promise<void>((resolve) => setTimeout(resolve, randomInt(0, maxDelayMs + 1)));
  const killNow = async (done: number) => {
    for (const member of (await members(admin, groupId))?.members ?? []) dead.add(member.memberId);
    // the topics' ends as the kill lands, not after the next process started
    const ends = [...(await endOffsets(admin, topics)).values()].reduce((a, b) => a + b, 0n);
    const applied = await kill(done);
    const waiting = ends - applied;
    kills.push({ waiting, line: `statement ${done} at ${((Date.now() - started) / 1000).toFixed(1)} s: ${applied} records applied, ${waiting} waiting` });
  };
  return {
    async onProgress(done) {
      // a target met while a kill is in flight slips to the first progress call after it: the
      // workload never stalls under a kill about to land
      if (pending || failure !== undefined || next >= at.length || done < (at[next] as number)) return;
      next++;
      await soleLiveMember(admin, groupId, dead);
      await atWork?.(done);
      pending = delay()
        .then(() => killNow(done))
        .catch((error: unknown) => void (failure = error))
        .finally(() => (pending = undefined));
    },
    async finished() {
      await pending;
      if (failure !== undefined) throw failure;
      // targets that slipped past the workload's end (a fast workload runs out under a kill's
      // delay): killed now, each once its successor holds the partitions; these may meet a process
      // with little left to do, which the check below does not count on
      for (; next < at.length; next++) {
        await soleLiveMember(admin, groupId, dead);
        await atWork?.(at[next] as number);
        await delay();
        await killNow(at[next] as number);
      }
      const lines = kills.map((k) => k.line);
      assert.ok(kills.some((k) => k.waiting > 0n), `some kill left records waiting for the process it killed: ${lines.join('; ')}`);
      return lines;
    },
  };
}
