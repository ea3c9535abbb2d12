// scripts/nova connector register|status|snapshot|epoch
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { novaConfig } from '../config/nova-config.ts';
import { connectorStatus, putConnectorConfig, resetConnectorOffsets, resumeConnector, stopConnector } from './connect-rest.ts';
import { bumpedEpoch, currentEpoch, deployedConfig, epochOfConfig, storedEpoch, withSourceEpoch } from './epoch.ts';
import { loadConnector, lostSlotRepair, registerConnector, slotState } from './register.ts';
import { dropReplicationSlot, replicatorFromEnv } from './slot.ts';
import { incrementalSnapshot } from './snapshot.ts';

export const usage = `Usage: scripts/nova connector <register|status|snapshot|epoch> [--file connectors/postgres-nova.json]

  register  create the connector's topics (partitions, retention, size limit) if missing, align
            retention.ms and max.message.bytes where an existing topic drifted (a differing
            partition count is refused: it re-maps keys), then create or update the connector
            through Kafka Connect's REST API, stamping the current source epoch; refuses when
            the connector has streamed before and its replication slot is gone (a gap);
            safe to run again
  status    connector and task state, the source epoch, and the replication slot: its lag in
            bytes and wal_status (lost: PostgreSQL dropped WAL the connector had not read)
  epoch [--bump [--after-gap] [--reason TEXT]]
            show the source epoch, or raise it. Raise it at a cutover where PostgreSQL's
            positions restart lower (a restore from backup, a major upgrade by logical
            replication): later changes then outrank everything before. --after-gap: the stream
            lost changes (a lost slot): the old slot is dropped, the connector's offsets reset
            (Debezium snapshots every table again) and every projector generation filled
            before refuses the new stream until rebuilt with --snapshot
  snapshot --tables users,follows
            an incremental snapshot: Debezium re-reads every current row of those tables
            (public.* unless qualified) and publishes it as a snapshot read, interleaved with
            streaming; waits for Debezium's COMPLETED notification, showing progress

Environment: KAFKA_CONNECT_URL, KAFKA_BROKERS, DATABASE_URL, SCHEMA_REGISTRY_URL (scripts/nova reads them from .nova/stack.env).`;

class UsageError extends Error {}

async function withDb<T>(work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: novaConfig().databaseUrl() });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

