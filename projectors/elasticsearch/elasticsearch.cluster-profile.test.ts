// Issue 11, "Elasticsearch as a three-node cluster": the cluster profile (scripts/stack up
// elasticsearch-cluster: three nodes, a data path and a small heap each), the projector's
// indices there at one replica (ELASTICSEARCH_INDEX_REPLICAS=1) and its client given all three
// nodes (ELASTICSEARCH_URL). A generation fills from the earliest offsets while a workload
// writes; once it applies, the node holding the primary of the checkpoint index (which every
// batch writes) is kill -9ed. Batches must go on being applied once the cluster has seen it go
// (a promoted replica takes the checkpoints), then the node comes back
// with the same `scripts/stack up elasticsearch-cluster` (only that node starts; it returns once
// the cluster is green). Then every document equals PostgreSQL, the projector is the very
// process that started, nothing was dead-lettered, and the cluster is green with three nodes.
// Not run by default (the .cluster-profile.test.ts suffix): it starts three more JVMs.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { before, test } from 'node:test';
import { env, stack, waitFor } from '../../scripts/stack.d/test/stack.ts';
import type { CheckpointStore } from '../runtime/sink.ts';
import { outputTail, startProjector, type ProjectorProcess } from '../runtime/testing/projector-process.ts';
import { deadLetterHeaders } from '../runtime/dead-letter.ts';
import { checkpointIndex } from './checkpoint.ts';
import { aliasNames, elasticsearchProjector, indexName } from './index.ts';
import { elasticsearchHarness } from './test/harness.ts';
import { runSearchWorkload } from './test/workload.ts';

// everything this file starts (the harness's client, the projector) talks to the cluster;
// with ELASTICSEARCH_INDEX_REPLICAS=0 the test fails (a checkpoint index already at 1 keeps 1, and the
// replica check fails; on a fresh profile nothing is applied while the node is down)
process.env.ELASTICSEARCH_URL = env('ELASTICSEARCH_CLUSTER_URL');
process.env.ELASTICSEARCH_INDEX_REPLICAS ??= '1';
const replicas = process.env.ELASTICSEARCH_INDEX_REPLICAS;

let projector: ProjectorProcess | undefined;
const { db, es, freshGeneration, assertMatchesPostgres, letterEnds, lettersOf } = elasticsearchHarness({
  clientId: 'nova-elasticsearch-cluster-profile',
  projectors: () => [projector],
  log: () => outputTail(projector),
  // after the harness's own cleanup, which needs the cluster, even a failed one
  finally: () => stack('down', 'elasticsearch-cluster'),
});

before(async () => {
  const t0 = Date.now();
  await stack('up', 'elasticsearch-cluster');
  console.log(`# elasticsearch-cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}, { timeout: 600_000 });

/** Records applied so far: the sum of the stored next offsets. */
const applied = async (store: CheckpointStore) => (await store.load()).reduce((n, c) => n + BigInt(c.nextOffset), 0n);

/** Where each primary of `indices` is: its node's number (0..2) per index. */
async function primaries(indices: string[]): Promise<Map<string, number>> {
  const shards = await es.cat.shards({ index: indices.join(','), format: 'json', h: 'index,shard,prirep,state,node' });
  const placed = new Map<string, number>();
  for (const shard of shards) {
    if (shard.prirep !== 'p' || shard.state !== 'STARTED' || !shard.node) continue;
    placed.set(shard.index as string, Number(/^nova-es-(\d)$/.exec(shard.node)?.[1] ?? assert.fail(`a node not of the profile: ${shard.node}`)));
  }
  return placed;
}
const nodesSeen = async () => (await es.cluster.health()).number_of_nodes;

/** The pid a node's pidfile names (scripts/stack.d/lib.sh: "pid starttime"). */
const nodePid = async (n: number) => Number((await readFile(`${env('NOVA_STATE_DIR')}/elasticsearch-cluster-${n}/pid`, 'utf8')).split(' ')[0]);

test('the Elasticsearch node holding the checkpoints\' primary kill -9ed mid-run and brought back: batches go on meanwhile, every document equals PostgreSQL, the projector never exits', { timeout: 1_500_000 }, async (t) => {
  const [generation, store] = await freshGeneration();
  t.after(() => t.diagnostic(`generation ${generation}; last projector output:\n${outputTail(projector, 10)}`));
  const indices = [...aliasNames.map((alias) => indexName(alias, generation)), checkpointIndex];
  const settings = await es.indices.getSettings({ index: indices.join(',') });
  assert.deepEqual(indices.map((index) => settings[index]?.settings?.index?.number_of_replicas), indices.map(() => replicas), `every index the projector writes has ${replicas} replicas`);
  const letters = await letterEnds();
  const started = startProjector(elasticsearchProjector.name, ['--generation', String(generation), '--shadow', '--max-batch', '500', '--metrics-port', '0']);
  projector = started;
  const { pid } = started.child;

  let outage: Promise<{ victim: number; downMs: number; appliedWhileDown: bigint; alsoHeld: string[] }> | undefined;
  const workload = await runSearchWorkload(db, {
    statements: 4_000,
    tag: `es-cluster-${randomUUID().slice(0, 8)}`,
    onProgress: async (done) => {
      if (done < 1_000 || outage) return;
      await waitFor('the projector to apply a batch', async () => ((await applied(store)) > 0n ? true : undefined), 300_000);
      const placed = await primaries(indices);
      const victim = placed.get(checkpointIndex) ?? assert.fail('the checkpoint index has no started primary');
      const downAt = Date.now();
      process.kill(await nodePid(victim), 'SIGKILL');
      outage = (async () => {
        // counted from when the cluster has seen the node go: a batch in flight at the kill does not count
        await waitFor('the cluster to see the node gone', async () => ((await nodesSeen()) === 2 ? true : undefined), 120_000);
        const before = await applied(store);
        const appliedWhileDown = await waitFor('batches to be applied while the node is down', async () => {
          const now = await applied(store);
          return now > before ? now - before : undefined;
        }, 300_000);
        const moved = await primaries(indices);
        assert.notEqual(moved.get(checkpointIndex), victim, 'the checkpoint index\'s primary moved to a survivor');
        await stack('up', 'elasticsearch-cluster');
        return { victim, downMs: Date.now() - downAt, appliedWhileDown, alsoHeld: indices.filter((index) => placed.get(index) === victim && index !== checkpointIndex) };
      })();
      outage.catch(() => {}); // awaited below; a failure meanwhile must not be unhandled
    },
  });
  assert.ok(outage, 'a node was kill -9ed');
  const { victim, downMs, appliedWhileDown, alsoHeld } = await outage;
  t.diagnostic(`node nova-es-${victim} (the checkpoint index's primary${alsoHeld.length > 0 ? `, and ${alsoHeld.join(', ')}'s` : ''}) down for ${(downMs / 1000).toFixed(1)} s; ${appliedWhileDown} records applied once the cluster saw it go`);

  await assertMatchesPostgres(generation, store, workload);
  assert.equal(started.child.pid, pid);
  assert.equal(started.child.exitCode, null, `the projector exited:\n${outputTail(started)}`);
  assert.equal(started.child.signalCode, null);
  assert.deepEqual((await lettersOf(generation, letters)).map((r) => r.headers?.[deadLetterHeaders.reason]?.toString()), [], 'nothing was dead-lettered');
  const health = await es.cluster.health();
  assert.deepEqual([health.status, health.number_of_nodes], ['green', 3]);
});
