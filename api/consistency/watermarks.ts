// Read-your-writes across the views: has every view a read touches applied the write whose
// token the reader holds? The rule, and why it is exact:
//
// 1. The token T is a WAL position past the write's commit (db.ts). Wait until the Debezium
//    slot's confirmed_flush_lsn >= T. Debezium confirms a position only once Kafka Connect has
//    committed the offsets of every record before it, and Connect commits a record's offset only
//    once Kafka acknowledged that record and every one before it; pgoutput sends transactions
//    in commit order. So every change of the write is in its topic now. (The write's own commit
//    sits below T, so only a later position moves the slot past T. Debezium moves its offset
//    only with a record it emits, which the heartbeat is when the projected tables are quiet:
//    so an idle wait takes up to heartbeat.interval.ms plus offset.flush.interval.ms, 500 + 250
//    ms as configured. Writing a row of a table the connector does not capture moves nothing:
//    measured, the slot then advanced only every heartbeat.)
// 2. Only then read the end offset E(p) of every partition p of the view's topics: each of the
//    write's records sits below E(p) of its partition, whichever partition its key hashed to.
// 3. Wait until the view's checkpoint for every partition is >= E(p). A store writes its
//    checkpoint with, or after, the effects of everything below it, so the write is applied.
//    A quiet partition is no trap: nothing new arrived, so E(p) is where its checkpoint already
//    is. What this costs: the reader also waits for other writers' records below E(p).
//
// Caveat on step 1 (README, Known limitations): Debezium confirms the offset of the last record
// Connect acknowledged, and records the heartbeat filter drops are acknowledged at once; with one
// broker the producer acknowledges in send order, so nothing earlier is still in flight.
// Exact with several brokers: compare with Connect's committed offsets instead.
//
// A step that fails (PostgreSQL, Kafka or a store away) is retried until the deadline, and the
// view then counts as lagging: the route answers stale or 503 as it documents, never a 500.
//
// Checkpoints only grow, so a checkpoint read at any time that is >= E(p) proves step 3; a slot
// position read at any time that is >= T proves step 1: both are shared by every waiter. The
// end offsets must be read after step 1 was seen: a fetch is shared only by waiters whose token
// the slot had passed before it started.
import type pg from 'pg';
import type { Admin } from 'kafkajs';
import type { Checkpoint } from '../../projectors/runtime/sink.ts';
import { shared, stuckMs } from '../../projectors/runtime/shared-read.ts';
import { lsnFromText } from './token.ts';

/** A view as the waiter sees it: the topics its projector reads and its applied positions. */
export type ViewPosition = { name: string; topics: readonly string[]; checkpoints(): Promise<Checkpoint[]> };

export type WaitOutcome = { applied: boolean; waitedMs: number; lagging: string[] };