async function register(file: string | undefined): Promise<number> {
  const connector = await loadConnector(file);
  const kafka = new Kafka({ clientId: 'nova-connector-cli', brokers: novaConfig().kafkaBrokers(), logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await withDb((db) => registerConnector({ connectUrl: novaConfig().kafkaConnectUrl(), admin, db, connector }));
    for (const topic of result.topics.created) console.log(`created topic ${topic}`);
    for (const topic of result.topics.aligned) console.log(`set retention.ms and max.message.bytes of topic ${topic} to the plan's`);
    console.log(`connector ${connector.name} ${result.action} (source epoch ${result.epoch.epoch}, stream since epoch ${result.epoch.streamSince})`);
    return 0;
  } finally {
    await admin.disconnect();
  }
}

async function epoch(file: string | undefined, options: { bump: boolean; afterGap: boolean; reason: string | undefined }): Promise<number> {
  const connector = await loadConnector(file);
  const connectUrl = novaConfig().kafkaConnectUrl();
  const slot = connector.config['slot.name'] as string;
  return withDb(async (db) => {
    if (!options.bump) {
      const deployed = await deployedConfig(connectUrl, connector.name);
      const [fromConnect, fromDb] = [deployed && epochOfConfig(deployed), await storedEpoch(db, connector.name)];
      const show = (e: { epoch: number; streamSince: number } | undefined) => (e ? `epoch ${e.epoch}, stream since epoch ${e.streamSince}` : 'none');
      console.log(`${connector.name}: deployed ${show(fromConnect)}; recorded in PostgreSQL ${show(fromDb)}`);
      return 0;
    }
    if (options.afterGap === false && options.reason === undefined) throw new UsageError('--bump needs --reason TEXT (what the cutover was), or --after-gap');
    // a missing setting fails before anything has changed
    const replicator = options.afterGap ? replicatorFromEnv(process.env) : undefined;
    const current = await currentEpoch({ db, connectUrl, name: connector.name, file: connector.config });
    const reason = options.reason ?? 'a gap in the stream (lost replication slot)';
    const next = await bumpedEpoch(db, connector.name, current, { afterGap: options.afterGap, reason });
    const config = withSourceEpoch((await deployedConfig(connectUrl, connector.name)) ?? connector.config, next);
    if (replicator) {
      await stopConnector(connectUrl, connector.name);
      await resetConnectorOffsets(connectUrl, connector.name);
      const state = await slotState(db, slot);
      if (state.exists) await dropReplicationSlot(replicator, slot);
      await putConnectorConfig(connectUrl, connector.name, config);
      await resumeConnector(connectUrl, connector.name);
      console.log(`${connector.name}: source epoch ${next.epoch}, a new stream: slot ${slot} recreated and every table snapshotted again. Rebuild every projector with --snapshot.`);
    } else {
      await putConnectorConfig(connectUrl, connector.name, config);
      console.log(`${connector.name}: source epoch ${next.epoch} (the stream goes on since epoch ${next.streamSince})`);
    }
    return 0;
  });
}

async function status(file: string | undefined): Promise<number> {
  const connector = await loadConnector(file);
  const state = await connectorStatus(novaConfig().kafkaConnectUrl(), connector.name);
  console.log(`connector ${connector.name}: ${state.connector.state} on ${state.connector.worker_id}`);
  for (const task of state.tasks) {
    console.log(`  task ${task.id}: ${task.state}${task.trace ? `\n${task.trace.split('\n').slice(0, 5).join('\n')}` : ''}`);
  }
  const slotName = connector.config['slot.name'] as string;
  const slot = await withDb(async (db) => {
    const epoch = await storedEpoch(db, connector.name);
    console.log(`  source epoch ${epoch?.epoch ?? 0}, stream since epoch ${epoch?.streamSince ?? 0}`);
    return slotState(db, slotName);
  });
  console.log(slot.exists ? `  slot ${slotName}: ${slot.active ? 'active' : 'inactive'}, wal_status ${slot.walStatus}, lag ${slot.lagBytes} bytes` : `  slot ${slotName}: missing`);
  if (!slot.exists || slot.walStatus === 'lost') console.log(`  ${lostSlotRepair(slotName)}`);
  const healthy = state.connector.state === 'RUNNING' && state.tasks.every((t) => t.state === 'RUNNING') && slot.exists && slot.walStatus !== 'lost';
  return healthy ? 0 : 1;
}

async function snapshot(file: string | undefined, tableList: string | undefined): Promise<number> {
  const tables = (tableList ?? '').split(',').map((t) => t.trim()).filter(Boolean).map((t) => (t.includes('.') ? t : `public.${t}`));
  if (tables.length === 0) throw new UsageError('snapshot needs --tables t1,t2');
  const { config } = await loadConnector(file);
  const kafka = new Kafka({ clientId: 'nova-connector-cli', brokers: novaConfig().kafkaBrokers(), logLevel: logLevel.ERROR });
  const db = new pg.Client({ connectionString: novaConfig().databaseUrl() });
  await db.connect();
  try {
    const { id } = await incrementalSnapshot({
      db,
      kafka,
      registryUrl: novaConfig().schemaRegistryUrl(),
      config,
      tables,
      onProgress: ({ type, detail }) => console.error(`snapshot ${type.toLowerCase()}${detail['current_collection_in_progress'] ? `: ${detail['current_collection_in_progress']}` : ''}${detail['data_collection'] ? `: ${detail['data_collection']}` : ''}`),
    });
    console.log(`incremental snapshot ${id} of ${tables.join(', ')} completed`);
    return 0;
  } finally {
    await db.end();
  }
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { file: { type: 'string' }, tables: { type: 'string' }, bump: { type: 'boolean', default: false }, 'after-gap': { type: 'boolean', default: false }, reason: { type: 'string' } },
  });
  try {
    switch (positionals[0]) {
      case 'register':
        return await register(values.file);
      case 'status':
        return await status(values.file);
      case 'snapshot':
        return await snapshot(values.file, values.tables);
      case 'epoch':
        return await epoch(values.file, { bump: values.bump, afterGap: values['after-gap'], reason: values.reason });
      default:
        console.error(usage);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`nova connector: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
