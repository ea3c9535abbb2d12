// What a projector process tells a test about itself: its log lines (pino JSON on stdout) and
// its /metrics. Its --metrics-port is 0 unless given (any free port, so runs never collide); it
// names the address in its "projector running" line.
import assert from 'node:assert/strict';
import { waitFor } from '../../../scripts/stack.d/test/stack.ts';
import { decodeAll } from './cdc-capture.ts';
import { recordsBetween } from './kafka-capture.ts';
import type { ProjectorProcess } from './projector-process.ts';

type LogLine = Record<string, unknown> & { msg?: string };
type Sample = { name: string; labels: Record<string, string>; value: number };

/** Its log lines with message `msg`, oldest first. */
export const logLines = (projector: ProjectorProcess, msg: string): LogLine[] =>
  projector.output
    .join('')
    .split('\n')
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as LogLine;
        return entry.msg === msg ? [entry] : [];
      } catch {
        return []; // a line still being written, or not pino's
      }
    });

/** The checkpoints it read from the store on start ("resuming from the store"), per `topic:partition`. */
export const resumedFrom = (projector: ProjectorProcess): Promise<Map<string, bigint>> =>
  waitFor('the projector to read its checkpoints', async () => {
    const [line] = logLines(projector, 'resuming from the store');
    const checkpoints = line?.checkpoints as Array<{ topic: string; partition: number; nextOffset: string }> | undefined;
    return checkpoints && new Map(checkpoints.map((c) => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
  });

export const metricsUrl = (projector: ProjectorProcess): Promise<string> =>
  waitFor('the projector to serve /metrics', async () => logLines(projector, 'projector running')[0]?.metrics as string | undefined, 120_000);

/** One scrape, in Prometheus' text format; rejects once the process has closed its endpoint. */
export async function scrape(url: string): Promise<Sample[]> {
  const text = await (await fetch(url)).text();
  return text.split('\n').flatMap((line) => {
    const sample = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) return [];
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => [name, value]));
    return [{ name: sample[1] as string, labels, value: Number(sample[3]) }];
  });
}

/** nova_projector_retries_total of one stage. */
export const retries = (samples: Sample[], stage: string): number =>
  samples.filter((s) => s.name === 'nova_projector_retries_total' && s.labels.stage === stage).reduce((sum, s) => sum + s.value, 0);

/** nova_projector_checkpoint_offset: the next offset it says it stored, per `topic:partition`. */
export const reportedCheckpoints = (samples: Sample[]): Map<string, bigint> =>
  new Map(samples.filter((s) => s.name === 'nova_projector_checkpoint_offset').map((s) => [`${s.labels.topic}:${s.labels.partition}`, BigInt(s.value)]));

/** nova_projector_changes_applied_total per topic, for `topics` (0 where it applied none). */
export const appliedChanges = (samples: Sample[], topics: string[]): Map<string, number> =>
  new Map(topics.map((topic) => [topic, samples.filter((s) => s.name === 'nova_projector_changes_applied_total' && s.labels.topic === topic).reduce((sum, s) => sum + s.value, 0)]));

/**
 * A restarted process read exactly `stored` from the store and, by the scrape it makes now, has
 * applied exactly the changes (records that decode to one) from there to the checkpoints it
 * reports: none again, none passed over. Its count and its checkpoints come from one scrape, so
 * records arriving meanwhile cannot skew it. Call it once the process has caught up.
 */
export async function assertAppliedExactlyFrom(restarted: ProjectorProcess, stored: Map<string, bigint>, topics: string[], brokers: string): Promise<void> {
  assert.deepEqual(await resumedFrom(restarted), stored, 'the restart read the checkpoints as stored');
  const samples = await scrape(await metricsUrl(restarted));
  // the topics asked about only: the process also reads its dead-letter replay topic
  const ours = (offsets: Map<string, bigint>) => new Map([...offsets].filter(([key]) => topics.includes(key.slice(0, key.lastIndexOf(':')))));
  const reached = ours(new Map([...stored, ...reportedCheckpoints(samples)]));
  const expected = new Map(topics.map((topic) => [topic, 0]));
  for (const d of await decodeAll(await recordsBetween(brokers, topics, stored, reached))) if (d.kind === 'change') expected.set(d.position.topic, (expected.get(d.position.topic) ?? 0) + 1);
  assert.deepEqual(appliedChanges(samples, topics), expected, 'the restart applied exactly the changes after the stored checkpoints');
}