export type Watermarks = {
  /** Resolves once every named view has applied the write at `token`, or at the deadline with the ones that had not. */
  waitFor(token: bigint, views: readonly string[], timeoutMs: number): Promise<WaitOutcome>;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const timedOut: unique symbol = Symbol('timed out');
const failed: unique symbol = Symbol('failed');

/**
 * `work`, or failed if it throws or gives no answer within stuckMs (tried again: shared() then
 * starts a new read), or timedOut once `deadline`
 * passes first: a store that hangs cannot hold a reader past its bound, nor one read hold it.
 */
async function before<T>(deadline: number, work: () => Promise<T>, onError: (error: unknown) => void): Promise<T | typeof timedOut | typeof failed> {
  let timer: NodeJS.Timeout | undefined;
  const left = Math.max(0, deadline - Date.now());
  const late = new Promise<typeof timedOut | typeof failed>((resolve) => (timer = setTimeout(() => {
    if (left <= stuckMs) return resolve(timedOut);
    onError(new Error(`no answer within ${stuckMs} ms`));
    resolve(failed);
  }, Math.min(left, stuckMs))));
  try {
    return await Promise.race([Promise.resolve().then(work).catch((error: unknown): typeof failed => {
        onError(error);
        return failed;
      }), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function createWatermarks(options: { pool: pg.Pool; admin: Admin; slot: string; views: readonly ViewPosition[]; pollMs?: number; onError: (error: unknown, step: string) => void }): Watermarks {
  const { pool, admin, slot, pollMs = 20, onError } = options;
  const views = new Map(options.views.map((view) => [view.name, view]));
  // the highest slot position seen so far: an end-offset fetch started after it was seen is
  // valid for every token at or below it
  let slotSeen = -1n;
  const slotPosition = shared(async () => {
    const { rows } = await pool.query<{ lsn: string | null }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    const lsn = rows[0]?.lsn;
    const position = lsn ? lsnFromText(lsn) : -1n;
    if (position > slotSeen) slotSeen = position;
    return position;
  }, pollMs);
  const checkpoints = new Map([...views.values()].map((view) => [view.name, shared(view.checkpoints, pollMs)]));

  const fetchEnds = async (topics: readonly string[]) => {
    const ends = new Map<string, bigint>();
    const perTopic = await Promise.all(topics.map(async (topic) => [topic, await admin.fetchTopicOffsets(topic)] as const));
    for (const [topic, offsets] of perTopic) for (const { partition, high } of offsets) ends.set(`${topic}:${partition}`, BigInt(high));
    return ends;
  };
  // One fetch per view serves every waiter whose token is at or below the slot position seen
  // before it started (`basis`): for them it was read after step 1, as the rule demands.
  const lastEnds = new Map<string, { basis: bigint; value: Promise<Map<string, bigint>> }>();
  const endOffsets = (name: string, token: bigint) => {
    const last = lastEnds.get(name);
    if (last && last.basis >= token) return last.value;
    const entry = { basis: slotSeen, value: fetchEnds(views.get(name)!.topics) };
    entry.value.catch(() => (lastEnds.get(name) === entry ? lastEnds.delete(name) : undefined));
    lastEnds.set(name, entry);
    return entry.value;
  };
  const hasApplied = (applied: Checkpoint[], ends: Map<string, bigint>) => {
    const next = new Map(applied.map((c) => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
    for (const [partition, end] of ends) if ((next.get(partition) ?? 0n) < end) return false;
    return true;
  };

  return {
    async waitFor(token, names, timeoutMs) {
      const started = Date.now();
      const deadline = started + timeoutMs;
      const outcome = (lagging: string[]) => ({ applied: lagging.length === 0, waitedMs: Date.now() - started, lagging });
      // a poll never sleeps past the deadline
      const pause = () => sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
      for (const name of names) if (!views.has(name)) throw new Error(`no view ${name} to wait for`);
      // step 1
      for (;;) {
        const position = await before(deadline, slotPosition, (error) => onError(error, 'slot'));
        if (position === timedOut || Date.now() >= deadline) return outcome([...names]);
        if (position !== failed && position >= token) break;
        await pause();
      }
      // step 2, after step 1
      const waiting = new Map<string, Map<string, bigint>>();
      for (const name of names) {
        for (;;) {
          const ends = await before(deadline, () => endOffsets(name, token), (error) => onError(error, 'end offsets'));
          if (ends === timedOut || (ends === failed && Date.now() >= deadline)) return outcome([...names]);
          if (ends !== failed) {
            waiting.set(name, ends);
            break;
          }
          await pause();
        }
      }
      // step 3
      for (;;) {
        for (const [name, ends] of waiting) {
          const applied = await before(deadline, checkpoints.get(name)!, (error) => onError(error, `${name} checkpoints`));
          if (applied !== timedOut && applied !== failed && hasApplied(applied, ends)) waiting.delete(name);
        }
        if (waiting.size === 0 || Date.now() >= deadline) return outcome([...waiting.keys()]);
        await pause();
      }
    },
  };
}
