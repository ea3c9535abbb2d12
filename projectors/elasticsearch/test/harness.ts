// What the Elasticsearch end-to-end files share: the connections, generations of their own
// (100-999, shadow: no alias ever points at one), removed afterwards with their checkpoints and
// consumer groups, and the comparison of a generation with PostgreSQL once it has caught up.
// A row some other writer (a benchmark) changes while it is compared is compared again once the
// projector has caught up; a run is slower beside one, but not wrong.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before } from 'node:test';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import pg from 'pg';
import { env, waitFor } from '../../../scripts/stack.d/test/stack.ts';
import { deadLetterHeaders, deadLetterTopic } from '../../runtime/dead-letter.ts';
import type { RawRecord } from '../../runtime/decode/index.ts';
import type { Checkpoint, CheckpointStore, Sink } from '../../runtime/sink.ts';
import { caughtUp as caughtUpWithPostgres, endOffsets } from '../../runtime/testing/caught-up.ts';
import { captureTopics, endOffsets as kafkaEndOffsets } from '../../runtime/testing/kafka-capture.ts';
import { stopProjector, type ProjectorProcess } from '../../runtime/testing/projector-process.ts';
import { checkpointId, checkpointIndex, loadCheckpoints } from '../checkpoint.ts';
import { clientRetries, connectElasticsearch } from '../client.ts';
import { aliasNames, elasticsearchProjector, indexName, type EsOp } from '../index.ts';
import { actualFromElasticsearch, differences, expectedFromPostgres, idsIn, idsOf, mergeIds, summary, type Ids, type Problem } from './oracle.ts';
import type { SearchWorkloadResult } from './workload.ts';
import { projectorGroup } from '../../runtime/source/kafkajs-source.ts';

const { name, topics } = elasticsearchProjector;

export const sum = (ends: Map<string, bigint>) => [...ends.values()].reduce((a, b) => a + b, 0n);

/**
 * `projectors()`: the processes the file may have left running, stopped first; `log()`: the
 * running projector's last lines, for a failure's message; `finally`: run after the cleanup,
 * even a failed one.
 */
