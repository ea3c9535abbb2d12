// Which format a generation's bookkeeping is in, marked in the generation itself. Format 2:
// row versions and truncate watermarks are versionText (a snapshot read is version 0, so it only
// fills), checkpoints carry the commit order. A Nova before it wrote a snapshot read's LSN as
// the row's version, so a generation it filled holds versions that look valid and mean something
// else: it is refused, never converted in place (what it would need is the rows' real versions).
import type { Redis } from 'ioredis';

export const formatKey = 'nova:format';
export const currentFormat = '2';

/** The keys apply.lua keeps (and names alike): each row's version per table, each table's last truncate. */
export const rowVersionsKey = (table: string) => `nova:version:${table}`;
export const truncatedKey = 'nova:truncated';

// KEYS[1]: the marker; KEYS[2..]: keys only a Nova sink writes. ARGV[1]: this format. Marks a
// generation that holds none of them, in the same step as it looks, so no write slips between.
const markScript = `
local found = redis.call('GET', KEYS[1])
if found then return found end
if redis.call('EXISTS', unpack(KEYS, 2)) > 0 then return false end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`;

/**
 * Marks a generation that holds no Nova data (a checkpoint, a row version of one of `tables`, a
 * truncate) format 2, and says which format it is in after that: null for Nova data unmarked.
 */
export async function markFormat(redis: Redis, options: { checkpointKey: string; tables: string[] }): Promise<string | null> {
  const evidence = [options.checkpointKey, truncatedKey, ...options.tables.map(rowVersionsKey)];
  return (await redis.eval(markScript, 1 + evidence.length, formatKey, ...evidence, currentFormat)) as string | null;
}

/** Refuses a generation not in format 2, naming the repair. */
export function assertFormat(generation: number, found: string | null): void {
  if (found === currentFormat) return;
  const what = found === null ? 'holds data but no format marker: a Nova before format 2 wrote it' : `is in format ${found}, not ${currentFormat}`;
  throw new Error(
    `redis: generation ${generation} ${what}, so its row versions do not mean what this projector compares. ` +
      `Rebuild into a new generation M: scripts/nova projector rebuild redis --generation M --snapshot, ` +
      `then scripts/nova projector promote redis --generation M (and drop ${generation} once nothing reads it)`,
  );
}
