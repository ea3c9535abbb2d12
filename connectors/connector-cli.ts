// scripts/nova connector register|status
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { connectorStatus, loadConnector, registerConnector } from './register.ts';
import { incrementalSnapshot } from './snapshot.ts';

export const usage = `Usage: scripts/nova connector <register|status|snapshot> [--file connectors/postgres-nova.json]

  register  create the connector's topics (partitions, retention) if missing, set retention.ms
            where an existing topic drifted (a differing partition count is refused: it
            re-maps keys), then create or update the connector through Kafka Connect's REST
            API; safe to run again
  status    connector and task state, and the replication slot's lag in bytes
  snapshot --tables users,follows
            an incremental snapshot: Debezium re-reads every current row of those tables
            (public.* unless qualified) and publishes it as a snapshot read, interleaved with
            streaming; waits for Debezium's COMPLETED notification, showing progress

Environment: KAFKA_CONNECT_URL, KAFKA_BROKERS, DATABASE_URL, SCHEMA_REGISTRY_URL (scripts/nova reads them from .nova/stack.env).`;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new UsageError(`${name} is not set (bring the stack up with scripts/stack up, or export it)`);
  return value;
}

class UsageError extends Error {}

async function register(file: string | undefined): Promise<number> {
  const connector = await loadConnector(file);
  const kafka = new Kafka({ clientId: 'nova-connector-cli', brokers: requireEnv('KAFKA_BROKERS').split(','), logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await registerConnector({ connectUrl: requireEnv('KAFKA_CONNECT_URL'), admin, connector });
    for (const topic of result.topics.created) console.log(`created topic ${topic}`);
    for (const topic of result.topics.retentionSet) console.log(`set retention.ms of topic ${topic} to the plan's`);
    console.log(`connector ${connector.name} ${result.action}`);
    return 0;
  } finally {
    await admin.disconnect();
  }
}

async function status(file: string | undefined): Promise<number> {
  const connector = await loadConnector(file);
  const state = await connectorStatus(requireEnv('KAFKA_CONNECT_URL'), connector.name);
  console.log(`connector ${connector.name}: ${state.connector.state} on ${state.connector.worker_id}`);
  for (const task of state.tasks) {
    console.log(`  task ${task.id}: ${task.state}${task.trace ? `\n${task.trace.split('\n').slice(0, 5).join('\n')}` : ''}`);
  }
  const db = new pg.Client({ connectionString: requireEnv('DATABASE_URL') });
  await db.connect();
  try {
    const { rows } = await db.query(
      `SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag_bytes
         FROM pg_replication_slots WHERE slot_name = $1`,
      [connector.config['slot.name']],
    );
    const slot = rows[0];
    console.log(slot ? `  slot ${connector.config['slot.name']}: ${slot.active ? 'active' : 'inactive'}, lag ${slot.lag_bytes} bytes` : `  slot ${connector.config['slot.name']}: missing`);
  } finally {
    await db.end();
  }
  const healthy = state.connector.state === 'RUNNING' && state.tasks.every((t) => t.state === 'RUNNING');
  return healthy ? 0 : 1;
}

async function snapshot(file: string | undefined, tableList: string | undefined): Promise<number> {
  const tables = (tableList ?? '').split(',').map((t) => t.trim()).filter(Boolean).map((t) => (t.includes('.') ? t : `public.${t}`));
  if (tables.length === 0) throw new UsageError('snapshot needs --tables t1,t2');
  const { config } = await loadConnector(file);
  const kafka = new Kafka({ clientId: 'nova-connector-cli', brokers: requireEnv('KAFKA_BROKERS').split(','), logLevel: logLevel.ERROR });
  const db = new pg.Client({ connectionString: requireEnv('DATABASE_URL') });
  await db.connect();
  try {
    const { id } = await incrementalSnapshot({
      db,
      kafka,
      registryUrl: requireEnv('SCHEMA_REGISTRY_URL'),
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
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { file: { type: 'string' }, tables: { type: 'string' } } });
  try {
    switch (positionals[0]) {
      case 'register':
        return await register(values.file);
      case 'status':
        return await status(values.file);
      case 'snapshot':
        return await snapshot(values.file, values.tables);
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
