// Where the machine's CPU went during a measurement, from /proc (Linux): how many cores were
// busy, and how many each service of the stack used. On a small machine that runs the whole
// stack, a projector's figures depend on it as much as on the projector.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { round } from './measure.ts';

type Snapshot = { busy: number; total: number; ticks: Map<number, { name: string; ticks: number }> };

export type CpuShare = { coresBusy: number; cores: number; byService: Record<string, number> };

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process exited meanwhile, or /proc is not there
  }
};

function classify(pid: number, comm: string, args: string, labels: Map<number, string>): string {
  const label = labels.get(pid);
  if (label) return label;
  if (pid === process.pid) return 'this benchmark process';
  // the stack's own Nova processes (scripts/nova api, scripts/nova projector run <store>)
  const nova = /scripts\/nova\.ts (api|projector run [a-z]+)(?: |$)/.exec(args)?.[1];
  if (nova) return nova.replace('projector run ', 'projector ');
  const service = /\.nova\/([a-z][a-z0-9]*)(?:\/|\s|$)/.exec(args)?.[1];
  if (service) return service;
  if (comm === 'postgres') return 'postgres';
  if (comm.startsWith('redis')) return 'redis';
  if (/elasticsearch|-Des\./.test(args)) return 'elasticsearch';
  if (comm.startsWith('clickhouse')) return 'clickhouse';
  if (comm === 'node' || comm === 'esbuild') return 'other node processes';
  return 'other';
}

function snapshot(labels: Map<number, string>): Snapshot | undefined {
  const stat = read('/proc/stat')?.split('\n')[0];
  if (!stat?.startsWith('cpu ')) return undefined;
  const fields = stat.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const ticks = new Map<number, { name: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const text = read(`/proc/${pid}/stat`);
    if (!text) continue;
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const rest = text.slice(close + 2).split(' ');
    const used = Number(rest[11]) + Number(rest[12]); // utime + stime, all threads
    const args = (read(`/proc/${pid}/cmdline`) ?? '').replace(/\0/g, ' ');
    ticks.set(pid, { name: classify(pid, comm, args, labels), ticks: used });
  }
  return { busy: total - idle, total, ticks };
}

/** Starts watching; stop() returns cores busy over the interval, in total and per service. */
export function watchMachineCpu(labels: Map<number, string> = new Map()): { stop(): CpuShare | undefined } {
  const first = snapshot(labels);
  return {
    stop() {
      const last = snapshot(labels);
      if (!first || !last || last.total === first.total) return undefined;
      const cores = cpus().length;
      // /proc/stat counts every core's ticks: its total grows `cores` times as fast as wall time
      const coresPerTick = cores / (last.total - first.total);
      const byService: Record<string, number> = {};
      for (const [pid, now] of last.ticks) {
        const used = now.ticks - (first.ticks.get(pid)?.ticks ?? 0);
        if (used > 0) byService[now.name] = (byService[now.name] ?? 0) + used * coresPerTick;
      }
      const sorted = Object.entries(byService).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v, 2)] as const);
      return { coresBusy: round((last.busy - first.busy) * coresPerTick, 2), cores, byService: Object.fromEntries(sorted.filter(([, v]) => v >= 0.01)) };
    },
  };
}

export const describeCpu = (share: CpuShare | undefined) =>
  share
    ? `${share.coresBusy} of ${share.cores} cores busy: ${Object.entries(share.byService).map(([k, v]) => `${k} ${v}`).join(', ')}`
    : 'machine CPU not available (no /proc)';
