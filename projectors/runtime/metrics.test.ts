// /metrics, /healthz and /readyz as a scraper and a probe see them, fed by the runtime's events.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { projectorHealth } from './health.ts';
import { projectorMetrics, serveMetrics } from './metrics.ts';
import { eventBus } from './testing/fake-pipeline.ts';

let now = 1_000_000;
const events = eventBus();
let started = false;
const server = serveMetrics({ registry: projectorMetrics(events, 'fake', () => now), port: 0, health: projectorHealth(events, { started: () => started, stuckAfterMs: 1000, now: () => now }) });
after(() => server.close());
const get = async (path: string) => {
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
  const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
  return { status: response.status, body: await response.text() };
};

test('/healthz answers while the process is up; /readyz only once it resumed and while it makes progress', async () => {
  assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok' });
  assert.equal((await get('/readyz')).status, 503, 'not before it resumed from the store');
  started = true;
  assert.deepEqual(await get('/readyz'), { status: 200, body: 'ready\n' });
  events.emit('projector.stalled', { topic: 't', partition: 1, code: 'NOVA_D1002', reason: 'the registry has no schema with id 7', retryInMs: 5000 });
  const stalled = await get('/readyz');
  assert.equal(stalled.status, 503);
  assert.match(stalled.body, /stalled t\[1\]: NOVA_D1002 the registry has no schema with id 7/);
  events.emit('projector.unstalled', { topic: 't', partition: 1 });
  assert.equal((await get('/readyz')).status, 200);
  assert.equal((await get('/nothing')).status, 404);
});

test('/metrics: retries by stage, stalls by code, the oldest unapplied record and how much of retention it used', async () => {
  events.emit('projector.assigned', { partitions: [{ topic: 't', partition: 0, low: '0', high: '10', retentionMs: 100_000 }] });
  events.emit('projector.retry', { stage: 'sink', attempt: 1, delayMs: 1, error: 'down' });
  events.emit('projector.retry', { stage: 'sink', attempt: 2, delayMs: 2, error: 'down' });
  events.emit('projector.fetched', { topic: 't', partition: 0, highWatermark: '10', firstOffset: '4', firstTimestamp: now - 25_000 });
  events.emit('projector.stalled', { topic: 't', partition: 0, code: 'NOVA_C1001', reason: 'gap', retryInMs: null });
  const { body } = await get('/metrics');
  assert.match(body, /nova_projector_retries_total\{stage="sink",projector="fake"\} 2/);
  assert.match(body, /nova_projector_stalled\{topic="t",partition="0",code="NOVA_C1001",projector="fake"\} 1/);
  assert.match(body, /nova_projector_oldest_unapplied_seconds\{topic="t",partition="0",projector="fake"\} 25/);
  assert.match(body, /nova_projector_retention_used_ratio\{topic="t",partition="0",projector="fake"\} 0\.25/);
  assert.match(body, /nova_projector_consumer_lag\{topic="t",partition="0",projector="fake"\} 6/);
  events.emit('projector.checkpoint', { topic: 't', partition: 0, nextOffset: '10', commitOrder: null, highWatermark: '10' });
  const caughtUp = (await get('/metrics')).body;
  assert.doesNotMatch(caughtUp, /nova_projector_oldest_unapplied_seconds\{topic="t"/, 'nothing waits once applied');
  events.emit('projector.assigned', { partitions: [] });
  assert.doesNotMatch((await get('/metrics')).body, /nova_projector_stalled\{topic="t"/, 'a partition another member took is not ours to report');
});
