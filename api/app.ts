// The Nova API: Hono with OpenAPI routes, one module per domain (domains/), each with its
// routes, validation, PostgreSQL writes and view reads. Every route but health, metrics and
// docs needs a bearer token; writes are rate-limited per user.
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { ApiDeps } from './deps.ts';
import { authenticate, type AuthEnv } from './http/auth.ts';
import { onError } from './http/errors.ts';
import { Problem, problemResponse, problems } from './http/problem.ts';
import { limitWrites } from './http/rate-limit.ts';
import { analyticsRoutes } from './domains/analytics/routes.ts';
import { liveRoutes } from './domains/live/routes.ts';
import { messageRoutes } from './domains/messages/routes.ts';
import { notificationRoutes } from './domains/notifications/routes.ts';
import { recommendationRoutes } from './domains/recommendations/routes.ts';
import { socialRoutes } from './domains/social/routes.ts';
import { userRoutes } from './domains/users/routes.ts';

export type AppEnv = AuthEnv & { Variables: { requestId: string } };

/** OpenAPI routers share this: a request the schemas refuse is a 400 problem naming each field. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw problems.invalid(result.error.issues.map((issue) => ({ field: issue.path.join('.') || 'body', message: issue.message })));
      }
    },
  });
}

export function createApp(deps: ApiDeps, health: { ready(): Promise<{ ok: boolean; checks: Record<string, string> }> }) {
  const app = router();
  app.onError(onError(deps.log));
  app.notFound((c) => problemResponse(c, problems.notFound(`${c.req.method} ${c.req.path}`)));
  app.use(requestId());
  app.use(async (c, next) => {
    const started = process.hrtime.bigint();
    await next();
    const route = c.req.routePath;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    deps.metrics.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
    deps.metrics.latency.observe({ route, method: c.req.method }, seconds);
    if (c.res.status >= 500) deps.log.warn({ requestId: c.get('requestId'), route, status: c.res.status }, 'request failed');
  });

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    const ready = await health.ready();
    return c.json(ready, ready.ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }));
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Nova API', version: '0.1.0', description: 'Writes go to PostgreSQL only; reads come from the views. Send a write\'s Nova-Consistency-Token back as Nova-Read-After to read your own writes.' },
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.get('/docs', (c) => c.html(`<!doctype html><title>Nova API</title><p>The OpenAPI 3.1 description is at <a href="/openapi.json">/openapi.json</a>.</p>`));

  app.use('*', bodyLimit({ maxSize: 64 * 1024, onError: () => { throw new Problem(413, 'body-too-large', 'The body is larger than 64 KB'); } }));
  app.use('*', authenticate(deps.jwt));
  app.use('*', limitWrites(deps));
  app.route('/', userRoutes(deps));
  app.route('/', socialRoutes(deps));
  app.route('/', notificationRoutes(deps));
  app.route('/', messageRoutes(deps));
  app.route('/', liveRoutes(deps));
  app.route('/', analyticsRoutes(deps));
  app.route('/', recommendationRoutes(deps));
  return app;
}
