// Recommendations: what the recommendation workers cached, recommendation:user:{u} (the
// caller's, an hour) or recommendation:trending (everyone's, ten minutes), as the seed's JSON
// lists of {item_id, score}. Until a worker has filled them the answer is honest: empty, `cold`.
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../../app.ts';
import type { ApiDeps } from '../../deps.ts';
import { cacheKeys } from '../../../projectors/redis/reader-keys.ts';
import { actingUser, jsonContent } from '../../http/route-helpers.ts';
import { fromView } from '../../http/views.ts';

const tags = ['recommendations'];
const item = z.object({ item_id: z.string(), score: z.number() });
const recommendations = z
  .object({ items: z.array(item), source: z.enum(['personal', 'trending', 'cold']).openapi({ description: 'personal: the caller\'s own list; trending: the cold-start list; cold: neither is computed yet' }) })
  .openapi('Recommendations');

/** A cached list as the seed writes it; anything else in the key is no list (a worker's bug): skipped, not a 500. */
function asItems(held: string | null): z.infer<typeof item>[] | undefined {
  if (held === null) return undefined;
  try {
    const parsed = JSON.parse(held) as unknown;
    if (!Array.isArray(parsed)) return undefined;
    return parsed.flatMap((e: { item_id?: unknown; score?: unknown }) =>
      (typeof e?.item_id === 'number' || typeof e?.item_id === 'string') && typeof e.score === 'number' ? [{ item_id: String(e.item_id), score: e.score }] : []);
  } catch {
    return undefined;
  }
}

export function recommendationRoutes(deps: ApiDeps) {
  const app = router();
  app.openapi(
    createRoute({
      method: 'get', path: '/recommendations', tags,
      description: 'Posts recommended for the caller, best first: their own cached list (recommendation:user:{u}), else the trending list (recommendation:trending), else an empty `cold` answer. Both are caches the recommendation workers fill, not views of PostgreSQL rows, so no consistency token applies.',
      responses: { 200: jsonContent(recommendations, 'the list'), 503: { description: 'Redis is down' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      // two GETs, not one MGET: on a cluster the two keys are on different slots
      const [personal, trending] = await fromView('redis', () => Promise.all([deps.ephemeral.get(cacheKeys.recommendedPosts(userId)), deps.ephemeral.get(cacheKeys.trendingPosts)]));
      const own = asItems(personal ?? null);
      if (own) return c.json({ items: own, source: 'personal' as const }, 200);
      const common = asItems(trending ?? null);
      return c.json(common ? { items: common, source: 'trending' as const } : { items: [], source: 'cold' as const }, 200);
    },
  );
  return app;
}
