// Cursor pages over a Redis sorted set read highest score first (the conversations list, the
// live-now list). The cursor is the last entry's (score, member): members of one score come in
// reverse lexicographic order, so the next page starts below it in that order, and an entry
// added or removed between pages shifts nothing.
import type { RedisClient } from '../../projectors/redis/client.ts';
import { z } from '@hono/zod-openapi';
import { isRowId } from './ids.ts';

export type SortedSetPosition = { score: string; id: string };
export const sortedSetCursor = z.object({ score: z.string().regex(/^-?\d{1,20}$/), id: z.string().refine(isRowId) });

/** Up to `limit` entries below `before`, and whether more follow. */
export async function sortedSetPage(redis: RedisClient, key: string, limit: number, before?: SortedSetPosition): Promise<{ entries: SortedSetPosition[]; more: boolean }> {
  // ties at the cursor's score are fetched too and skipped here (up to 100 of one score)
  const fetched = await redis.zrevrangebyscore(key, before?.score ?? '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 1 + (before ? 100 : 0));
  const entries: SortedSetPosition[] = [];
  for (let i = 0; i < fetched.length; i += 2) entries.push({ id: fetched[i] as string, score: fetched[i + 1] as string });
  const below = before ? entries.filter((e) => e.score !== before.score || e.id < before.id) : entries;
  return { entries: below.slice(0, limit), more: below.length > limit };
}
