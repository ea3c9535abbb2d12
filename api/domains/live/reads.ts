// Live-stream reads from the Redis views: stream:live (the streams live now, newest start
// first, scored by start time in ms) and stream:meta:{id} (each stream's public metadata).
import type { RedisClient } from '../../../projectors/redis/client.ts';
import type { ViewKeys } from '../../../projectors/redis/reader-keys.ts';
import { sortedSetPage, type SortedSetPosition } from '../../http/sorted-set-page.ts';
import { asStream } from './writes.ts';

type Meta = Record<string, unknown>;

export async function streamFromView(redis: RedisClient, keys: ViewKeys, id: string) {
  const held = await redis.get(keys.streamMeta(id));
  return held === null ? undefined : asStream(JSON.parse(held) as Meta);
}

/** A page of the streams live now, newest start first. */
export async function liveFromView(redis: RedisClient, keys: ViewKeys, limit: number, before?: SortedSetPosition) {
  const { entries, more } = await sortedSetPage(redis, keys.liveNow, limit, before);
  // one GET each: every stream's metadata is on its own slot
  const metas = await Promise.all(entries.map((e) => redis.get(keys.streamMeta(e.id))));
  // a stream that ended between the two reads has its metadata still, and shows as ended
  const items = metas.flatMap((held) => (held === null ? [] : [asStream(JSON.parse(held) as Meta)]));
  return { items, last: entries.at(-1), more };
}
