// The read-your-writes wait under a steady write load: `rate` likes per second (paced every
// 10 ms, open loop: a slow answer does not slow the next write) for `seconds`. Each like is of
// a post made for this run by a user who has not liked it yet, so it is new and notifies the
// post's author; as soon as it answers, the author reads GET /notifications?limit=50 with the
// like's Nova-Consistency-Token as Nova-Read-After. Measured: from the write's answer to that
// read's answer, its outcome (Nova-Consistency: applied or stale), and whether an applied
// answer really holds the like. The likers go round robin over all users, so each user writes
// rate/users per second (the API's limit is per user and minute).
import { performance } from 'node:perf_hooks';
import { describeReply, inLanes, type ApiClient, type Reply } from './api-client.ts';
import type { BenchUser } from './api-fixture.ts';
import { note, percentiles, progress, round, sleep, type Percentiles } from './measure.ts';

export type ReadYourWrites = {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  maxWaitMs: number;
  writes: { answered: number; rateLimited: number; failed: number; skipped: number; notNew: number; achievedPerSecond: number; latencyMs: Percentiles };
  reads: { applied: number; stale: number; failed: number; appliedButNotVisible: number };
  /** write answered -> tokened read answered, reads of writes sent after the warm-up */
  writeToReadMs: Percentiles;
  /** the same, applied answers only */
  appliedWriteToReadMs: Percentiles;
  /** what the API says it waited (Nova-Consistency: waited-ms) */
  serverWaitedMs: Percentiles;
  firstError?: string;
};

const tickMs = 10;
const readPath = '/notifications?limit=50';

/** One post per user per users*(users-1) planned likes, made through the API for this run. */
async function runPosts(client: ApiClient, users: BenchUser[], planned: number, tag: string): Promise<string[][]> {
  const perUser = Math.max(1, Math.ceil(planned / (users.length * (users.length - 1))));
  const posts: string[][] = Array.from({ length: perUser }, () => []);
  const jobs = posts.flatMap((_, p) => users.map((u, i) => ({ p, i, u })));
  await inLanes(jobs, 16, async ({ p, i, u }) => {
    const reply = await client.call('POST', '/posts', { token: u.token, body: { text: `bench read-your-writes ${tag} post ${p}` } });
    if (reply.status !== 201) throw new Error(`read-your-writes: POST /posts answered ${describeReply(reply)}`);
    (posts[p] as string[])[i] = String(reply.body.id);
  });
  return posts;
}

const waitedMs = (consistency: string) => Number(/waited-ms=(\d+)/.exec(consistency)?.[1] ?? NaN);

export async function readYourWrites(options: { client: ApiClient; users: BenchUser[]; rate: number; seconds: number; maxWaitMs?: number }): Promise<ReadYourWrites> {
  const { client, users, rate, seconds, maxWaitMs = 2_000 } = options;
  const n = users.length;
  const planned = Math.round(rate * seconds);
  const warmupSeconds = round(Math.min(2, seconds / 5), 1);
  const posts = await runPosts(client, users, planned, new Date().toISOString());
  note(`read-your-writes: ${posts.length * n} posts made for this run; ${rate} likes/s for ${seconds} s, each followed by the author's tokened read`);
  const show = progress('read-your-writes: writes answered', planned);
  const writeLatency: number[] = [];
  const all: number[] = [];
  const applied: number[] = [];
  const serverWaits: number[] = [];
  const writes = { answered: 0, rateLimited: 0, failed: 0, skipped: 0, notNew: 0 };
  const reads = { applied: 0, stale: 0, failed: 0, appliedButNotVisible: 0 };
  let firstError: string | undefined;
  const fail = (what: string, reply: Reply | Error) => (firstError ??= `${what}: ${reply instanceof Error ? reply.message : describeReply(reply)}`);
  let issued = 0;
  let outstanding = 0;
  const clockStart = performance.now();
  let lastWriteAt = clockStart;

  const pair = async (k: number) => {
    const block = Math.floor(k / n);
    const author = users[k % n] as BenchUser;
    const liker = users[(k + 1 + (block % (n - 1))) % n] as BenchUser;
    const post = (posts[Math.floor(block / (n - 1)) % posts.length] as string[])[k % n] as string;
    const sentAt = performance.now();
    const written = await client.call('POST', `/posts/${post}/likes`, { token: liker.token });
    const writtenAt = performance.now();
    lastWriteAt = writtenAt;
    if (written.status === 429) return void (writes.rateLimited += 1);
    if (written.status !== 200) return void ((writes.failed += 1), fail('POST /posts/{id}/likes', written));
    writes.answered += 1;
    show(writes.answered);
    writeLatency.push(writtenAt - sentAt);
    if (written.body.new !== true) writes.notNew += 1;
    const read = await client.call('GET', readPath, { token: author.token, headers: { 'nova-read-after': String(written.headers['nova-consistency-token']), 'nova-max-wait-ms': String(maxWaitMs) } });
    const ms = round(performance.now() - writtenAt, 1);
    const consistency = String(read.headers['nova-consistency'] ?? '');
    if (read.status !== 200) return void ((reads.failed += 1), fail(`GET ${readPath} (tokened)`, read));
    const counted = sentAt - clockStart >= warmupSeconds * 1000;
    if (counted) {
      all.push(ms);
      serverWaits.push(waitedMs(consistency));
    }
    if (!consistency.startsWith('applied')) return void (reads.stale += 1);
    reads.applied += 1;
    if (counted) applied.push(ms);
    const items = (read.body?.items ?? []) as { type: string; actor_id: string; target_id: string | null }[];
    if (!items.some((item) => item.type === 'like' && item.actor_id === liker.id && item.target_id === post)) reads.appliedButNotVisible += 1;
  };

  const tick = () => {
    const elapsed = Math.min(seconds, (performance.now() - clockStart) / 1000);
    const due = Math.min(planned, Math.floor(rate * elapsed)) - issued - writes.skipped;
    for (let i = 0; i < due; i++) {
      // more than 4 s of writes unanswered: the API is far behind; skip rather than pile up
      if (outstanding >= rate * 4) {
        writes.skipped += 1;
        continue;
      }
      const k = issued++;
      outstanding += 1;
      pair(k)
        .catch((error: Error) => ((reads.failed += 1), fail('a write and its read', error)))
        .finally(() => (outstanding -= 1));
    }
  };
  const timer = setInterval(tick, tickMs);
  try {
    while (issued + writes.skipped < planned) await sleep(50);
  } finally {
    clearInterval(timer);
  }
  while (outstanding > 0) await sleep(10);
  const writeSeconds = (lastWriteAt - clockStart) / 1000;
  return {
    rate,
    seconds,
    warmupSeconds,
    maxWaitMs,
    writes: { ...writes, achievedPerSecond: round(writes.answered / writeSeconds, 1), latencyMs: percentiles(writeLatency.map((ms) => round(ms, 1))) },
    reads,
    writeToReadMs: percentiles(all),
    appliedWriteToReadMs: percentiles(applied),
    serverWaitedMs: percentiles(serverWaits.filter((ms) => Number.isFinite(ms))),
    ...(firstError ? { firstError } : {}),
  };
}
