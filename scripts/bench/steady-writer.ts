// An application-like write load: `rate` single-row transactions per second, paced every
// 10 ms over a few connections, for `seconds`. When PostgreSQL falls a second behind, new
// writes are skipped (and counted) rather than queued without bound.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { singleRowWrites, type Fixture, type Table } from './bench-rows.ts';
import { percentiles, progress, round, sleep, type Percentiles } from './measure.ts';

export type WriteLoad = {
  rate: number;
  seconds: number;
  connections: number;
  tables: string[];
  committed: number;
  failed: number;
  skipped: number;
  achievedPerSecond: number;
  /** client-side time of each single-row transaction */
  commitLatencyMs: Percentiles;
  firstError?: string;
  /** wall-clock (epoch ms) when the first write was issued and the last one returned */
  startedAt: number;
  endedAt: number;
  /** writes that returned at or after `epochMs` */
  committedAfter(epochMs: number): number;
};

const tickMs = 10;

export async function steadyWrites(options: { databaseUrl: string; fixture: Fixture; tables: Exclude<Table, 'conversations'>[]; rate: number; seconds: number; connections: number }): Promise<WriteLoad> {
  const { databaseUrl, fixture, tables, rate, seconds, connections } = options;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  // open every connection before the clock starts
  const opened = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
  for (const client of opened) client.release();
  const planned = Math.round(rate * seconds);
  const show = progress('load: single-row transactions committed', planned);
  const latencies: number[] = [];
  const returnedAt: number[] = [];
  let issued = 0;
  let skipped = 0;
  let committed = 0;
  let failed = 0;
  let outstanding = 0;
  let firstError: string | undefined;
  const startedAt = Date.now();
  const clockStart = performance.now();
  let lastReturnAt = clockStart;

  const tick = () => {
    const elapsed = Math.min(seconds, (performance.now() - clockStart) / 1000);
    const due = Math.min(planned, Math.floor(rate * elapsed)) - issued - skipped;
    for (let i = 0; i < due; i++) {
      if (outstanding >= rate) {
        skipped += 1;
        continue;
      }
      const query = singleRowWrites[tables[issued % tables.length] as Exclude<Table, 'conversations'>](fixture);
      issued += 1;
      outstanding += 1;
      const sentAt = performance.now();
      pool
        .query(query.text, query.values)
        .then(
          () => {
            committed += 1;
            latencies.push(performance.now() - sentAt);
            returnedAt.push(Date.now());
          },
          (error: Error) => {
            failed += 1;
            firstError ??= error.message;
          },
        )
        .finally(() => {
          outstanding -= 1;
          lastReturnAt = performance.now();
          show(committed);
        });
    }
  };
  const timer = setInterval(tick, tickMs);
  try {
    while (issued + skipped < planned) await sleep(50);
  } finally {
    clearInterval(timer);
  }
  while (outstanding > 0) await sleep(5);
  await pool.end();
  const wallSeconds = (lastReturnAt - clockStart) / 1000;
  return {
    rate,
    seconds,
    connections,
    tables,
    committed,
    failed,
    skipped,
    achievedPerSecond: round(committed / wallSeconds, 1),
    commitLatencyMs: percentiles(latencies.map((ms) => round(ms, 1))),
    ...(firstError ? { firstError } : {}),
    startedAt,
    endedAt: startedAt + Math.round(wallSeconds * 1000),
    committedAfter: (epochMs) => returnedAt.filter((t) => t >= epochMs).length,
  };
}
