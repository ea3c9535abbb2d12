// Prometheus metrics, fed by the runtime's events (sinks never import prom-client), and
// the HTTP endpoints /metrics, /healthz and /readyz.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProjectorEventBus } from './events.ts';
import type { Health } from './health.ts';

export function projectorMetrics(events: ProjectorEventBus, projector: string, now: () => number = Date.now) {
  const registry = new Registry();
  registry.setDefaultLabels({ projector });
  const partitionLabels = ['topic', 'partition'];
  const applied = new Counter({ name: 'nova_projector_changes_applied_total', help: 'changes applied to the store', labelNames: ['topic'], registers: [registry] });
  const batchSeconds = new Histogram({ name: 'nova_projector_batch_duration_seconds', help: 'decode, map and apply time of one batch', registers: [registry] });
  const freshness = new Histogram({
    name: 'nova_projector_freshness_seconds',
    help: 'source commit to visible in the store',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const lag = new Gauge({ name: 'nova_projector_consumer_lag', help: 'records behind the partition end', labelNames: partitionLabels, registers: [registry] });
  const deadLettered = new Counter({ name: 'nova_projector_dead_letters_total', help: 'records sent to the dead-letter topic', labelNames: ['topic', 'code'], registers: [registry] });
  const checkpoint = new Gauge({ name: 'nova_projector_checkpoint_offset', help: 'next offset recorded in the store', labelNames: partitionLabels, registers: [registry] });
  const retries = new Counter({ name: 'nova_projector_retries_total', help: 'attempts retried after a transient or bounded failure, by stage', labelNames: ['stage'], registers: [registry] });
  const stalled = new Gauge({ name: 'nova_projector_stalled', help: '1 while a partition is stalled (its code says why)', labelNames: [...partitionLabels, 'code'], registers: [registry] });
  const regressions = new Counter({
    name: 'nova_projector_commit_order_regressions_total',
    help: 'streamed changes earlier in commit order than their partition checkpoint: brief after a Connect crash; sustained means the source positions restarted (bump the epoch)',
    labelNames: partitionLabels,
    registers: [registry],
  });
  const breaker = new Gauge({ name: 'nova_projector_dead_letter_breaker_open', help: '1 while the dead-letter breaker holds every partition', registers: [registry] });
  const held = new Gauge({ name: 'nova_projector_assigned_partitions', help: 'partitions this instance holds (the instances of a projector share them)', labelNames: ['topic'], registers: [registry] });
  const abandoned = new Counter({
    name: 'nova_projector_abandoned_records_total',
    help: 'records whose sink call was given up when their partition was revoked; their new owner applies them',
    labelNames: ['topic'],
    registers: [registry],
  });

  // per partition: the first record fetched but not applied yet, and the topic's retention
  const oldest = new Map<string, { labels: { topic: string; partition: number }; offset: bigint; timestamp: number }>();
  const retention = new Map<string, number | null>();
  const keyOf = (topic: string, partition: number) => `${topic}:${partition}`;
  const ageSeconds = (key: string) => {
    const o = oldest.get(key);
    return o ? Math.max(0, (now() - o.timestamp) / 1000) : 0;
  };
  new Gauge({
    name: 'nova_projector_oldest_unapplied_seconds',
    help: 'age of the oldest record fetched but not yet applied (0 when caught up)',
    labelNames: partitionLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, { labels }] of oldest) this.set(labels, ageSeconds(key));
    },
  });
  new Gauge({
    name: 'nova_projector_retention_used_ratio',
    help: 'oldest unapplied record age over the topic retention.ms: at 1, retention deletes records before they are applied',
    labelNames: partitionLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, { labels }] of oldest) {
        const ms = retention.get(labels.topic);
        if (ms) this.set(labels, (ageSeconds(key) * 1000) / ms);
      }
    },
  });

  events.on('projector.assigned', ({ partitions }) => {
    held.reset();
    for (const p of partitions) held.inc({ topic: p.topic });
    for (const p of partitions) retention.set(p.topic, p.retentionMs);
    // partitions another member took: their series are that member's now
    const mine = new Set(partitions.map((p) => keyOf(p.topic, p.partition)));
    for (const key of oldest.keys()) if (!mine.has(key)) oldest.delete(key);
    for (const [key, code] of stalledWith) {
      if (mine.has(key)) continue;
      const split = key.lastIndexOf(':');
      stalled.remove({ topic: key.slice(0, split), partition: Number(key.slice(split + 1)), code });
      stalledWith.delete(key);
    }
  });
  events.on('projector.fetched', (e) => {
    lag.set({ topic: e.topic, partition: e.partition }, Math.max(0, Number(BigInt(e.highWatermark) - BigInt(e.firstOffset))));
    const key = keyOf(e.topic, e.partition);
    if (!oldest.has(key) && e.firstTimestamp !== null) oldest.set(key, { labels: { topic: e.topic, partition: e.partition }, offset: BigInt(e.firstOffset), timestamp: e.firstTimestamp });
  });
  events.on('projector.batch_applied', (e) => {
    applied.inc({ topic: e.topic }, e.changes);
    batchSeconds.observe(e.durationMs / 1000);
    for (const ms of e.freshnessMs) freshness.observe(ms / 1000);
  });
  events.on('projector.checkpoint', (e) => {
    checkpoint.set({ topic: e.topic, partition: e.partition }, Number(e.nextOffset));
    lag.set({ topic: e.topic, partition: e.partition }, Math.max(0, Number(e.highWatermark) - Number(e.nextOffset)));
    const key = keyOf(e.topic, e.partition);
    const o = oldest.get(key);
    if (o && BigInt(e.nextOffset) > o.offset) oldest.delete(key);
  });
  events.on('projector.dead_letter', (e) => deadLettered.inc({ topic: e.topic, code: e.code }));
  events.on('projector.retry', (e) => retries.inc({ stage: e.stage }));
  // the code a partition stalled with, to clear that series when it flows again
  const stalledWith = new Map<string, string>();
  events.on('projector.stalled', (e) => {
    const key = keyOf(e.topic, e.partition);
    const previous = stalledWith.get(key);
    if (previous !== undefined) stalled.remove({ topic: e.topic, partition: e.partition, code: previous });
    stalledWith.set(key, e.code);
    stalled.set({ topic: e.topic, partition: e.partition, code: e.code }, 1);
  });
  events.on('projector.unstalled', (e) => {
    const key = keyOf(e.topic, e.partition);
    const code = stalledWith.get(key);
    if (code !== undefined) stalled.remove({ topic: e.topic, partition: e.partition, code });
    stalledWith.delete(key);
  });
  events.on('projector.order_regression', (e) => regressions.inc({ topic: e.topic, partition: e.partition }));
  events.on('projector.breaker', (e) => breaker.set(e.open ? 1 : 0));
  events.on('projector.abandoned', (e) => abandoned.inc({ topic: e.topic }, Number(BigInt(e.lastOffset) - BigInt(e.firstOffset) + 1n)));
  return registry;
}

/** Serves /metrics, /healthz (the process is up) and /readyz (making progress; else the reasons, 503). */
export function serveMetrics(options: { registry: Registry; port: number; health: Health }): Server {
  const { registry, port, health } = options;
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    } else if (req.url === '/healthz') {
      res.end('ok');
    } else if (req.url === '/readyz') {
      const reasons = health.reasons();
      res.statusCode = reasons.length === 0 ? 200 : 503;
      res.end(reasons.length === 0 ? 'ready\n' : `${reasons.join('\n')}\n`);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  server.listen(port, '127.0.0.1');
  return server;
}
