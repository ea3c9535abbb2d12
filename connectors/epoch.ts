// The source epoch a connector stamps on every record (two InsertHeader transforms; what the
// projectors do with it: projectors/runtime/decode/version.ts). Kept in two places, each of
// which can be lost on its own: the deployed connector config and PostgreSQL's
// nova_source_epoch row; the higher of the two is the epoch, so neither loss takes it back.
import type pg from 'pg';
import { maxEpoch } from '../projectors/runtime/decode/version.ts';
import { ConnectError, connectRequest } from './connect-rest.ts';
import type { ConnectorConfig } from './topic-plan.ts';

export type SourceEpoch = { epoch: number; streamSince: number };

const epochKey = 'transforms.sourceEpoch.value.literal';
const sinceKey = 'transforms.streamSince.value.literal';

/** The epoch a connector config stamps, or undefined when it stamps none. */
export function epochOfConfig(config: ConnectorConfig): SourceEpoch | undefined {
  if (config[epochKey] === undefined) return undefined;
  return { epoch: Number(config[epochKey]), streamSince: Number(config[sinceKey] ?? 0) };
}

export const withSourceEpoch = (config: ConnectorConfig, { epoch, streamSince }: SourceEpoch): ConnectorConfig => ({
  ...config,
  [epochKey]: String(epoch),
  [sinceKey]: String(streamSince),
});

const newest = (...epochs: (SourceEpoch | undefined)[]): SourceEpoch =>
  epochs.reduce<SourceEpoch>(
    (max, e) => (e ? { epoch: Math.max(max.epoch, e.epoch), streamSince: Math.max(max.streamSince, e.streamSince) } : max),
    { epoch: 0, streamSince: 0 },
  );

export async function storedEpoch(db: pg.ClientBase, connector: string): Promise<SourceEpoch | undefined> {
  const { rows } = await db.query('SELECT epoch, stream_since FROM nova_source_epoch WHERE connector = $1', [connector]);
  return rows[0] ? { epoch: Number(rows[0].epoch), streamSince: Number(rows[0].stream_since) } : undefined;
}

async function storeEpoch(db: pg.ClientBase, connector: string, { epoch, streamSince }: SourceEpoch, reason: string): Promise<void> {
  await db.query(
    `INSERT INTO nova_source_epoch (connector, epoch, stream_since, reason) VALUES ($1, $2, $3, $4)
     ON CONFLICT (connector) DO UPDATE SET epoch = EXCLUDED.epoch, stream_since = EXCLUDED.stream_since, reason = EXCLUDED.reason, bumped_at = now()`,
    [connector, epoch, streamSince, reason],
  );
}

/** The deployed connector's config, or undefined when Connect has no such connector. */
export async function deployedConfig(connectUrl: string, connector: string): Promise<ConnectorConfig | undefined> {
  try {
    return (await connectRequest(connectUrl, 'GET', `/connectors/${encodeURIComponent(connector)}/config`)) as ConnectorConfig;
  } catch (error) {
    if (error instanceof ConnectError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * The epoch to deploy: the highest of the config file, the deployed connector and PostgreSQL's
 * row, which is brought up to it (an epoch never goes back).
 */
export async function currentEpoch(options: { db: pg.ClientBase; connectUrl: string; name: string; file: ConnectorConfig }): Promise<SourceEpoch> {
  const { db, connectUrl, name, file } = options;
  const deployed = await deployedConfig(connectUrl, name);
  const stored = await storedEpoch(db, name);
  const epoch = newest(epochOfConfig(file), deployed && epochOfConfig(deployed), stored);
  if (!stored || stored.epoch !== epoch.epoch || stored.streamSince !== epoch.streamSince) await storeEpoch(db, name, epoch, stored ? 'raised to the deployed connector' : 'first registration');
  return epoch;
}

/**
 * The next epoch, recorded in PostgreSQL before the connector stamps it. `afterGap`: the
 * stream lost changes (a lost replication slot), so the new epoch also starts a new stream.
 */
export async function bumpedEpoch(db: pg.ClientBase, name: string, current: SourceEpoch, options: { afterGap: boolean; reason: string }): Promise<SourceEpoch> {
  if (current.epoch >= maxEpoch) throw new Error(`the source epoch is ${current.epoch}, the highest there is`);
  const epoch = current.epoch + 1;
  const next = { epoch, streamSince: options.afterGap ? epoch : current.streamSince };
  await storeEpoch(db, name, next, options.reason);
  return next;
}
