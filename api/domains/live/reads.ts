// Live-stream reads from the Redis views: stream:live (the streams live now, newest start
// first, scored by start time in ms) and stream:meta:{id} (each stream's public metadata).
import type { Redis } from 'ioredis';
import { readerKeys } from '../../../projectors/redis/reader-keys.ts';
import { sortedSetPage, type SortedSetPosition } from '../../http/sorted-set-page.ts';

type Meta = Record<string, unknown>;

const asStream = (meta: Meta) => ({
  id: String(meta.id), user_id: String(meta.user_id), title: String(meta.title ?? ''), description: (meta.description as string | null) ?? null,
  thumbnail_url: (meta.thumbnail_url as string | null) ?? null, hls_url: (meta.hls_url as string | null) ?? null,
  status: meta.status as 'preparing' | 'live' | 'ended', viewer_count: Number(meta.viewer_count ?? 0), peak_viewer_count: Number(meta.peak_viewer_count ?? 0),
  started_at: (meta.started_at as string | null) ?? null, ended_at: (meta.ended_at as string | null) ?? null, created_at: (meta.created_at as string | null) ?? null,
});

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
