// The projector loop: source -> decode -> map -> batch -> sink -> checkpoint. The only
// place the wrappers are stacked, and where each class of failure (errors.ts) gets its answer:
// a transient one is retried until it passes, a bounded one splits the sink call down to one
// record, a poison record is dead-lettered (once) and passed, and a stall stops only its
// partition, loudly, while the others flow on. Several instances of a projector share its
// partitions (one consumer group): each assignment reads the store's checkpoints again and
// starts every partition there, and the work of a partition revoked meanwhile is abandoned.
import type { Logger } from 'pino';
import { deadLetterBreaker, type DeadLetterBreaker } from './breaker.ts';
import { gather } from './batch/gather.ts';
import { reduceByKey } from './batch/reduce.ts';
import { retainedRangeProblem } from './checkpoint/retained.ts';
import { deadLetterHeaders, type DeadLetter } from './dead-letter.ts';
import { epochOf, type Change, type DecodeRecord, type RawRecord } from './decode/index.ts';
import { NovaError, codes, describePosition, type ErrorCode, type Position } from './errors.ts';
import type { ProjectorEventBus } from './events.ts';
import { retry } from './retry.ts';
import type { Checkpoint, CheckpointStore, ProjectorDefinition, Rejected, Sink, StoreOp } from './sink.ts';
import type { AssignedPartition, Source, SourceBatch } from './source/source.ts';
import { createStalls, type PartitionRef } from './stalls.ts';
import { withRetry } from './wrappers/with-retry.ts';

export type RunProjectorOptions<Op> = {
  definition: ProjectorDefinition<Op>;
  sink: Sink<Op> & CheckpointStore;
  source: Source;
  decode: DecodeRecord;
  deadLetter: DeadLetter;
  events: ProjectorEventBus;
  log: Logger;
  /**
   * A sink call carries at most this many records, from as many partitions as were handed in
   * together (or the fetch closed the batch sooner: bytes, wait time).
   */
  maxBatchRecords?: number;
  /** sink calls running at once; work arriving meanwhile gathers into the next one */
  maxSinkCallsInFlight?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  stallRetryInitialMs?: number;
  stallRetryMaxMs?: number;
  breaker?: DeadLetterBreaker;
  /**
   * A snapshot re-publishes every current row (`rebuild --snapshot`): a partition the generation
   * has applied nothing of may start past records retention deleted.
   */
  snapshotFills?: boolean;
  /**
   * Records of source epochs before this one are passed without being applied: a rebuild after
   * a gap in the stream (a lost replication slot) starts behind it, a snapshot fills the rest.
   */
  skipBeforeEpoch?: number;
  /** the projector's replay topic (dead-letter.ts): consumed beside the sources, its letters decoded as their source topic's */
  replayTopic?: string;
  /** the generation it fills: it applies only the replayed letters its own generation dead-lettered */
  generation?: number;
};

export type RunningProjector = { done: Promise<void>; stop(): Promise<void> };

const positionKey = (topic: string, partition: number) => `${topic}:${partition}`;
const recordKey = ({ topic, partition, offset }: Position) => `${topic}:${partition}@${offset}`;
const nextOffset = (offset: string) => (BigInt(offset) + 1n).toString();

/** One partition's share of a sink call. */
type Part = { batch: SourceBatch; records: RawRecord[] };
/** A record and what it means to the store: nothing (a tombstone, a dead letter, a skipped epoch) or one change. */
type Entry = { record: RawRecord; change?: Change };
/** One partition's prepared records of a call, in offset order. */
type Slice = { batch: SourceBatch; entries: Entry[] };
/** Why a partition stops at an entry: the stall starts there, what precedes it is applied. */
type StallAt = { index: number; code: ErrorCode; reason: string; permanent: boolean };

