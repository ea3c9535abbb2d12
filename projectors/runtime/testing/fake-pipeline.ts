// Pure test doubles for the runtime's own unit tests (run-projector.test.ts): a partitioned log
// behind the Source port, a decoder that reads JSON, and an in-memory sink that can be told to
// fail. Not a Kafka or store emulator: they model only what the ports promise.
import pino from 'pino';
import type { DeadLetter } from '../dead-letter.ts';
import type { Change, DecodeRecord, RawRecord } from '../decode/index.ts';
import { NovaError, codes, type ErrorKind } from '../errors.ts';
import { ProjectorEventBus } from '../events.ts';
import type { Checkpoint, CheckpointStore, ProjectorDefinition, Sink, StoreOp } from '../sink.ts';
import type { AssignedPartition, Source, SourceRunOptions } from '../source/source.ts';

/** What a test record carries (the fake decoder turns it into a Change). */
export type FakeRow = { id: number; value: string; version?: number; order?: number; epoch?: number; since?: number; op?: Change['op'] };

/** A partitioned log: records per partition, and what retention has deleted (low). */
export class FakeLog {
  readonly partitions = new Map<number, { low: number; records: RawRecord[] }>();
  constructor(readonly topic = 't') {}
  append(partition: number, ...rows: (FakeRow | Buffer)[]): void {
    const p = this.partitions.get(partition) ?? { low: 0, records: [] };
    for (const row of rows) {
      const offset = String(p.records.length);
      p.records.push({ topic: this.topic, partition, offset, key: null, value: Buffer.isBuffer(row) ? row : Buffer.from(JSON.stringify(row)), timestamp: String(Date.now()) });
    }
    this.partitions.set(partition, p);
  }
  cut(partition: number, low: number): void {
    (this.partitions.get(partition) as { low: number }).low = low;
  }
}

/**
 * A Source over a FakeLog: one assignment of every partition, batches of `batchSize` until `stop`.
 * Each round hands every partition with records in one batch. By default one after the other (the
 * next partition only once the previous one's onBatch settled); with `concurrent` all of a round's
 * partitions at once, and the next round once they all settled, as kafkajs's eachBatch does with
 * partitionsConsumedConcurrently: only then do several partitions share a sink call.
 *
 * A rebalance as kafkajs makes one (eagerly): `revoke()` aborts the batches' `revoked` signal, as
 * a heartbeat that hears of a rebalance does; `rebalance(partitions)` revokes, waits for the
 * round in flight to settle, then assigns `partitions` (onAssign, then each read from startAt).
 */
export function fakeSource(log: FakeLog, batchSize = 3, { concurrent = false }: { concurrent?: boolean } = {}) {
  const paused = new Set<number>();
  const positions = new Map<number, number>();
  const calls: string[] = [];
  /** heartbeats sent while a batch was being applied (the group membership kept alive) */
  let heartbeats = 0;
  let running = false;
  let wake: () => void = () => {};
  let ownership = new AbortController();
  /** the partitions held; undefined: every partition of the log */
  let held: number[] | undefined;
  let pending: { partitions: number[]; done: () => void } | undefined;
  /** partitions read since the last assignment: `calls` notes where each first read started, and every seek */
  const reads = new Set<number>();
  const source: Source & { calls: string[]; heartbeats: () => number; revoke(): void; rebalance(partitions: number[]): Promise<void> } = {
    calls,
    heartbeats: () => heartbeats,
    revoke() {
      ownership.abort(new Error('revoked by a rebalance'));
    },
    rebalance(partitions) {
      source.revoke();
      return new Promise<void>((done) => {
        pending = { partitions, done };
        wake();
      });
    },
    async run({ startAt, onAssign, onBatch }: SourceRunOptions) {
      running = true;
      const assign = async () => {
        ownership = new AbortController();
        const ranges: AssignedPartition[] = [...log.partitions]
          .filter(([partition]) => held === undefined || held.includes(partition))
          .map(([partition, p]) => ({ topic: log.topic, partition, low: String(p.low), high: String(p.records.length), retentionMs: 60_000 }));
        calls.push(`assign ${ranges.map((r) => r.partition).join(',')}`);
        reads.clear();
        await onAssign(ranges);
        for (const { partition, low } of ranges) positions.set(partition, Number(startAt(log.topic, partition) ?? low));
      };
      await assign();
      /** Hands in one partition's next batch, if it has one and is not paused; false if not. */
      const deliver = async (partition: number, p: { low: number; records: RawRecord[] }): Promise<boolean> => {
        const at = Math.max(positions.get(partition) ?? 0, p.low);
        // revoked: nothing more until the next assignment, as kafkajs fetches nothing while it rejoins
        if (ownership.signal.aborted || paused.has(partition) || at >= p.records.length || (held !== undefined && !held.includes(partition))) return false;
        const records = p.records.slice(at, at + batchSize);
        if (at !== positions.get(partition) || !reads.has(partition)) calls.push(`read ${partition}@${at}`);
        reads.add(partition);
        const { signal } = ownership;
        await onBatch({ topic: log.topic, partition, records, highWatermark: String(p.records.length), heartbeat: async () => void heartbeats++, revoked: signal });
        if (!paused.has(partition) && !signal.aborted) positions.set(partition, at + records.length);
        return true;
      };
      while (running) {
        if (pending) {
          const { partitions, done } = pending;
          pending = undefined;
          held = partitions;
          await assign();
          done();
        }
        let delivered = false;
        if (concurrent) {
          delivered = (await Promise.all([...log.partitions].map(([partition, p]) => deliver(partition, p)))).some(Boolean);
        } else {
          for (const [partition, p] of log.partitions) if (await deliver(partition, p)) delivered = true;
        }
        if (!delivered && !pending) await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, 5)));
      }
    },
    async commit() {},
    pause(_topic, partition) {
      calls.push(`pause ${partition}`);
      paused.add(partition);
    },
    resume(_topic, partition, offset) {
      calls.push(`resume ${partition}@${offset}`);
      paused.delete(partition);
      if (offset !== undefined) positions.set(partition, Number(offset));
      wake();
    },
    async stop() {
      running = false;
      wake();
    },
  };
  return source;
}

