// The API's /metrics: requests per route, method and status with their latency, and the
// read-your-writes waits with their outcome.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

export function createApiMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nova_api_' });
  return {
    registry,
    requests: new Counter({ name: 'nova_api_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    latency: new Histogram({
      name: 'nova_api_request_duration_seconds',
      help: 'HTTP request latency by route and method',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    tokenWaits: new Histogram({
      name: 'nova_api_token_wait_seconds',
      help: 'How long reads with a consistency token waited for the views, by outcome (applied, stale, unavailable)',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
  };
}
