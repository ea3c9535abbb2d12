// Live-stream reads from the Redis views: stream:live (the streams live now, newest start
// first, scored by start time in ms) and stream:meta:{id} (each stream's public metadata).
import type { Redis } from 'ioredis';
import { readerKeys } from '../../../projectors/redis/reader-keys.ts';
import { sortedSetPage, type SortedSetPosition } from '../../http/sorted-set-page.ts';
import { asStream } from './writes.ts';

type Meta = Record<string, unknown>;

export async function streamFromView(redis: Redis, id: string) {
  const held = await redis.get(readerKeys.streamMeta(id));
  return held === null ? undefined : asStream(JSON.parse(held) as Meta);
}

/** A page of the streams live now, newest start first. */
export async function liveFromView(redis: Redis, limit: number, before?: SortedSetPosition) {
  const { entries, more } = await sortedSetPage(redis, readerKeys.liveNow, limit, before);
  const metas = entries.length === 0 ? [] : await redis.mget(entries.map((e) => readerKeys.streamMeta(e.id)));
  // a stream that ended between the two reads has its metadata still, and shows as ended
  const items = metas.flatMap((held) => (held === null ? [] : [asStream(JSON.parse(held) as Meta)]));
  return { items, last: entries.at(-1), more };
}
