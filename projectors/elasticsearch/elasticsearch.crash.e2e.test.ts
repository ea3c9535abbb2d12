// A crash between the document bulk and the checkpoint bulk, made deterministic: the crash
// child (runtime/testing/crash-child.ts) with test/crash-fixture.ts kills itself once a batch's
// documents are written and before its checkpoints are. The documents are then in the index
// while the checkpoints are behind their records; the normal projector replays from there and
// converges to PostgreSQL, and every document ends with the _version and _source that a clean
// run over the same records gives: the external versions refuse what was already applied.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { assertAppliedExactlyFrom } from '../runtime/testing/observe.ts';
import { outputTail, startCrashingProjector, startProjector, type ProjectorProcess } from '../runtime/testing/projector-process.ts';
import { aliasNames, elasticsearchProjector, indexName } from './index.ts';
import { crashReport } from './test/crash-fixture.ts';
import { elasticsearchHarness } from './test/harness.ts';
import type { Ids } from './test/oracle.ts';
import { runSearchWorkload } from './test/workload.ts';

const fixture = fileURLToPath(new URL('./test/crash-fixture.ts', import.meta.url));
const running: ProjectorProcess[] = [];
const { db, es, partitionEnds, freshGeneration, caughtUp, assertMatchesPostgres } = elasticsearchHarness({
  clientId: 'nova-elasticsearch-crash-e2e',
  projectors: () => running,
  log: () => outputTail(running.at(-1)),
});

const start = (generation: number) => {
  const projector = startProjector(elasticsearchProjector.name, ['--generation', String(generation), '--shadow', '--max-batch', '500']);
  running.push(projector);
  return projector;
};

/** Each document of `ids` in the generation, tombstones included: its _version and _source, or 'missing'. */
async function documents(generation: number, ids: Ids): Promise<Record<string, unknown>> {
  const found: Record<string, unknown> = {};
  for (const alias of aliasNames) {
    const wanted = [...(ids[alias] ?? [])];
    if (wanted.length === 0) continue;
    for (const doc of (await es.mget({ index: indexName(alias, generation), ids: wanted })).docs) {
      found[`${alias}/${doc._id}`] = 'found' in doc && doc.found ? [doc._version, doc._source] : 'missing';
    }
  }
  return found;
}

test('killed between the document bulk and the checkpoint bulk: the documents are ahead of the checkpoints; the restart converges, nothing doubled', { timeout: 400_000 }, async (t) => {
  // both generations start from the same checkpoints and read the same records
  const ends = await partitionEnds();
  const [crashed, crashedStore] = await freshGeneration(ends);
  const [clean, cleanStore] = await freshGeneration(ends);
  t.after(() => t.diagnostic(`generations ${crashed} (crashed) and ${clean} (clean); last output:\n${outputTail(running.at(-1), 5)}`));
  const workload = await runSearchWorkload(db, { statements: 2_000, tag: `es-crash-${randomUUID().slice(0, 8)}` });
  start(clean);
  const crashing = startCrashingProjector(fixture, crashed);
  running.push(crashing);
  await waitFor('the crashing projector to end', async () => (crashing.child.exitCode !== null || crashing.child.signalCode !== null ? true : undefined), 120_000);
  assert.equal(crashing.child.signalCode, 'SIGKILL', `it ended otherwise:\n${outputTail(crashing)}`);
  const report = crashReport(crashing.output.join(''));
  assert.ok(report, `it printed what it had written before the kill:\n${outputTail(crashing)}`);
  assert.ok(report.documents.length > 0, 'the batch that sent its checkpoint bulk had written its documents first');
  t.diagnostic(`killed with ${report.documents.length} documents written from ${report.firstOffsets.length} partitions, before checkpoints ${report.checkpoints.map((c) => `${c.topic}:${c.partition}@${c.nextOffset}`).join(', ')}`);

  // the documents are in the index, as the bulk answered...
  const { docs } = await es.mget({ docs: report.documents.map((d) => ({ _index: d.index, _id: d.id })) });
  const notThere = report.documents.filter((d, i) => {
    const doc = docs[i];
    return !(doc && 'found' in doc && doc.found && doc._version === d.version);
  });
  assert.deepEqual(notThere, [], 'a document the killed batch wrote is not in the index at its version');
  // ...and no checkpoint covers their records, nor was any of the batch's written
  const stored = new Map((await crashedStore.load()).map((c): [string, bigint] => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
  const at = (topic: string, partition: number) => stored.get(`${topic}:${partition}`) ?? 0n;
  assert.deepEqual(report.firstOffsets.filter((o) => at(o.topic, o.partition) > BigInt(o.offset)), [], 'a checkpoint is past records whose documents were written');
  assert.deepEqual(report.checkpoints.filter((c) => at(c.topic, c.partition) >= BigInt(c.nextOffset)), [], 'a checkpoint of the killed batch was written');

  const restarted = start(crashed);
  await assertMatchesPostgres(crashed, crashedStore, workload, 'index and workload');
  // it applied the killed batch's records again, and nothing twice: the documents alone could not tell
  await assertAppliedExactlyFrom(restarted, stored, elasticsearchProjector.topics, env('KAFKA_BROKERS'));
  await caughtUp(cleanStore);
  // the workload's rows: nobody else writes them, so both generations hold their last changes
  const [recovered, once] = [await documents(crashed, workload.touched), await documents(clean, workload.touched)];
  const differ = Object.keys({ ...recovered, ...once }).filter((key) => JSON.stringify(recovered[key]) !== JSON.stringify(once[key]));
  const lines = differ.slice(0, 8).map((key) => `${key}: ${JSON.stringify(recovered[key])}, clean run ${JSON.stringify(once[key])}`);
  assert.deepEqual(lines, [], `${differ.length} of ${Object.keys(once).length} documents differ from the clean run`);
});
