// The caller's activity summary: their interactions per type per day, from the ClickHouse view
// `user_behavior_events` (the reader namespace's). The query is built through the projector's
// escaping helpers (escape.ts): the user id and the day count are numbers it checks itself.
import { createRoute, z } from '@hono/zod-openapi';
import { router } from '../../app.ts';
import type { ApiDeps } from '../../deps.ts';
import { sqlIdentifier, sqlUnsigned } from '../../../projectors/clickhouse/escape.ts';
import { userBehaviorEvents } from '../../../projectors/clickhouse/tables.ts';
import { readAfterToken } from '../../http/consistency.ts';
import { actingUser, jsonContent } from '../../http/route-helpers.ts';
import { fromView } from '../../http/views.ts';

const tags = ['analytics'];
const activity = z
  .object({ days: z.array(z.object({ day: z.string(), counts: z.record(z.string(), z.number().int()) })) })
  .openapi('Activity');

export function analyticsRoutes(deps: ApiDeps) {
  const app = router();
  app.openapi(
    createRoute({
      method: 'get', path: '/activity', tags,
      request: { query: z.object({ days: z.coerce.number().int().min(1).max(90).default(7).openapi({ description: 'how many days back, 1..90' }) }) },
      description: 'The caller\'s interactions (likes, comments, ...) per type per day (UTC), oldest day first, days without any left out; from ClickHouse `user_behavior_events`. Honours Nova-Read-After; on lag answers what the view holds with `Nova-Consistency: stale`.',
      responses: { 200: jsonContent(activity, 'the summary'), 503: { description: 'the analytics view is down' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { days } = c.req.valid('query');
      await readAfterToken(c, deps, ['clickhouse'], 'stale');
      const rows = await fromView('clickhouse', async () => {
        const result = await deps.clickhouse.client.query({
          query: `SELECT toString(toDate(created_at, 'UTC')) AS day, interaction_type, count() AS n
                    FROM ${sqlIdentifier(deps.clickhouse.view(userBehaviorEvents))}
                   WHERE user_id = ${sqlUnsigned(BigInt(userId))} AND created_at >= now() - INTERVAL ${sqlUnsigned(days)} DAY
                   GROUP BY day, interaction_type ORDER BY day, interaction_type`,
          format: 'JSONEachRow',
        });
        return result.json<{ day: string; interaction_type: string; n: string }>();
      });
      const byDay = new Map<string, Record<string, number>>();
      for (const row of rows) byDay.set(row.day, { ...byDay.get(row.day), [row.interaction_type]: Number(row.n) });
      return c.json({ days: [...byDay].map(([day, counts]) => ({ day, counts })) }, 200);
    },
  );
  return app;
}