export function elasticsearchHarness(options: { clientId: string; projectors: () => Array<ProjectorProcess | undefined>; log: () => string; finally?: () => Promise<unknown> }) {
  const { projectors, log } = options;
  const db = new pg.Client({ connectionString: env('DATABASE_URL') });
  const es = connectElasticsearch(process.env, { maxRetries: clientRetries });
  const admin: Admin = new Kafka({ clientId: options.clientId, brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING }).admin();
  /** every generation a test used, with the projector's own checkpoint store for it */
  const generations = new Map<number, Sink<EsOp> & CheckpointStore>();

  before(async () => {
    await Promise.all([db.connect(), admin.connect()]);
  });

  after(async () => {
    try {
      await cleanUp();
    } finally {
      await options.finally?.(); // what the file started for its stores (a cluster profile)
    }
  });

  async function cleanUp() {
    for (const projector of projectors()) if (projector) await stopProjector(projector);
    for (const [generation, store] of generations) {
      for (const c of await store.load().catch(() => [])) {
        await es.delete({ index: checkpointIndex, id: checkpointId({ projector: name, generation }, c.topic, c.partition) }, { ignore: [404] });
      }
      await store.close();
    }
    await es.indices.delete({ index: [...generations.keys()].flatMap((g) => aliasNames.map((a) => indexName(a, g))), ignore_unavailable: true });
    // the consumer groups go too; a kill -9ed member holds its group until its session expires (10 s)
    const groups = [...generations.keys()].map((g) => projectorGroup(name, g));
    await waitFor('the test consumer groups to be deleted', async () => {
      const left = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
      const ours = groups.filter((g) => left.has(g));
      if (ours.length > 0) await admin.deleteGroups(ours);
      return true;
    }, 30_000).catch(() => {}); // a leftover group is harmless: only this generation's projector uses it
    await Promise.all([db.end(), admin.disconnect(), es.close()]);
  }

  /** Every partition's end now, as checkpoints: a generation seeded there reads only what is written from now on. */
  async function partitionEnds(): Promise<Checkpoint[]> {
    const ends: Checkpoint[] = [];
    for (const topic of topics) for (const { partition, high } of await admin.fetchTopicOffsets(topic)) ends.push({ topic, partition, nextOffset: high, commitOrder: null });
    return ends;
  }

  /**
   * A generation no index uses yet, and the projector's own checkpoint store for it. Seeded with
   * `from` (through the projector's sink, a batch of no ops), its projector starts there rather
   * than at the earliest offset.
   */
  async function freshGeneration(from: Checkpoint[] = []): Promise<[number, Sink<EsOp> & CheckpointStore]> {
    for (;;) {
      const generation = randomInt(100, 1000);
      if (generations.has(generation) || (await es.indices.exists({ index: indexName('messages', generation) }))) continue;
      if ((await loadCheckpoints(es, { projector: name, generation })).length > 0) continue; // left by a run that died
      const store = await elasticsearchProjector.createSink({ generation, env: process.env, shadow: true });
      generations.set(generation, store);
      await store.apply([], from, async () => {});
      return [generation, store];
    }
  }

  /** For a failure message: whether a writer outside this file was active during the comparison. */
  const writersNote = async (since: bigint) => {
    const grown = sum(await endOffsets(admin, topics)) - since;
    return grown > 0n ? `\n(the topics grew by ${grown} records during the comparison: another writer was active)` : '';
  };

  /** Until the generation holds everything committed so far (Debezium, then the store's checkpoints). */
  const caughtUp = (store: CheckpointStore, timeoutMs = 240_000) => caughtUpWithPostgres({ db, admin, store, topics, log, timeoutMs });

  /**
   * The documents (all, or those of `only`) that differ from PostgreSQL once the projector has
   * caught up. One that differs is compared again, alone, each time the projector has caught up
   * anew, until it matches or 30 s pass: Debezium may publish the last commits a moment after the
   * end offsets were read, and a writer outside this file may change a row between the two reads.
   * What a projector bug breaks stays different.
   */
  async function mismatches(generation: number, store: CheckpointStore, workload?: SearchWorkloadResult, only?: Ids): Promise<Problem[]> {
    const [deleted, flagged] = [workload?.deletedMessages, workload?.otherMessageIds];
    await caughtUp(store);
    let problems = differences(await expectedFromPostgres(db, deleted, only), (await actualFromElasticsearch(es, generation, only)).view, flagged, only);
    await waitFor('the differing documents to match PostgreSQL', async () => {
      if (problems.length === 0) return true;
      const again = idsOf(problems);
      await caughtUp(store, 10_000);
      problems = differences(await expectedFromPostgres(db, deleted, again), (await actualFromElasticsearch(es, generation, again)).view, flagged, again);
      return problems.length === 0 ? true : undefined;
    }, 30_000).catch(() => {});
    return problems;
  }

  /**
   * Every document equals PostgreSQL, and so does every row PostgreSQL has. For a generation
   * seeded at the partitions' ends, `only: 'index and workload'`: its documents and the rows the
   * workload wrote (the rest of the tables was never meant to be there).
   */
  async function assertMatchesPostgres(generation: number, store: CheckpointStore, workload?: SearchWorkloadResult, only: 'all' | 'index and workload' = 'all') {
    await caughtUp(store);
    const ends = sum(await endOffsets(admin, topics));
    const scope = only === 'all' ? undefined : mergeIds(workload?.touched ?? {}, idsIn((await actualFromElasticsearch(es, generation)).view));
    const problems = await mismatches(generation, store, workload, scope);
    assert.ok(problems.length === 0, `generation ${generation} differs from PostgreSQL: ${summary(problems)}${await writersNote(ends)}`);
  }

  const brokers = env('KAFKA_BROKERS');
  const letters = deadLetterTopic(name);

  /** The dead-letter topic's ends now (none before its first projector made it): read later letters from here. */
  const letterEnds = () => kafkaEndOffsets(brokers, [letters]).catch(() => new Map<string, string>());

  /** The letters `generation` wrote since `since`: the topic is shared by every elasticsearch projector on the stack. */
  async function lettersOf(generation: number, since: Map<string, string>): Promise<RawRecord[]> {
    const now = await letterEnds();
    const added = [...now].reduce((n, [key, end]) => n + BigInt(end) - BigInt(since.get(key) ?? '0'), 0n);
    if (added === 0n) return [];
    const records = await captureTopics({ brokers, topics: [letters], since, until: (rs) => BigInt(rs.length) >= added });
    return records.filter((r) => r.headers?.[deadLetterHeaders.generation]?.toString() === String(generation));
  }

  return { db, es, admin, partitionEnds, freshGeneration, caughtUp, mismatches, assertMatchesPostgres, letterEnds, lettersOf };
}
