// The API over HTTP against the real stack, for the API's e2e files: the API in the test's
// process, each view's projector as the process it is in production, every one in a reader
// namespace and generations of the file's own (so promoting what they fill moves nothing the
// app reads), and the calls a test makes: users with tokens, requests, a write's token.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import pg from 'pg';
import { novaConfig } from '../../config/nova-config.ts';
import { clickhouseClient, clearCheckpoints, dropGeneration as dropTableGeneration, userBehaviorEvents } from '../../projectors/clickhouse/index.ts';
import { readerName } from '../../projectors/runtime/reader-namespace.ts';
import { aliasNames, indexName, readerAliasName } from '../../projectors/elasticsearch/index.ts';
import { elasticsearchGenerations } from '../../projectors/elasticsearch/generations.ts';
import { Client as ElasticsearchClient } from '@elastic/elasticsearch';
import { connectNeo4j, dropGeneration as dropGraphGeneration, readerGraph } from '../../projectors/neo4j/index.ts';
import { openRedis, redisTarget } from '../../projectors/redis/client.ts';
import { liveGenerationKey, redisGenerations } from '../../projectors/redis/generations.ts';
import { claimGeneration, type OwnGeneration } from '../../projectors/redis/test/own-generation.ts';
import { ownReaderNamespace } from '../../projectors/runtime/testing/own-namespace.ts';
import { startProjector, stopProjector, type ProjectorProcess } from '../../projectors/runtime/testing/projector-process.ts';
import { env } from '../../scripts/stack.d/test/stack.ts';
import { mintToken } from '../http/auth.ts';
import { startApi } from '../server.ts';

export type ViewName = 'redis' | 'neo4j' | 'elasticsearch' | 'clickhouse';
export type Reply = { status: number; headers: Headers; body: any };
export type TestUser = { id: string; username: string; token: string };

export function apiUnderTest(views: readonly ViewName[]) {
  ownReaderNamespace();
  const db = new pg.Client({ connectionString: env('DATABASE_URL') });
  const jwt = novaConfig().jwt();
  // generation numbers nobody else uses (Redis's is a database of its own, claimed below)
  const generations: Record<ViewName, number> = { redis: 0, neo4j: randomInt(5_000_000, 6_000_000), elasticsearch: randomInt(5_000_000, 6_000_000), clickhouse: randomInt(5_000_000, 6_000_000) };
  const projectors: Partial<Record<ViewName, ProjectorProcess>> = {};
  let redisDb: OwnGeneration | undefined;
  let api: Awaited<ReturnType<typeof startApi>>;
  let service = '';
  // node 20 runs a file's top-level before hooks at once, not in turn: every call waits for this one's
  let setUp: (error?: unknown) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => (setUp = (error) => (error === undefined ? resolve() : reject(error))));
  ready.catch(() => {}); // reported by the hook itself

  async function call(method: string, path: string, options: { as?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {}): Promise<Reply> {
    await ready;
    const headers: Record<string, string> = { ...options.headers };
    if (options.as !== undefined) headers.authorization = `Bearer ${options.as}`;
    if (options.body !== undefined || options.raw !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${api.url}${path}`, { method, headers, body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: response.status, headers: response.headers, body };
  }

  async function newUser(prefix = 'u'): Promise<TestUser> {
    await ready;
    const username = `${prefix}_${randomUUID().slice(0, 8)}`;
    const created = await call('POST', '/users', { as: service, body: { username } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.id, username, token: await mintToken(jwt, { userId: created.body.id }) };
  }

  /** The headers that make a read wait for `reply`'s write (10 s at most). */
  const readAfter = (reply: Reply) => ({ 'nova-read-after': reply.headers.get('nova-consistency-token') as string, 'nova-max-wait-ms': '10000' });

  const start = (view: ViewName) => (projectors[view] = startProjector(view, ['--generation', String(generations[view]), '--metrics-port', '0']));

  before(async () => {
    try {
      await db.connect();
      if (views.includes('redis')) {
        redisDb = await claimGeneration(process.env);
        generations.redis = redisDb.generation;
        await redisGenerations.promote(redisDb.generation, process.env);
      }
      for (const view of views) start(view);
      api = await startApi(process.env, { port: 0 });
      service = await mintToken(jwt, { service: true });
      setUp();
    } catch (error) {
      setUp(error);
      throw error;
    }
  }, { timeout: 60_000 });

  after(async () => {
    for (const p of Object.values(projectors)) if (p) await stopProjector(p);
    await api?.close();
    if (redisDb) {
      const control = openRedis(redisTarget(process.env), { queue: true });
      await control.del(liveGenerationKey(process.env));
      control.disconnect();
      await redisDb.release();
    }
    if (views.includes('neo4j')) {
      const driver = connectNeo4j(process.env);
      const readers = readerGraph(process.env);
      const session = driver.session();
      await session.run(`MATCH (g:NovaGeneration {generation: $g}) REMOVE g.${readers.liveFlag}`, { g: generations.neo4j });
      await session.run(`DROP INDEX ${readers.labelIndex} IF EXISTS`);
      await session.close();
      await dropGraphGeneration(driver, generations.neo4j, readers);
      await driver.close();
    }
    if (views.includes('elasticsearch')) {
      // the namespace's aliases first: drop refuses a generation they show live
      const es = new ElasticsearchClient({ node: env('ELASTICSEARCH_URL') });
      const g = generations.elasticsearch;
      await es.indices.updateAliases({ actions: aliasNames.map((alias) => ({ remove: { index: indexName(alias, g), alias: readerAliasName(alias, process.env) } })) }).catch(() => {});
      await es.close();
      await elasticsearchGenerations('elasticsearch').drop(g, process.env);
    }
    if (views.includes('clickhouse')) {
      const client = clickhouseClient(process.env);
      await dropTableGeneration(client, generations.clickhouse, readerName(userBehaviorEvents, process.env));
      await clearCheckpoints(client, { projector: 'clickhouse', generation: generations.clickhouse });
      await client.close();
    }
    await db.end();
  });

  return {
    db, jwt, call, newUser, readAfter,
    /** where the API under test listens, once set up */
    get url() { return api.url; },
    /** each view's generation in this file's namespace */
    generations,
    /** a service token (it may create users), once set up */
    get service() { return service; },
    /** stops a view's projector: its view lags from now on */
    stop: async (view: ViewName) => stopProjector(projectors[view]!),
    /** starts it again where its checkpoints are */
    start,
  };
}