/** Aborted once any partition of the slices is revoked (with kafkajs' eager rebalancing, all of them are). */
const revokedOf = (slices: Slice[]) => (slices.length === 1 ? (slices[0] as Slice).batch.revoked : AbortSignal.any(slices.map(({ batch }) => batch.revoked)));

const fail = (error: unknown) => (error instanceof NovaError ? error : new NovaError('fatal', codes.storeUnavailable, (error as Error)?.message ?? String(error), { cause: error }));

export async function runProjector<Op>(options: RunProjectorOptions<Op>): Promise<RunningProjector> {
  const { definition, source, decode, deadLetter, events, log, maxBatchRecords = 2000, maxSinkCallsInFlight = 2, retryInitialMs = 100, retryMaxMs = 10_000 } = options;
  const { snapshotFills = false, skipBeforeEpoch, replayTopic, generation, breaker = deadLetterBreaker() } = options;
  // every stage retries the same way; only its name (for logs and events) differs
  const retryAs = (stage: string, signal?: AbortSignal) => ({
    signal,
    initialMs: retryInitialMs,
    maxMs: retryMaxMs,
    onRetry: (error: unknown, attempt: number, delayMs: number) => {
      events.emit('projector.retry', { stage, attempt, delayMs, error: (error as Error).message });
      log.warn({ stage, attempt, delayMs, err: error }, 'failure, retrying');
    },
  });
  const sink = withRetry(options.sink, retryAs('sink'));

  const checkpoints = new Map<string, Checkpoint>();
  const checkpointOf = (topic: string, partition: number) => checkpoints.get(positionKey(topic, partition));
  async function loadCheckpoints() {
    const loaded = await retry(() => options.sink.load(), retryAs('checkpoint'));
    checkpoints.clear();
    for (const c of loaded) checkpoints.set(positionKey(c.topic, c.partition), c);
  }
  await loadCheckpoints();
  log.info({ stage: 'checkpoint', checkpoints: [...checkpoints.values()] }, 'resuming from the store');

  const stalls = createStalls({
    source,
    events,
    log,
    resumeAt: (topic, partition) => checkpointOf(topic, partition)?.nextOffset,
    initialMs: options.stallRetryInitialMs,
    maxMs: options.stallRetryMaxMs,
  });
  const assigned = new Map<string, PartitionRef>();

  // the records dead-lettered lately, so that a call tried again, split, or resumed after a stall
  // does not send the same letter twice (a crash in between still may: letters are at least once)
  const recentLetters = new Set<string>();
  const rememberLetter = (key: string) => {
    recentLetters.add(key);
    if (recentLetters.size > 10_000) recentLetters.delete(recentLetters.values().next().value as string);
  };

  /** Dead-letters a record once, however often its sink call is tried, split or resumed; `sent` counts this call's. */
  async function sendToDeadLetter(record: RawRecord, code: string, reason: string, sent: Set<string>, signal?: AbortSignal) {
    const key = recordKey(record);
    if (sent.has(key)) return;
    sent.add(key);
    if (recentLetters.has(key)) return;
    await retry(() => deadLetter.send(record, { code, reason }), retryAs('dead_letter', signal)).catch((error: unknown) => {
      sent.delete(key);
      throw error;
    });
    rememberLetter(key);
    events.emit('projector.dead_letter', { topic: record.topic, partition: record.partition, offset: record.offset, code, reason });
    log.warn({ stage: 'dead_letter', position: describePosition(record), code, reason }, 'record sent to the dead-letter topic');
  }

  const decodable = (record: RawRecord): RawRecord =>
    record.topic === replayTopic ? { ...record, schemaTopic: record.headers?.[deadLetterHeaders.topic]?.toString() } : record;

  /** Decodes one partition's records; stops at the first one its partition must stall at. */
  async function prepare({ batch, records }: Part, sent: Set<string>): Promise<{ slice: Slice; stall?: StallAt }> {
    const entries: Entry[] = [];
    const replayed = batch.topic === replayTopic;
    const checkpoint = checkpointOf(batch.topic, batch.partition);
    let order = checkpoint?.commitOrder ?? null;
    for (const record of records) {
      // a letter another generation dead-lettered is not this one's to apply: this generation met
      // that record itself (and applied it, or dead-lettered it with its own number)
      if (replayed && record.headers?.[deadLetterHeaders.generation]?.toString() !== String(generation)) {
        entries.push({ record });
        continue;
      }
      let change: Change;
      try {
        const decoded = await retry(() => decode(decodable(record)), retryAs('decode', batch.revoked));
        if (decoded.kind !== 'change') {
          entries.push({ record }); // tombstones only serve compaction
          continue;
        }
        change = decoded;
      } catch (error) {
        const e = fail(error);
        if (e.kind === 'poison') {
          await sendToDeadLetter(record, e.code, e.detail, sent, batch.revoked);
          entries.push({ record });
          continue;
        }
        if (e.kind === 'stall') return { slice: { batch, entries }, stall: { index: entries.length, code: e.code, reason: e.detail, permanent: false } };
        throw e;
      }
      if (!replayed) {
        if (skipBeforeEpoch !== undefined && epochOf(change.commitOrder) < skipBeforeEpoch) {
          entries.push({ record }); // before the gap this generation is rebuilt past
          continue;
        }
        if (order !== null && change.streamSince > epochOf(order)) {
          const reason = `${describePosition(record)} belongs to a stream that began at source epoch ${change.streamSince}, after a gap (a lost replication slot), but this generation was filled from epoch ${epochOf(order)}: rebuild into a new generation with \`scripts/nova projector rebuild ${definition.name} --generation M --snapshot --promote\``;
          return { slice: { batch, entries }, stall: { index: entries.length, code: codes.streamGap, reason, permanent: true } };
        }
        if (change.op !== 'read' && order !== null && change.commitOrder < order) {
          events.emit('projector.order_regression', { topic: batch.topic, partition: batch.partition, offset: record.offset, commitOrder: change.commitOrder, checkpointOrder: order });
        }
        if (order === null || change.commitOrder > order) order = change.commitOrder;
      }
      entries.push({ record, change });
    }
    return { slice: { batch, entries } };
  }

  function checkpointFor({ batch, entries }: Slice): Checkpoint {
    const previous = checkpointOf(batch.topic, batch.partition)?.commitOrder ?? null;
    return {
      topic: batch.topic,
      partition: batch.partition,
      nextOffset: nextOffset((entries.at(-1) as Entry).record.offset),
      commitOrder: entries.reduce<bigint | null>((order, { change }) => (change && (order === null || change.commitOrder > order) ? change.commitOrder : order), previous),
    };
  }

  /** Reduces, maps and applies the slices in one sink call, then records their checkpoints. */
  async function applyCall(slices: Slice[], sent: Set<string>, started: number): Promise<void> {
    const signal = revokedOf(slices);
    const records = new Map(slices.flatMap(({ entries }) => entries.map(({ record }) => [recordKey(record), record] as const)));
    const changes = slices.flatMap(({ entries }) => entries.flatMap(({ change }) => (change ? [change] : [])));
    const ops: StoreOp<Op>[] = [];
    for (const change of definition.batchChanges === 'every-change' ? changes : reduceByKey(changes)) {
      try {
        for (const op of definition.mapping(change)) ops.push({ op, change });
      } catch (error) {
        await sendToDeadLetter(records.get(recordKey(change.position)) as RawRecord, codes.unmappable, (error as Error).message, sent, signal);
      }
    }
    const sliceCheckpoints = slices.map(checkpointFor);
    const onRejected = async (rejected: Rejected[]) => {
      for (const r of rejected) await sendToDeadLetter(records.get(recordKey(r.position)) as RawRecord, codes.storeRejected, r.reason, sent, signal);
    };
    // a store outage can keep apply retrying for longer than the group's session timeout:
    // keep the membership alive meanwhile (one consumer: any part's heartbeat serves all); a
    // heartbeat that hears of a rebalance aborts the signal, and the retries stop
    const heartbeat = (slices[0] as Slice).batch.heartbeat;
    const keepAlive = setInterval(() => void heartbeat().catch(() => {}), 1_000);
    try {
      await sink.apply(ops, sliceCheckpoints, onRejected, { signal });
    } finally {
      clearInterval(keepAlive);
    }
    const visibleAt = Date.now();
    slices.forEach(({ batch, entries }, i) => {
      const checkpoint = sliceCheckpoints[i] as Checkpoint;
      const applied = entries.flatMap(({ change }) => (change ? [change] : []));
      checkpoints.set(positionKey(batch.topic, batch.partition), checkpoint);
      stalls.applied(batch.topic, batch.partition);
      events.emit('projector.batch_applied', {
        topic: batch.topic,
        partition: batch.partition,
        firstOffset: (entries[0] as Entry).record.offset,
        lastOffset: (entries.at(-1) as Entry).record.offset,
        changes: applied.length,
        ops: ops.filter(({ change }) => change.position.topic === batch.topic && change.position.partition === batch.partition).length,
        durationMs: visibleAt - started,
        freshnessMs: applied.map((c) => visibleAt - c.commitTs.getTime()),
      });
      events.emit('projector.checkpoint', { ...checkpoint, highWatermark: batch.highWatermark });
    });
    await source.commit(sliceCheckpoints).catch((error: unknown) => log.warn({ stage: 'checkpoint', err: error }, 'kafka offset commit failed (monitoring only)'));
    await heartbeat();
  }

  /**
   * applyCall, and the answer to its failure: a bounded one (or a poison the store could not
   * place) splits the call in halves, by partition, then by records, down to one record, which
   * is dead-lettered (poison) or stalls its partition (bounded); a stall stops every partition
   * of the call. Returns the partitions that stalled, whose later records must wait.
   */
  async function applyOrSplit(slices: Slice[], sent: Set<string>, started: number): Promise<Set<string>> {
    const stalled = new Set<string>();
    try {
      await applyCall(slices, sent, started);
      return stalled;
    } catch (error) {
      if (revokedOf(slices).aborted) throw error; // not this process's to split or stall any more
      const e = fail(error);
      if (e.kind === 'stall') {
        for (const { batch } of slices) {
          stalls.stall(batch, { code: e.code, reason: e.detail });
          stalled.add(positionKey(batch.topic, batch.partition));
        }
        return stalled;
      }
      if (e.kind !== 'bounded' && e.kind !== 'poison') throw e;
      const halves: Slice[][] =
        slices.length > 1
          ? [slices.slice(0, slices.length >> 1), slices.slice(slices.length >> 1)]
          : (slices[0] as Slice).entries.length > 1
            ? (() => {
                const { batch, entries } = slices[0] as Slice;
                return [[{ batch, entries: entries.slice(0, entries.length >> 1) }], [{ batch, entries: entries.slice(entries.length >> 1) }]];
              })()
            : [];
      if (halves.length === 0) {
        const { batch, entries } = slices[0] as Slice;
        const { record } = entries[0] as Entry;
        if (e.kind === 'poison') {
          await sendToDeadLetter(record, e.code, e.detail, sent, batch.revoked);
          return applyOrSplit([{ batch, entries: [{ record }] }], sent, started);
        }
        stalls.stall(batch, { code: e.code, reason: `${describePosition(record)} fails alone: ${e.detail}` });
        stalled.add(positionKey(batch.topic, batch.partition));
        return stalled;
      }
      log.warn({ stage: 'sink', err: e, records: slices.reduce((n, s) => n + s.entries.length, 0) }, 'splitting a sink call that keeps failing');
      for (const half of halves) {
        const rest = half.filter(({ batch }) => !stalled.has(positionKey(batch.topic, batch.partition)));
        if (rest.length > 0) for (const key of await applyOrSplit(rest, sent, started)) stalled.add(key);
      }
      return stalled;
    }
  }

  /**
   * Decodes, maps and applies several partitions' records in shared sink calls; stalls what must
   * stall. Parts whose partition was revoked (now or while they waited) are given up: the new
   * owner applies them from the store's checkpoint.
   */
  async function applyParts(all: Part[]) {
    const parts = all.filter(({ batch }) => !batch.revoked.aborted);
    abandon(all.filter((part) => !parts.includes(part)));
    if (parts.length === 0) return;
    const started = Date.now();
    const sent = new Set<string>();
    try {
      const prepared = await Promise.all(parts.map((part) => prepare(part, sent)));
      const slices = prepared.flatMap(({ slice }) => (slice.entries.length > 0 ? [slice] : []));
      const stalledNow = slices.length > 0 ? await applyOrSplit(slices, sent, started) : new Set<string>();
      for (const { slice, stall } of prepared) {
        if (stall && !stalledNow.has(positionKey(slice.batch.topic, slice.batch.partition))) stalls.stall(slice.batch, stall, { permanent: stall.permanent });
      }
    } catch (error) {
      if (!parts.some(({ batch }) => batch.revoked.aborted)) throw error;
      abandon(parts);
      return;
    }
    const records = parts.reduce((n, p) => n + p.records.length, 0);
    if (breaker.record(records, sent.size)) tripBreaker(`${sent.size} of the latest ${records} records went to the dead-letter topic`);
  }

  /** Parts given up because their partition was revoked; anything of them applied already is in the store's checkpoint. */
  function abandon(parts: Part[]) {
    for (const { batch, records } of parts) {
      const span = { topic: batch.topic, partition: batch.partition, firstOffset: (records[0] as RawRecord).offset, lastOffset: (records.at(-1) as RawRecord).offset };
      events.emit('projector.abandoned', span);
      log.info({ stage: 'sink', ...span }, 'partition revoked (a rebalance): its sink call is given up; the new owner resumes from the store');
    }
  }

  let breakerTimer: NodeJS.Timeout | undefined;
  function tripBreaker(why: string) {
    const coolDownMs = breaker.coolDownMs();
    const reason = `${why}: the fault is likely not in the records (a mapping or store refusing everything); trying again in ${Math.round(coolDownMs / 1000)} s`;
    events.emit('projector.breaker', { open: true, coolDownMs });
    for (const partition of assigned.values()) stalls.stall(partition, { code: codes.deadLetterRate, reason }, { retryInMs: coolDownMs });
    clearTimeout(breakerTimer);
    breakerTimer = setTimeout(() => {
      breaker.halfOpen();
      events.emit('projector.breaker', { open: false, coolDownMs });
    }, coolDownMs).unref();
  }

  // partitions handed in together (one fetch round) share sink calls; maxInFlight of them overlap
  const submit = gather<Part>({ maxWeight: maxBatchRecords, maxInFlight: maxSinkCallsInFlight, flush: applyParts });

  async function onBatch(batch: SourceBatch) {
    if (batch.revoked.aborted || stalls.isStalled(batch.topic, batch.partition)) return;
    const checkpoint = checkpointOf(batch.topic, batch.partition);
    // Offsets are contiguous (the topics are neither compacted nor transactional): a first record
    // past the checkpoint means retention deleted the ones between while the partition waited (a
    // long stall or outage), and kafkajs reset to the earliest. Harmless only to a rebuild that
    // has applied nothing of the partition yet and is filled by a snapshot.
    const first = batch.records[0];
    if (first && checkpoint && batch.topic !== replayTopic && BigInt(first.offset) > BigInt(checkpoint.nextOffset) && !(snapshotFills && checkpoint.commitOrder === null)) {
      const range = { ...batch, low: first.offset, high: batch.highWatermark, retentionMs: null };
      stalls.stall(batch, retainedRangeProblem(checkpoint, range, snapshotFills) ?? { code: codes.retentionGap, reason: `${batch.topic}[${batch.partition}]: the next record is at ${first.offset}, the checkpoint at ${checkpoint.nextOffset}` }, { permanent: true });
      return;
    }
    // records before the store's checkpoint were applied already (the group may lag behind it)
    const from = BigInt(checkpoint?.nextOffset ?? '0');
    const records = batch.records.filter((r) => BigInt(r.offset) >= from);
    const next = records[0];
    if (!next) return;
    events.emit('projector.fetched', { topic: batch.topic, partition: batch.partition, highWatermark: batch.highWatermark, firstOffset: next.offset, firstTimestamp: next.timestamp ? Number(next.timestamp) : null });
    // in order: a partition's next chunk is handed in only once the previous one is applied
    for (let i = 0; i < records.length && !batch.revoked.aborted && !stalls.isStalled(batch.topic, batch.partition); i += maxBatchRecords) {
      const chunk = records.slice(i, i + maxBatchRecords);
      await submit({ batch, records: chunk }, chunk.length);
    }
  }

  /**
   * Every assignment: claimed (a sink that fences the partitions' previous holders), then its
   * checkpoints read again, since another instance may have moved them while it held a
   * partition (the ones read before are stale), then each checked against what its topic
   * retains. The source then starts each partition at startAt: these checkpoints. Nothing
   * of this process is in flight by now (the source finishes or abandons it before rejoining),
   * so a partition it kept reads back what it wrote itself.
   */
  let latestAssignment = new AbortController();
  async function onAssign(partitions: AssignedPartition[]) {
    // a newer assignment supersedes this one: a claim of this one still retrying must not follow it
    latestAssignment.abort();
    const assignment = (latestAssignment = new AbortController());
    const claim = options.sink.claim?.bind(options.sink);
    if (claim) await retry(() => claim(partitions.map(({ topic, partition }) => ({ topic, partition }))), retryAs('claim', assignment.signal));
    await loadCheckpoints();
    assigned.clear();
    for (const { topic, partition } of partitions) assigned.set(positionKey(topic, partition), { topic, partition });
    events.emit('projector.assigned', { partitions });
    const starts = partitions.map(({ topic, partition }) => `${topic}[${partition}]@${checkpointOf(topic, partition)?.nextOffset ?? 'earliest'}`);
    log.info({ stage: 'source', partitions: starts }, 'partitions assigned: each resumes from the store\'s checkpoint');
    const firsts: Checkpoint[] = [];
    for (const range of partitions) {
      if (range.topic === replayTopic) continue; // a letter missed there is still in the dead-letter topic
      const checkpoint = checkpointOf(range.topic, range.partition);
      const problem = retainedRangeProblem(checkpoint, range, snapshotFills);
      if (problem) stalls.stall(range, problem, { permanent: true });
      // remembered, so that a restart of this rebuild is not taken for a gap
      else if (!checkpoint && range.low !== '0') firsts.push({ topic: range.topic, partition: range.partition, nextOffset: range.low, commitOrder: null });
    }
    if (firsts.length > 0) {
      await sink.apply([], firsts, async () => {});
      for (const c of firsts) checkpoints.set(positionKey(c.topic, c.partition), c);
    }
  }

  const topics = replayTopic ? [...definition.topics, replayTopic] : definition.topics;
  const done = source.run({ topics, startAt: (topic, partition) => checkpointOf(topic, partition)?.nextOffset, onAssign, onBatch }).catch((error: unknown) => {
    events.emit('projector.crash', { error: (error as Error).message });
    throw fail(error);
  });

  return {
    done,
    async stop() {
      stalls.stop();
      clearTimeout(breakerTimer);
      await source.stop();
      await options.sink.close();
      await deadLetter.close();
    },
  };
}
