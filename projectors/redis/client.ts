// One way to reach Redis for every Nova process: a single node, or a Redis Cluster
// (novaConfig's redis()), with the same commands. Clients fail fast (one retry, no offline
// queue) so the runtime's retries and the readers' bounds decide, not a queue inside ioredis.
import { Cluster, Redis } from 'ioredis';
import { novaConfig } from '../../config/nova-config.ts';

export type RedisClient = Redis | Cluster;

export type RedisTarget = { url: string; cluster: boolean };

export const redisTarget = (env: NodeJS.ProcessEnv): RedisTarget => novaConfig(env).redis();

/**
 * `queue`: hold commands while (re)connecting, up to their timeout (for a caller with no retries
 * of its own); `name`: what CLIENT LIST shows for its connections.
 */
export function openRedis(target: RedisTarget, options: { timeoutMs?: number; queue?: boolean; name?: string } = {}): RedisClient {
  const bounds = {
    ...(options.timeoutMs === undefined ? {} : { connectTimeout: options.timeoutMs, commandTimeout: options.timeoutMs }),
    ...(options.name === undefined ? {} : { connectionName: options.name }),
  };
  const queue = options.queue ?? false;
  const client = target.cluster ? clusterClient(target.url, bounds, queue) : new Redis(target.url, { maxRetriesPerRequest: 1, enableOfflineQueue: queue, lazyConnect: !queue, ...bounds });
  client.on('error', () => {}); // surfaced through the failing command, classified there
  return client;
}

function clusterClient(url: string, bounds: { connectTimeout?: number; commandTimeout?: number; connectionName?: string }, queue: boolean): Cluster {
  const seed = new URL(url);
  return new Cluster([{ host: seed.hostname, port: Number(seed.port) }], {
    lazyConnect: !queue,
    enableOfflineQueue: queue,
    scaleReads: 'master', // views read what was written, not a replica's lagging copy
    redisOptions: { username: seed.username || undefined, password: decodeURIComponent(seed.password), maxRetriesPerRequest: 1, ...bounds },
  });
}

/** Connects a lazy client once; a client already connecting or ready is left as it is. */
export async function connect(client: RedisClient): Promise<RedisClient> {
  if (client.status === 'wait' || client.status === 'end') await client.connect();
  return client;
}

/** Every node that holds keys: the masters of a cluster, or the one node. */
export const masters = (client: RedisClient): Redis[] => (client instanceof Cluster ? client.nodes('master') : [client]);

/**
 * SCAN over every master, a page at a time: a live server keeps answering other clients
 * meanwhile. On a cluster the masters scanned must serve every slot: while one fails over,
 * ioredis lists no node for its slots, and a scan that passed them over would end as if done
 * (a sweep marked swept, a generation dropped in part), so it fails instead, to be tried again.
 */
export async function* scan(client: RedisClient, pattern: string, count = 1000): AsyncGenerator<string[]> {
  const nodes = masters(client);
  if (client instanceof Cluster) {
    const scanned = new Set(nodes.map((node) => `${node.options.host}:${node.options.port}`));
    const orphan = client.slots.findIndex((owners) => !owners?.[0] || !scanned.has(owners[0]));
    if (orphan >= 0 || client.slots.length < 16384) throw new Error(`redis: slot ${orphan} has no master to scan (a failover in progress?)`);
  }
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, page] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      if (page.length > 0) yield page;
      cursor = next;
    } while (cursor !== '0');
  }
}

/** Removes keys a page at a time, one command per key (keys of many slots), so no call blocks long. */
export async function unlinkAll(client: RedisClient, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 500) await Promise.all(keys.slice(i, i + 500).map((key) => client.unlink(key)));
}
