// How `bench api` prints its figures: one line per measurement, a ratio line per comparison.
import type { Load } from './api-load.ts';
import { describeCpu } from './machine-cpu.ts';
import { describePercentiles, round } from './measure.ts';
import type { ReadYourWrites } from './read-your-writes.ts';

export type Skipped = { skipped: string };
export type Measured = Load | Skipped;

export const isSkipped = (m: Measured): m is Skipped => 'skipped' in m;

const statuses = (load: Load) => {
  const others = Object.entries(load.statuses).filter(([code]) => !code.startsWith('2'));
  const failed = others.length || load.errors ? `; not 2xx: ${others.map(([code, n]) => `${code} x${n}`).join(', ') || 'none'}, socket errors ${load.errors}, timeouts ${load.timeouts}` : '';
  return failed;
};

export function printLoad(label: string, m: Measured): void {
  if (isSkipped(m)) return console.log(`    ${label.padEnd(34)} ${m.skipped}`);
  const l = m.latencyMs;
  const tally = m.tallied ? `; Nova-Served-By: ${Object.entries(m.tallied).map(([k, n]) => `${k === '-' ? 'header absent' : k} x${n}`).join(', ')}` : '';
  console.log(`    ${label.padEnd(34)} ${m.requestsPerSecond.toLocaleString('en').padStart(7)} req/s   p50 ${l.p50} ms  p99 ${l.p99} ms  max ${l.max} ms  (${l.count.toLocaleString('en')} answers in ${m.seconds} s${statuses(m)}${tally})`);
  console.log(`    ${''.padEnd(34)} ${describeCpu(m.cpu)}`);
}

export type Ratio = { requestsPerSecond: number; p99: number; p50: number };

/** How many times faster `fast` is than `slow`: in req/s, and in latency (slow's over fast's). */
export function ratio(fast: Measured, slow: Measured): Ratio | null {
  if (isSkipped(fast) || isSkipped(slow) || slow.requestsPerSecond === 0 || fast.latencyMs.p99 === 0) return null;
  return {
    requestsPerSecond: round(fast.requestsPerSecond / slow.requestsPerSecond, 2),
    p99: round(slow.latencyMs.p99 / fast.latencyMs.p99, 2),
    p50: round(slow.latencyMs.p50 / Math.max(0.01, fast.latencyMs.p50), 2),
  };
}

export function printRatio(label: string, r: Ratio | null, aim?: number): void {
  if (!r) return console.log(`    ${label}: no ratio (a side was skipped or answered nothing)`);
  const verdict = aim === undefined ? '' : `   (aim >= ${aim}x at p99: ${r.p99 >= aim ? 'met' : 'not met'})`;
  console.log(`    ${label}: ${r.requestsPerSecond}x the req/s, p99 ${r.p99}x lower, p50 ${r.p50}x lower${verdict}`);
}

export function printReadYourWrites(r: ReadYourWrites, aimMs: number): void {
  const w = r.writes;
  console.log(`  writes: ${w.answered.toLocaleString('en')} likes answered, ${w.achievedPerSecond}/s of ${r.rate}/s for ${r.seconds} s (rate-limited 429: ${w.rateLimited}, failed: ${w.failed}, skipped as too far behind: ${w.skipped}, not new: ${w.notNew}); write latency ${describePercentiles(w.latencyMs)}`);
  console.log(`  tokened reads: applied ${r.reads.applied.toLocaleString('en')}, stale ${r.reads.stale.toLocaleString('en')} (Nova-Consistency; Nova-Max-Wait-Ms ${r.maxWaitMs}), failed ${r.reads.failed}; applied but the like not in the answer: ${r.reads.appliedButNotVisible}`);
  console.log(`  write answered -> tokened read answered   ${describePercentiles(r.writeToReadMs)}   (aim p99 < ${aimMs} ms: ${r.writeToReadMs.count > 0 && r.writeToReadMs.p99 < aimMs ? 'met' : 'not met'})`);
  console.log(`    applied answers only                    ${describePercentiles(r.appliedWriteToReadMs)}`);
  console.log(`    the API's own wait (waited-ms)          ${describePercentiles(r.serverWaitedMs)}`);
  console.log(`  (reads of writes sent in the first ${r.warmupSeconds} s are left out of the percentiles, not of the counts)${r.firstError ? `; first error: ${r.firstError}` : ''}`);
}
