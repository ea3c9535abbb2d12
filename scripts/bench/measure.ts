// Small measuring helpers shared by the projector benchmarks: progress on stderr, clocks,
// CPU and event-loop use, exact percentiles.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const secondsSince = (startMs: number) => (performance.now() - startMs) / 1000;
export const round = (n: number, digits: number) => Number(n.toFixed(digits));
export const perSecond = (count: number, seconds: number) => (seconds > 0 ? Math.round(count / seconds) : 0);

/** Prints `label: done/total` on stderr at most once a second, and always at the end. */
export function progress(label: string, of: number): (done: number) => void {
  let shownAt = -Infinity;
  return (done) => {
    if (done < of && performance.now() - shownAt < 1000) return;
    shownAt = performance.now();
    process.stderr.write(`${label}: ${done.toLocaleString('en')}/${of.toLocaleString('en')}\n`);
  };
}

export const note = (line: string) => process.stderr.write(`${line}\n`);

/** How long `work` took, in seconds; a failure is noted and kept as the figure it is (a server's refusal). */
export type Timed = { seconds: number; error?: string };
export async function timed(what: string, work: () => Promise<unknown>): Promise<Timed> {
  const startedAt = performance.now();
  try {
    await work();
    return { seconds: round((performance.now() - startedAt) / 1000, 2) };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? String(error);
    note(`${what} failed: ${message}`);
    return { seconds: round((performance.now() - startedAt) / 1000, 2), error: message };
  }
}

/** Wall time, this process's CPU time and its event loop's utilization, from start() to stop(). */
export type Clock = { seconds: number; cpuSeconds: number; eventLoopUtilization: number };

export function startClock(): { stop(): Clock } {
  const wallMs = performance.now();
  const cpu = process.cpuUsage();
  const elu: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    stop() {
      const { user, system } = process.cpuUsage(cpu);
      return { seconds: secondsSince(wallMs), cpuSeconds: (user + system) / 1e6, eventLoopUtilization: round(performance.eventLoopUtilization(elu).utilization, 3) };
    },
  };
}

export type Percentiles = { count: number; p50: number; p95: number; p99: number; max: number; mean: number };

/** Exact (nearest-rank) percentiles of `values`; all zero when there are none. */
export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(values).sort();
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return { count: sorted.length, p50: rank(50), p95: rank(95), p99: rank(99), max: sorted[sorted.length - 1] as number, mean: round(sum / sorted.length, 1) };
}

export const describePercentiles = (p: Percentiles, unit = 'ms') =>
  `p50 ${p.p50} ${unit}  p95 ${p.p95} ${unit}  p99 ${p.p99} ${unit}  max ${p.max} ${unit}  (${p.count.toLocaleString('en')} samples)`;

/** One line about the machine, so figures are read against it. */
export async function machineNote(): Promise<string> {
  const os = await import('node:os');
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; the whole stack (PostgreSQL, Debezium/Connect, Kafka, registry, Redis, Elasticsearch, ...) runs on it too; load average ${load}`;
}
