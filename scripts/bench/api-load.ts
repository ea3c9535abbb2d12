// One read (or write) measurement with autocannon: `connections` keep-alive connections, each
// sending its next request as soon as the last one answered, for `seconds`, after a warm-up
// that is not counted. Every request takes the next of `variants` (one per user, round robin
// over all connections), so the load spreads over the users instead of one hot key. Latencies
// are autocannon's own per-response times, kept whole (2xx only) for exact percentiles;
// requests/s counts 2xx answers over the measured time.
import autocannon from 'autocannon';
import type { IncomingHttpHeaders } from 'node:http';
import { describeCpu, watchMachineCpu, type CpuShare } from './machine-cpu.ts';
import { note, percentiles, round, type Percentiles } from './measure.ts';

export type Variant = { path: string; method?: 'GET' | 'POST'; headers: Record<string, string>; body?: string; user: number };

export type Load = {
  requestsPerSecond: number;
  latencyMs: Percentiles;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  seconds: number;
  cpu: CpuShare | undefined;
  /** the `tally` header's values over the measured answers ('-' when absent) */
  tallied?: Record<string, number>;
};

export type LoadOptions = {
  url: string;
  connections: number;
  seconds: number;
  variants: readonly Variant[];
  warmupSeconds?: number;
  /** told of every answer, warm-up included, with the variant it answered (before its connection sends the next request) */
  onAnswer?: (variant: Variant, status: number, headers: IncomingHttpHeaders) => void;
  /** a response header whose values the measured answers are counted by (e.g. nova-served-by) */
  tally?: string;
  /** run before the warm-up and again before the measurement (e.g. emptying a cache the warm-up filled) */
  prepare?: () => Promise<void>;
  /** pids to name in the CPU shares (the API, the baseline server, ...) */
  labels?: Map<number, string>;
};

type Context = { variant?: Variant };

async function fire(options: LoadOptions, seconds: number, tallied?: Record<string, number>) {
  const { url, connections, variants, onAnswer, tally } = options;
  let next = 0;
  const latencies: number[] = [];
  const answered = onAnswer || (tally && tallied)
    ? (status: number, _body: string, context: object, headers: IncomingHttpHeaders = {}) => {
        const variant = (context as Context).variant as Variant;
        onAnswer?.(variant, status, headers);
        if (tally && tallied) {
          const value = String(Object.entries(headers).find(([name]) => name.toLowerCase() === tally)?.[1] ?? '-');
          tallied[value] = (tallied[value] ?? 0) + 1;
        }
      }
    : undefined;
  // without a callback autocannon answers its instance, made thenable (its types know one or the other)
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        setupRequest: (request, context) => {
          const variant = variants[next++ % variants.length] as Variant;
          (context as Context).variant = variant;
          return { ...request, method: variant.method ?? 'GET', path: variant.path, headers: variant.headers, body: variant.body };
        },
        ...(answered ? { onResponse: answered } : {}),
      },
    ],
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  return { result, latencies };
}

export async function measureLoad(options: LoadOptions): Promise<Load> {
  const { warmupSeconds = 1, prepare } = options;
  if (warmupSeconds > 0) {
    await prepare?.();
    await fire(options, warmupSeconds);
  }
  await prepare?.();
  const tallied: Record<string, number> = {};
  const machine = watchMachineCpu(options.labels);
  const { result, latencies } = await fire(options, options.seconds, tallied);
  const cpu = machine.stop();
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  const load = {
    requestsPerSecond: round(latencies.length / result.duration, 0),
    latencyMs: percentiles(latencies.map((ms) => round(ms, 2))),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: round(result.duration, 2),
    cpu,
    ...(options.tally ? { tallied } : {}),
  };
  note(`  ${load.requestsPerSecond} req/s, p99 ${load.latencyMs.p99} ms, statuses ${JSON.stringify(statuses)}; ${describeCpu(cpu)}`);
  return load;
}