/** Decodes a FakeRow; a record whose value is not JSON throws the error `unreadable` says. */
export function fakeDecoder(unreadable: (record: RawRecord) => NovaError = () => new NovaError('poison', codes.undecodable, 'not json')): DecodeRecord {
  return async (record) => {
    let row: FakeRow;
    try {
      row = JSON.parse((record.value as Buffer).toString()) as FakeRow;
    } catch {
      throw unreadable(record);
    }
    const epoch = BigInt(row.epoch ?? 0) << 56n;
    const op = row.op ?? 'update';
    return {
      kind: 'change',
      op,
      table: 'public.t',
      key: { id: row.id },
      before: null,
      after: { id: row.id, value: row.value },
      version: op === 'read' ? 0n : epoch | BigInt(row.version ?? Number(record.offset) + 1),
      commitOrder: epoch | BigInt(row.order ?? row.version ?? Number(record.offset) + 1),
      streamSince: row.since ?? 0,
      txId: null,
      commitTs: new Date(),
      position: { topic: record.topic, partition: record.partition, offset: record.offset },
    };
  };
}

/** What the fake store does with one call: refuse some ops (onRejected), then fail, or apply the rest. */
export type Behaviour = { reject?: (op: FakeOp) => boolean; fail?: ErrorKind };

/** A store in memory: values by id, the newest version wins; `behave` decides each call. */
export function fakeSink(behave: (ops: StoreOp<FakeOp>[]) => Behaviour = () => ({})) {
  const rows = new Map<number, { value: string; version: bigint }>();
  const saved = new Map<string, Checkpoint>();
  /** every apply call, in order, failed ones too: the ops and the checkpoints it was handed */
  const calls: { ops: FakeOp[]; checkpoints: Checkpoint[] }[] = [];
  const sink: Sink<FakeOp> & CheckpointStore & { rows: typeof rows; saved: typeof saved; calls: typeof calls } = {
    rows,
    saved,
    calls,
    async apply(ops, checkpoints, onRejected) {
      calls.push({ ops: ops.map(({ op }) => op), checkpoints: checkpoints.map((c) => ({ ...c })) });
      const { reject = () => false, fail } = behave(ops);
      const refused = ops.filter(({ op }) => reject(op));
      if (refused.length > 0) await onRejected(refused.map(({ change }) => ({ position: change.position, reason: 'refused' })));
      if (fail) throw new NovaError(fail, fail === 'bounded' ? codes.storeTimeout : codes.storeUnavailable, `the fake store says ${fail}`);
      for (const { op } of ops) {
        const held = rows.get(op.id);
        if (!reject(op) && (!held || op.version > held.version)) rows.set(op.id, { value: op.value, version: op.version });
      }
      for (const c of checkpoints) saved.set(`${c.topic}:${c.partition}`, c);
    },
    async load() {
      return [...saved.values()];
    },
    async close() {},
  };
  return sink;
}

export type FakeOp = { id: number; value: string; version: bigint };

export const fakeDefinition: ProjectorDefinition<FakeOp> = {
  name: 'fake',
  topics: ['t'],
  mapping: (change) => {
    if (change.after?.['value'] === 'unmappable') throw new Error('cannot map this one');
    return [{ id: Number(change.key?.['id']), value: String(change.after?.['value']), version: change.version }];
  },
  createSink: async () => fakeSink(),
};

/** A dead-letter topic in memory: the letters sent, in order. */
export function fakeDeadLetter() {
  const letters: { offset: string; partition: number; code: string }[] = [];
  const deadLetter: DeadLetter & { letters: typeof letters } = {
    letters,
    send: async (record, error) => void letters.push({ offset: record.offset, partition: record.partition, code: error.code }),
    close: async () => {},
  };
  return deadLetter;
}

export const quietLog = () => pino({ level: 'silent' });

export const eventBus = () =>
  new ProjectorEventBus((error) => {
    throw error;
  });
