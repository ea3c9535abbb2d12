// A TRUNCATE over a big Redis generation: --keys stream:meta keys (with their row versions) in a
// claimed generation of its own, then a TRUNCATE of live_streams through the sink, while a
// reader GETs one key of another generation in a closed loop. Prints how long the sweep took
// and the reader's latency during it against the same reader with nothing running (same run):
// the sweep goes a SCAN page at a time, so no single command blocks the server for long.
import { performance } from 'node:perf_hooks';
import type { Change } from '../../projectors/runtime/decode/index.ts';
import { openRedis, redisTarget } from '../../projectors/redis/client.ts';
import { mapToRedis } from '../../projectors/redis/mapping/index.ts';
import { viewKeys } from '../../projectors/redis/reader-keys.ts';
import { createRedisSink } from '../../projectors/redis/sink.ts';
import { claimGeneration } from '../../projectors/redis/test/own-generation.ts';
import { describePercentiles, note, percentiles, progress, round } from './measure.ts';

/** A reader's GET latencies (ms) in a closed loop until `until` resolves. */
async function readerDuring(client: ReturnType<typeof openRedis>, key: string, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const latencies: number[] = [];
  while (!done) {
    const at = performance.now();
    await client.get(key);
    latencies.push(round(performance.now() - at, 3));
  }
  return latencies;
}

export async function benchRedisTruncate(options: { keys: number; env: NodeJS.ProcessEnv }) {
  const { keys, env } = options;
  const own = await claimGeneration(env);
  const reader = openRedis(redisTarget(env), { queue: true });
  try {
    note(`redis-truncate: filling generation ${own.generation} with ${keys.toLocaleString('en')} stream:meta keys`);
    const shown = progress('keys written', keys);
    for (let i = 0; i < keys; i += 10_000) {
      const pipeline = own.redis.pipeline();
      for (let id = i; id < Math.min(keys, i + 10_000); id++) pipeline.set(own.key(viewKeys.streamMeta(id)), `{"id":${id},"title":"stream ${id}"}`);
      await pipeline.exec();
      shown(Math.min(keys, i + 10_000));
    }
    const probe = 'nova:bench:truncate-probe';
    await reader.set(probe, 'x');
    const idle = await readerDuring(reader, probe, new Promise((resolve) => setTimeout(resolve, 3_000)));
    const truncate: Change = {
      kind: 'change', op: 'truncate', table: 'public.live_streams', key: null, before: null, after: null, version: 10n, commitOrder: 10n, streamSince: 0, txId: null, commitTs: new Date(0),
      position: { topic: 'nova.live.live_streams', partition: 0, offset: '0' },
    };
    const sink = await createRedisSink({ target: redisTarget(env), generation: own.generation, projector: 'redis-truncate-bench' });
    const startedAt = performance.now();
    const sweep = sink.apply(mapToRedis(truncate).map((op) => ({ op, change: truncate })), [], async () => {});
    const during = await readerDuring(reader, probe, sweep);
    await sweep;
    const seconds = (performance.now() - startedAt) / 1000;
    await sink.close();
    let left = 0;
    for (let id = 0; id < keys; id += Math.max(1, Math.floor(keys / 1000))) left += await own.redis.exists(own.key(viewKeys.streamMeta(id)));
    const [quiet, swept] = [percentiles(idle), percentiles(during)];
    console.log(`TRUNCATE live_streams over ${keys.toLocaleString('en')} keys: ${round(seconds, 1)} s (${Math.round(keys / seconds).toLocaleString('en')} keys/s), ${left} of 1,000 sampled keys left`);
    console.log(`  a reader's GET, nothing else running: ${describePercentiles(quiet)}`);
    console.log(`  the same reader during the sweep:     ${describePercentiles(swept)}`);
    console.log(`  during/idle: p99 ${round(swept.p99 / (quiet.p99 || 1), 1)}x, max ${round(swept.max / (quiet.max || 1), 1)}x`);
    console.log(JSON.stringify({ bench: 'redis-truncate', keys, seconds: round(seconds, 2), left, idle: quiet, during: swept }));
    await reader.del(probe);
  } finally {
    reader.disconnect();
    await own.release();
  }
}
