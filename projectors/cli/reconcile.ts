// `scripts/nova projector reconcile NAME`: compares a generation of a projector's views with
// PostgreSQL and reports the keys that still differ once the projector has caught up. Exit 0
// when there is no drift, 1 when there is. The repair is a rebuild into a new generation and a
// promotion (`projector rebuild NAME --generation M --promote`), then reconcile that one.
import { Kafka, logLevel, type Admin } from 'kafkajs';
import pg from 'pg';
import { novaConfig } from '../../config/nova-config.ts';
import { loadConnector } from '../../connectors/register.ts';
import type { ConnectorConfig } from '../../connectors/topic-plan.ts';
import { findDrift } from '../runtime/reconcile/find-drift.ts';
import type { CheckpointStore, Drift, ProjectorDefinition, Sink } from '../runtime/sink.ts';

export type ReconcileOptions = { generation: number | undefined; json: boolean; catchUpTimeoutMs: number };

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

type Connections = { db: pg.Client; admin: Admin; store: Sink<never> & CheckpointStore; config: ConnectorConfig };

/**
 * The connections the catch-up waits use, opened at the first re-check and shared by the rest
 * (a store's sink can take seconds to open: Milvus' client connects in ~2 s); none when the
 * first comparison finds no drift.
 */
async function withConnections<T>(definition: ProjectorDefinition<never>, generation: number, work: (connect: () => Promise<Connections>) => Promise<T>): Promise<T> {
  let opened: Promise<Connections> | undefined;
  const connect = () =>
    (opened ??= (async () => {
      const { config } = await loadConnector();
      const settings = novaConfig();
      const db = new pg.Client({ connectionString: settings.databaseUrl() });
      const admin = new Kafka({ clientId: 'nova-reconcile', brokers: settings.kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
      await Promise.all([db.connect(), admin.connect()]);
      return { db, admin, store: await definition.createSink({ generation, env: process.env, shadow: true }), config };
    })());
  try {
    return await work(connect);
  } finally {
    if (opened) {
      const { db, admin, store } = await opened;
      await Promise.all([store.close(), db.end(), admin.disconnect()]);
    }
  }
}

/** Until the generation holds everything committed in PostgreSQL when it was called. */
async function caughtUpWith({ db, admin, store, config }: Connections, topics: string[], generation: number, timeoutMs: number): Promise<void> {
  const { rows } = await db.query('SELECT pg_current_wal_lsn()::text AS lsn');
  // a change after that point, so the slot confirms it now rather than at the next heartbeat
  // (10 s) when the projected tables are idle: the connector's own heartbeat statement
  await db.query(config['heartbeat.action.query'] as string);
  await until('Debezium to publish every committed change', async () => {
    const slot = await db.query('SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $2', [rows[0].lsn, config['slot.name']]);
    return slot.rows[0]?.done === true;
  }, timeoutMs);
  const ends = new Map<string, bigint>();
  for (const topic of topics) {
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) if (high !== low) ends.set(`${topic}:${partition}`, BigInt(high));
  }
  await until(`generation ${generation} to reach the end of its topics (is its projector running?)`, async () => {
    const at = new Map((await store.load()).map((c) => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
    return [...ends].every(([key, end]) => (at.get(key) ?? 0n) >= end);
  }, timeoutMs);
}

function print(name: string, generation: number, drift: Drift[], rechecks: number, json: boolean): void {
  if (json) {
    console.log(JSON.stringify({ projector: name, generation, drift, rechecks }));
    return;
  }
  const byView = new Map<string, number>();
  for (const d of drift) byView.set(d.view, (byView.get(d.view) ?? 0) + 1);
  const counts = [...byView].map(([view, n]) => `${view} ${n}`).join(', ');
  console.log(`${name} generation ${generation}: ${drift.length === 0 ? 'no drift' : `${drift.length} keys drift (${counts})`}${rechecks > 0 ? `, after ${rechecks} re-check(s) once caught up` : ''}`);
  for (const d of drift.slice(0, 20)) console.log(`  ${d.view}  ${d.key}  ${d.detail}`);
  if (drift.length > 20) console.log(`  … ${drift.length - 20} more (--json lists them all)`);
}

export async function reconcileProjector(definition: ProjectorDefinition<never>, options: ReconcileOptions): Promise<number> {
  const compare = definition.compareWithPostgres;
  if (!compare) throw new Error(`${definition.name} has no reconcile support yet`);
  const generation = options.generation ?? (await definition.generations?.live(process.env));
  if (generation === undefined) throw new Error(`${definition.name}: no generation is live; name one with --generation N`);
  const { drift, rechecks } = await withConnections(definition, generation, (connect) =>
    findDrift({
      compare,
      generation,
      env: process.env,
      caughtUp: async () => caughtUpWith(await connect(), definition.topics, generation, options.catchUpTimeoutMs),
    }),
  );
  print(definition.name, generation, drift, rechecks, options.json);
  return drift.length === 0 ? 0 : 1;
}
