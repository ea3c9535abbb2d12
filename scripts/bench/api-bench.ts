// `scripts/nova bench api`: the running API under load from autocannon, against the same
// answers from PostgreSQL (pg-baseline.ts). (1) notifications and the unread count from Redis;
// (2) friend-of-friend suggestions from Neo4j, cached and uncached; (3) message search and
// sending (skipped while the routes are missing); (4) the read-your-writes wait under a steady
// write rate. The data is the bench's own, written through the API (api-fixture.ts).
import { createRequire } from 'node:module';
import pg from 'pg';
import { openRedis, unlinkAll } from '../../projectors/redis/client.ts';
import { cacheKeys } from '../../projectors/redis/reader-keys.ts';
import { novaConfig } from '../../config/nova-config.ts';
import { compareAnswers, planOf } from './api-answers.ts';
import { apiClient, describeReply, inLanes, routeMissing, type ApiClient } from './api-client.ts';
import { benchUserCount, ensureFixture, searchWords, type BenchUser, type Fixture } from './api-fixture.ts';
import { measureLoad, type Variant } from './api-load.ts';
import { isSkipped, printLoad, printRatio, printReadYourWrites, ratio, type Measured } from './api-report.ts';
import { describeCpu, watchMachineCpu } from './machine-cpu.ts';
import { describePercentiles, machineNote, note, round, sleep } from './measure.ts';
import { baselineSql, startPgBaseline, type PgBaseline } from './pg-baseline.ts';
import { readYourWrites } from './read-your-writes.ts';
import { storeReads, type StoreRead } from './store-reads.ts';

export type ApiBenchOptions = { apiUrl: string; connections: number; duration: number; rate: number; seconds: number; env?: NodeJS.ProcessEnv };

const cachedReadAim = 5;
const readYourWritesAimMs = 250;
const autocannonVersion = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;

const as = (users: BenchUser[], path: (i: number) => string): Variant[] => users.map((u, i) => ({ path: path(i), headers: { authorization: `Bearer ${u.token}` }, user: i }));

const describeStore = (label: string, r: StoreRead) => `${label} ${r.perSecond.toLocaleString('en')}/s, ${describePercentiles(r.latencyMs)}`;

function printStores(stores: Awaited<ReturnType<typeof storeReads>>, inFlight: number, seconds: number): void {
  console.log(`  the stores alone, for comparison (from this process, no HTTP, ${inFlight} in flight, ${seconds} s each):`);
  for (const [name, pair] of Object.entries(stores)) {
    console.log(`    ${name}: ${describeStore('Redis GET', pair.redis)}`);
    console.log(`    ${name.replace(/./g, ' ')}  ${describeStore('PostgreSQL', pair.postgresql)}`);
    console.log(`    ${name.replace(/./g, ' ')}  Redis vs PostgreSQL: ${round(pair.redis.perSecond / Math.max(1, pair.postgresql.perSecond), 2)}x the reads/s, p99 ${round(pair.postgresql.latencyMs.p99 / Math.max(0.001, pair.redis.latencyMs.p99), 2)}x lower`);
  }
}

/**
 * The API process's event-loop delay since the last scrape of its /metrics (prom-client resets
 * the histogram on every collect): scrape once to start, again to read.
 */
async function eventLoopDelay(api: ApiClient): Promise<Record<string, number> | undefined> {
  const reply = await api.call('GET', '/metrics').catch(() => undefined);
  if (reply?.status !== 200 || typeof reply.body !== 'string') return undefined;
  const found = [...reply.body.matchAll(/^\w*nodejs_eventloop_lag_(p50|p99|max)_seconds (\S+)$/gm)].map((m) => [m[1] as string, round(Number(m[2]) * 1000, 1)] as const);
  return found.length ? Object.fromEntries(found) : undefined;
}

/** Part 3: search over the bench users' conversations, then sending; each skipped while its route is missing. */
async function messageParts(run: (label: string, url: string, variants: Variant[]) => Promise<Measured>, api: ApiClient, fixture: Fixture, apiUrl: string) {
  const users = fixture.users;
  const missing = { skipped: 'skipped: route missing (404)' };
  const searchPath = (i: number) => `/messages/search?q=${searchWords[i % searchWords.length]}&limit=20`;
  let search: Measured = missing;
  const probe = await api.call('GET', searchPath(1), { token: (users[0] as BenchUser).token });
  if (!routeMissing(probe, 'GET', '/messages/search')) {
    if (probe.status !== 200) throw new Error(`GET /messages/search answered ${describeReply(probe)}`);
    // the messages reach Elasticsearch through its projector: wait until they are searchable
    for (let reply = probe, waited = 0; (reply.body?.items ?? []).length === 0 && waited < 60_000; waited += 1_000) {
      note('messages: waiting for the bench messages to be searchable');
      await sleep(1_000);
      reply = await api.call('GET', searchPath(1), { token: (users[0] as BenchUser).token });
    }
    search = await run('GET /messages/search (Elasticsearch)', apiUrl, as(users, searchPath));
  }
  let send: Measured = missing;
  if (fixture.messages !== null) {
    const variants = users.map((u, i) => ({
      path: '/messages', method: 'POST' as const, user: i,
      headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ recipient_id: (users[(i + 1) % users.length] as BenchUser).id, content: `bench load message from ${u.username}` }),
    }));
    send = await run('POST /messages (PostgreSQL write)', apiUrl, variants);
  }
  return { search, send };
}

