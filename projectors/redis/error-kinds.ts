// What a failed Redis command means, by code (never the message): an error reply's code is its
// first word. OOM (maxmemory reached, noeviction) is a stall: the store is full, and retrying
// soon cannot help. BUSY (a script or module running long), LOADING (a restart reading its
// data), READONLY and MASTERDOWN (a replica, or one cut off from its master) pass: transient.
// A lost connection carries no code in ioredis' own errors (a closed stream, the retry limit),
// so the client's state says it: not ready is transient, like Node's network codes. Any other
// reply (ERR, WRONGTYPE, NOSCRIPT, CROSSSLOT, ...) is unknown to us, so fatal. On a cluster,
// TRYAGAIN (a slot migrating) and CLUSTERDOWN (a master lost, its replica not yet promoted) pass
// too; ioredis follows MOVED and ASK itself.
import { Cluster, ReplyError } from 'ioredis';
import type { RedisClient } from './client.ts';
import { storeError, type ErrorKind, type NovaError } from '../runtime/errors.ts';

const transientCodes = new Set(['BUSY', 'LOADING', 'READONLY', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN']);

/** The code of a Redis error reply (`OOM command not allowed ...` is OOM); undefined for any other failure. */
export const replyCode = (error: unknown): string | undefined => (error instanceof ReplyError ? String((error as Error).message).split(' ', 1)[0] : undefined);

/**
 * `status`: the client's connection state when the command failed (ioredis' `redis.status`). A
 * cluster client stays ready while one node is lost, so there any failure without a reply
 * (a closed connection, a slots refresh that found no node) is transient.
 */
export function redisKind(error: unknown, status: string, cluster = false): ErrorKind | undefined {
  const code = replyCode(error);
  if (code === 'OOM') return 'stall';
  if (code !== undefined) return transientCodes.has(code) ? 'transient' : undefined;
  return status === 'ready' && !cluster ? undefined : 'transient';
}

/** A failure of a command sent through `redis`, classified. */
export const redisError = (error: unknown, redis: RedisClient): NovaError => storeError(error, 'redis', (e) => redisKind(e, redis.status, redis instanceof Cluster));
