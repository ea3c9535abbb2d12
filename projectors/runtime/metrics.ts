// Prometheus metrics, fed by the runtime's events (sinks never import prom-client), and
// the HTTP endpoints /metrics, /healthz and /readyz.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProjectorEventBus } from './events.ts';

export function projectorMetrics(events: ProjectorEventBus, projector: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ projector });
  const applied = new Counter({ name: 'nova_projector_changes_applied_total', help: 'changes applied to the store', labelNames: ['topic'], registers: [registry] });
  const batchSeconds = new Histogram({ name: 'nova_projector_batch_duration_seconds', help: 'decode, map and apply time of one batch', registers: [registry] });
  const freshness = new Histogram({
    name: 'nova_projector_freshness_seconds',
    help: 'source commit to visible in the store',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const lag = new Gauge({ name: 'nova_projector_consumer_lag', help: 'records behind the partition end', labelNames: ['topic', 'partition'], registers: [registry] });
  const deadLettered = new Counter({ name: 'nova_projector_dead_letters_total', help: 'records sent to the dead-letter topic', labelNames: ['topic', 'code'], registers: [registry] });
  const checkpoint = new Gauge({ name: 'nova_projector_checkpoint_offset', help: 'next offset recorded in the store', labelNames: ['topic', 'partition'], registers: [registry] });

  events.on('projector.batch_applied', (e) => {
    applied.inc({ topic: e.topic }, e.changes);
    batchSeconds.observe(e.durationMs / 1000);
    for (const ms of e.freshnessMs) freshness.observe(ms / 1000);
  });
  events.on('projector.checkpoint', (e) => {
    checkpoint.set({ topic: e.topic, partition: e.partition }, Number(e.nextOffset));
    lag.set({ topic: e.topic, partition: e.partition }, Math.max(0, Number(e.highWatermark) - Number(e.nextOffset)));
  });
  events.on('projector.dead_letter', (e) => deadLettered.inc({ topic: e.topic, code: e.code }));
  return registry;
}

/** Serves /metrics, /healthz (the process is up) and /readyz (it has resumed from its checkpoint). */
export function serveMetrics(options: { registry: Registry; port: number; ready: () => boolean }): Server {
  const { registry, port, ready } = options;
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    } else if (req.url === '/healthz') {
      res.end('ok');
    } else if (req.url === '/readyz') {
      res.statusCode = ready() ? 200 : 503;
      res.end(ready() ? 'ready' : 'starting');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  server.listen(port, '127.0.0.1');
  return server;
}