export async function benchApi(options: ApiBenchOptions): Promise<void> {
  const { apiUrl, connections, duration, rate, seconds, env = process.env } = options;
  const config = novaConfig(env);
  console.log(await machineNote());
  console.log(`note: autocannon ${autocannonVersion} (the load client) runs in this process, on the same cores as the API, the PostgreSQL baseline server and the whole stack; other work runs on the machine too, so read the figures as this machine's, at this moment`);
  const writesPerMinute = Number(env.NOVA_API_WRITES_PER_MINUTE ?? 600);
  const perUserPerMinute = (rate / benchUserCount) * 60;
  if (perUserPerMinute > writesPerMinute) note(`warning: --rate ${rate} spread over ${benchUserCount} users is ${perUserPerMinute} writes per user per minute, above the API's limit (NOVA_API_WRITES_PER_MINUTE ${writesPerMinute}): expect 429s`);
  const db = new pg.Pool({ connectionString: config.databaseUrl(), max: 4 });
  const api = apiClient(apiUrl, { maxSockets: 1024 });
  const cache = openRedis(config.redis(), { queue: true });
  cache.on('error', () => {});
  let baseline: PgBaseline | undefined;
  let baselineClient: ApiClient | undefined;
  try {
    const health = await api.call('GET', '/readyz').catch((error: Error) => ({ status: 0, body: error.message, headers: {} }));
    if (health.status !== 200) throw new Error(`the API at ${apiUrl} is not ready: ${describeReply(health)}`);
    const fixture = await ensureFixture({ db, client: api, jwt: config.jwt() });
    const { users } = fixture;
    const reused = Object.values(fixture.written).every((n) => n === 0);
    console.log(`api: ${apiUrl}; ${connections} connections, ${duration} s per read measurement after a 1 s warm-up; each request acts as the next of ${users.length} bench users`);
    console.log(`fixture: ${users.length} users bench_u000..${users.length - 1} (${reused ? 'all reused from an earlier run' : `written this run: ${JSON.stringify(fixture.written)}`}); notifications per user min ${fixture.notificationsPerUser.min}, mean ${fixture.notificationsPerUser.mean}; messages ${fixture.messages ?? 'none (POST /messages missing)'}; views applied the newest write after ${fixture.viewsWaitedMs} ms`);

    baseline = await startPgBaseline(env);
    baselineClient = apiClient(baseline.url);
    const labels = new Map([[baseline.pid, 'PostgreSQL baseline server']]);
    console.log(`baseline: ${baseline.url}, a node:http server in its own process answering the same JSON from PostgreSQL: tokens checked as api/http/auth.ts does (jose, HS256, issuer, audience, exp), pool from api/db.ts openPool (max 20); none of the API's other middleware (OpenAPI validation, request id, metrics), so it is the lighter HTTP path`);
    const agreement = await compareAnswers({ api, baseline: baselineClient, db, users });
    console.log(`answers agree for ${agreement.users} sampled users: notifications ${agreement.notifications}, unread count ${agreement.unread}, suggestions ${agreement.suggestions} (as the SQL top 20 up to ties)`);
    const me = (users[0] as BenchUser).id;
    const plans = { recent: await planOf(db, baselineSql.recent, [me]), unread: await planOf(db, baselineSql.unread, [me]), suggestions: await planOf(db, baselineSql.suggestions, [me, 20]) };
    for (const [name, plan] of Object.entries(plans)) console.log(`  PostgreSQL plan, ${name}: ${plan}`);

    const run = (label: string, url: string, variants: Variant[], extra: Partial<Parameters<typeof measureLoad>[0]> = {}) => {
      note(`measuring ${label}`);
      return measureLoad({ url, connections, seconds: duration, variants, labels, ...extra });
    };
    const compare = async (path: string, view: string) => {
      console.log(`  GET ${path}`);
      const fromView = await run(`${path}: ${view}`, apiUrl, as(users, () => path), { tally: 'nova-served-by' });
      printLoad(view, fromView);
      const fromPg = await run(`${path}: PostgreSQL`, baseline!.url, as(users, () => path));
      printLoad('PostgreSQL (baseline server)', fromPg);
      const r = ratio(fromView, fromPg);
      printRatio('view vs PostgreSQL', r, cachedReadAim);
      return { view: fromView, postgresql: fromPg, ratio: r };
    };

    console.log('1. notifications');
    const notifications = await compare('/notifications', 'Redis view, through the API');
    const unread = await compare('/notifications/unread-count', 'Redis view, through the API');
    const storeSeconds = Math.min(2, duration);
    note('measuring the stores alone');
    const stores = await storeReads({ env, databaseUrl: config.databaseUrl(), users, inFlight: connections, seconds: storeSeconds });
    printStores(stores, connections, storeSeconds);

    console.log('2. friend-of-friend suggestions (GET /suggestions)');
    await inLanes(users, 16, async (u) => void (await api.call('GET', '/suggestions', { token: u.token })));
    const cached = await run('suggestions: cached', apiUrl, as(users, () => '/suggestions'), { tally: 'nova-served-by' });
    printLoad('cached (user:recommended:{u})', cached);
    // every request a first call: a user's cache entry is deleted once its answer is in, long
    // before the round robin comes back to that user (users.length requests later); and all of
    // them before each run, after the answers still in flight when the warm-up stopped
    const suggestionKeys = users.map((u) => cacheKeys.recommendedUsers(u.id));
    const forgetAll = async () => void (await sleep(1_000), await unlinkAll(cache, suggestionKeys));
    const forget = (variant: Variant) => void cache.del(suggestionKeys[variant.user] as string).catch(() => {});
    const uncached = await run('suggestions: uncached', apiUrl, as(users, () => '/suggestions'), { tally: 'nova-served-by', onAnswer: forget, prepare: forgetAll });
    printLoad('uncached (Neo4j, each a first call)', uncached);
    const fofPg = await run('suggestions: PostgreSQL', baseline.url, as(users, () => '/suggestions'));
    printLoad('PostgreSQL (baseline server)', fofPg);
    const suggestions = { cached, uncached, postgresql: fofPg, ratios: { cachedVsPostgresql: ratio(cached, fofPg), uncachedVsPostgresql: ratio(uncached, fofPg) } };
    printRatio('cached vs PostgreSQL', suggestions.ratios.cachedVsPostgresql, cachedReadAim);
    printRatio('uncached (Neo4j) vs PostgreSQL', suggestions.ratios.uncachedVsPostgresql);

    console.log('3. messages');
    const messages = await messageParts(run, api, fixture, apiUrl);
    printLoad('GET /messages/search?q=<word>', messages.search);
    printLoad('POST /messages', messages.send);
    if (!isSkipped(messages.send)) console.log(`    (sends spread over ${users.length} users, each to the next: the write limit is ${writesPerMinute} per user per minute)`);

    console.log(`4. read-your-writes: POST /posts/{id}/likes at ${rate}/s for ${seconds} s, then the author's GET /notifications with Nova-Read-After`);
    const machine = watchMachineCpu(labels);
    await eventLoopDelay(api);
    const ryw = { ...(await readYourWrites({ client: api, users, rate, seconds })), apiEventLoopDelayMs: await eventLoopDelay(api), cpu: machine.stop() };
    printReadYourWrites(ryw, readYourWritesAimMs);
    const delay = ryw.apiEventLoopDelayMs;
    console.log(`  during the load: ${describeCpu(ryw.cpu)}; the API's event-loop delay (its /metrics): ${delay ? Object.entries(delay).map(([k, v]) => `${k} ${v} ms`).join(', ') : 'not exposed'}`);

    const { users: _withTokens, posts: _posts, ...fixtureFacts } = fixture;
    console.log(JSON.stringify({
      bench: 'api', api: apiUrl, autocannon: autocannonVersion, connections, durationSeconds: duration,
      fixture: { users: users.length, ...fixtureFacts }, baseline: { pid: baseline.pid, agreement, plans },
      notifications, unread, stores, suggestions, messages, readYourWrites: ryw,
      aims: { cachedReadP99Ratio: cachedReadAim, readYourWritesP99Ms: readYourWritesAimMs },
    }));
  } finally {
    baselineClient?.close();
    await baseline?.stop().catch((error: Error) => note(`cleanup: stopping the baseline server: ${error.message}`));
    api.close();
    cache.disconnect();
    await db.end();
  }
}
