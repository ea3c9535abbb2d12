// Which format a generation's bookkeeping is in, marked in the generation itself. Format 3: a
// generation is a key prefix with hash-tagged keys (reader-keys.ts), one script per tag
// (apply.lua), bounded views. A Nova before it kept generation N in Redis database N (format 2,
// or unmarked before that): those databases are not read at all; a format-3 projector starts its
// generations empty, and is refused only on a generation marked otherwise.
import type { RedisClient } from './client.ts';
import { tagged } from './reader-keys.ts';

export const formatKey = tagged('nova:format', 'meta');
export const currentFormat = '3';

// KEYS[1]: the marker; KEYS[2..]: keys only a Nova sink writes (all on the marker's slot).
// ARGV[1]: this format. Marks a generation that holds none of them, in the same step as it
// looks, so no write slips between.
const markScript = `
local found = redis.call('GET', KEYS[1])
if found then return found end
if redis.call('EXISTS', unpack(KEYS, 2)) > 0 then return false end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`;

/**
 * Marks generation `prefix` format 3 if it holds no Nova data (a checkpoint, a truncate), and
 * says which format it is in after that: null for Nova data unmarked.
 */
export async function markFormat(redis: RedisClient, options: { prefix: string; checkpointKey: string }): Promise<string | null> {
  // a marked generation is only read, so an instance joins its group without waiting on a write
  // (under CLIENT PAUSE WRITE too); only a generation's first start marks it
  const marked = await redis.get(options.prefix + formatKey);
  if (marked !== null) return marked;
  const evidence = [options.checkpointKey, tagged('nova:truncated', 'meta')].map((k) => options.prefix + k);
  return (await redis.eval(markScript, 1 + evidence.length, options.prefix + formatKey, ...evidence, currentFormat)) as string | null;
}

/** Refuses a generation not in format 3, naming the repair. */
export function assertFormat(generation: number, found: string | null): void {
  if (found === currentFormat) return;
  const what = found === null ? 'holds data but no format marker' : `is in format ${found}, not ${currentFormat}`;
  throw new Error(
    `redis: generation ${generation} ${what}, so its bookkeeping does not mean what this projector compares. ` +
      `Rebuild into a new generation M: scripts/nova projector rebuild redis --generation M --snapshot, ` +
      `then scripts/nova projector promote redis --generation M (and drop ${generation} once nothing reads it)`,
  );
}
