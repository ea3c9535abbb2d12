// Against the real Elasticsearch from .nova/stack.env. Each run uses its own high generation,
// shadow (the live aliases never point at it), and reader names of its own where the point is
// how aliases are claimed or searched; it removes its indices and checkpoint docs afterwards.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import type { Change, Operation, Row } from '../runtime/decode/index.ts';
import { NovaError } from '../runtime/errors.ts';
import type { Checkpoint, Rejected, StoreOp } from '../runtime/sink.ts';
import { waitFor } from '../../scripts/stack.d/test/stack.ts';
import { checkpointId, checkpointIndex } from './checkpoint.ts';
import { actualFromElasticsearch } from './drift.ts';
import { elasticsearchError } from './error-kinds.ts';
import { aliasTargets, claimReaderAliases, readerAlias } from './index-names.ts';
import { aliasNames, createElasticsearchSink, ensureIndices, indexName, swapAliases, type BulkOutcome, type EsOp } from './index.ts';
import { mapChange } from './mapping/index.ts';
import { readerFilter } from './tombstones.ts';

const node = process.env['ELASTICSEARCH_URL'];
if (!node) throw new Error('ELASTICSEARCH_URL is not set: set -a; source .nova/stack.env; set +a');
const es = new Client({ node });
const generation = randomInt(100_000, 1_000_000);
const projector = 'elasticsearch-contract';
const scratchAlias = `nova_contract_${generation}`;
const topic = 'nova.message.messages';
const outcomes: BulkOutcome[] = [];
const sink = createElasticsearchSink({ client: es, generation, projector, onBulk: (o) => outcomes.push(o) });

let offset = 0;
let version = 1_000n;
function change(table: string, op: Operation, row: Row, at = ++version): Change {
  const [before, after] = op === 'delete' ? [row, null] : [null, row];
  const position = { topic, partition: 0, offset: String(++offset) };
  return { kind: 'change', op, table, key: { id: row['id'] }, before, after, version: at, commitOrder: at, streamSince: 0, txId: 1, commitTs: new Date(), position };
}
const storeOps = (...changes: Change[]): StoreOp<EsOp>[] => changes.flatMap((c) => mapChange(c).map((op) => ({ op, change: c })));
const checkpointAt = (partition = 0): Checkpoint => ({ topic, partition, nextOffset: String(offset + 1), commitOrder: version });
const noRejections = async (rejected: Rejected[]) => assert.fail(`unexpected rejections: ${JSON.stringify(rejected)}`);
const source = async (alias: string, id: number) => (await es.get({ index: indexName(alias, generation), id: String(id) }, { ignore: [404] }));
/** What readers see of one document of the generation (drift.ts reads through the readers' filter). */
const visible = async (alias: 'messages' | 'posts' | 'users', id: number) => (await actualFromElasticsearch(es, generation, { [alias]: new Set([String(id)]) })).view[alias].get(String(id));

const message = (id: number, content: string) => ({ id, conversation_id: 3, sender_id: 9, content, message_type: 'text', metadata: null, is_deleted: false, created_at: new Date('2024-05-01T08:30:00Z') });
const post = (id: number, text: string) => ({ id, author_id: 9, text, created_at: new Date('2024-05-01T08:30:00Z') });

before(async () => {
  await ensureIndices(es, generation, { shadow: true, env: process.env });
  await ensureIndices(es, generation, { shadow: true, env: process.env }); // a restart finds everything in place
});

after(async () => {
  for (const c of await sink.load()) await es.delete({ index: checkpointIndex, id: checkpointId({ projector, generation }, c.topic, c.partition) });
  const indices = [...aliasNames.map((a) => indexName(a, generation)), ...[1, 2, 3].map((g) => indexName(scratchAlias, g))];
  await es.indices.delete({ index: indices, ignore_unavailable: true });
  await es.close();
});

describe('elasticsearch sink (real server)', () => {
  test('creates generation indices of format 2 with explicit mappings and no replicas; a shadow generation gets no reader alias', async () => {
    for (const alias of aliasNames) {
      const index = indexName(alias, generation);
      const settings = await es.indices.getSettings({ index });
      assert.equal(settings[index]?.settings?.index?.number_of_replicas, '0');
      assert.deepEqual((await es.indices.getMapping({ index }))[index]?.mappings._meta, { nova_format: 2 });
      assert.ok(!(await aliasTargets(es, alias)).includes(index), `${alias} points at the shadow generation`);
    }
    const mapping = await es.indices.getMapping({ index: indexName('messages', generation) });
    assert.deepEqual(mapping[indexName('messages', generation)]?.mappings.properties?.['content'], { type: 'text', analyzer: 'standard' });
  });

  test('applying the same ops twice leaves identical documents; the conflicts count as already applied', async () => {
    const ops = storeOps(change('public.messages', 'create', message(101, 'hello twice')), change('public.posts', 'create', post(201, 'twice')));
    await sink.apply(ops, [checkpointAt()], noRejections);
    const first = [await source('messages', 101), await source('posts', 201)];
    await sink.apply(ops, [checkpointAt()], noRejections);
    const second = [await source('messages', 101), await source('posts', 201)];
    assert.deepEqual(second.map((d) => [d._source, d._version]), first.map((d) => [d._source, d._version]));
    assert.deepEqual(outcomes.slice(-2).map((o) => [o.applied, o.alreadyApplied]), [[2, 0], [0, 2]]);
  });

  test('a stale version after a newer one leaves the newer document', async () => {
    const newer = change('public.posts', 'update', post(202, 'newer'), 5_000n);
    const stale = change('public.posts', 'update', post(202, 'stale'), 4_000n);
    await sink.apply(storeOps(newer), [checkpointAt()], noRejections);
    await sink.apply(storeOps(stale), [checkpointAt()], noRejections);
    const doc = await source('posts', 202);
    assert.equal((doc._source as { text: string }).text, 'newer');
    assert.equal(doc._version, 5_000);
  });

  test('a delete older than the document is ignored; a newer one hides it from readers (posts) or flags it (messages)', async () => {
    await sink.apply(storeOps(change('public.posts', 'create', post(203, 'kept'), 6_000n)), [checkpointAt()], noRejections);
    await sink.apply(storeOps(change('public.posts', 'delete', post(203, 'kept'), 5_500n)), [checkpointAt()], noRejections);
    assert.deepEqual(await visible('posts', 203), mapChange(change('public.posts', 'create', post(203, 'kept')))[0]?.doc);
    await sink.apply(storeOps(change('public.posts', 'delete', post(203, 'kept'), 6_500n)), [checkpointAt()], noRejections);
    assert.equal(await visible('posts', 203), undefined);
    const kept = await source('posts', 203);
    assert.deepEqual([kept._source, kept._version], [{ nova_tombstone: true }, 6_500], 'a tombstone at the delete’s version remembers it');
    await sink.apply(storeOps(change('public.messages', 'create', message(102, 'to delete'), 7_000n)), [checkpointAt()], noRejections);
    await sink.apply(storeOps(change('public.messages', 'delete', message(102, 'to delete'), 7_500n)), [checkpointAt()], noRejections);
    assert.deepEqual(await visible('messages', 102), { ...mapChange(change('public.messages', 'create', message(102, 'to delete')))[0]?.doc, is_deleted: true });
  });

  test('a create older than a delete, applied once Elasticsearch has forgotten delete versions, does not bring the post back', async () => {
    const index = indexName('posts', generation);
    await es.indices.putSettings({ index, settings: { index: { gc_deletes: '0s' } } });
    const created = change('public.posts', 'create', post(206, 'deleted later'), 8_000n);
    await sink.apply(storeOps(created), [checkpointAt()], noRejections);
    await sink.apply(storeOps(change('public.posts', 'delete', post(206, 'deleted later'), 8_500n)), [checkpointAt()], noRejections);
    // Elasticsearch's own delete of another document at the same versions: once an older write
    // is taken on it, the server has forgotten deletes (it prunes them at a refresh)
    const control = { index, id: 'control', document: { text: 'control' }, version_type: 'external' as const };
    await es.index({ ...control, version: 8_000 });
    await es.delete({ index, id: 'control', version: 8_500, version_type: 'external' });
    await waitFor('Elasticsearch to forget the delete of the control document', async () => {
      await es.indices.refresh({ index });
      return (await es.index({ ...control, version: 8_200 }, { ignore: [409] })).result === 'created' ? true : undefined;
    });
    await es.delete({ index, id: 'control' });
    await sink.apply(storeOps({ ...created, version: 8_200n }), [checkpointAt()], noRejections);
    assert.deepEqual([outcomes.at(-1)?.applied, outcomes.at(-1)?.alreadyApplied], [0, 1], 'refused by the tombstone');
    assert.equal(await visible('posts', 206), undefined);
  });

  test('the checkpoint round-trips through load(), its commit order exactly', async () => {
    const beyondDoubles = (1n << 56n) | 9_007_199_254_740_993n;
    await sink.apply([], [{ topic, partition: 7, nextOffset: '42', commitOrder: 9_000n }], noRejections);
    await sink.apply([], [{ topic, partition: 7, nextOffset: '43', commitOrder: beyondDoubles }], noRejections);
    await sink.apply([], [{ topic: 'nova.social.posts', partition: 2, nextOffset: '9007199254740993', commitOrder: null }], noRejections);
    const loaded = await sink.load();
    assert.deepEqual(loaded.find((c) => c.partition === 7), { topic, partition: 7, nextOffset: '43', commitOrder: beyondDoubles });
    assert.deepEqual(loaded.find((c) => c.topic === 'nova.social.posts'), { topic: 'nova.social.posts', partition: 2, nextOffset: '9007199254740993', commitOrder: null });
    const other = createElasticsearchSink({ client: es, generation: generation + 1, projector });
    assert.deepEqual(await other.load(), [], 'another generation has its own checkpoints');
  });

  test('a rejected item goes to onRejected, before the checkpoint, while the rest of the bulk applies', async () => {
    const good = storeOps(change('public.messages', 'create', message(103, 'good one')), change('public.posts', 'create', post(204, 'good too')));
    const badChange = change('public.messages', 'create', message(104, 'bad date'));
    const bad: StoreOp<EsOp> = { change: badChange, op: { index: 'messages', id: '104', version: badChange.version, doc: { message_id: 104, created_at: 'not a date' } } };
    const checkpoint = { topic, partition: 11, nextOffset: '500', commitOrder: version };
    let handed: Rejected[] = [];
    await sink.apply([good[0] as StoreOp<EsOp>, bad, good[1] as StoreOp<EsOp>], [checkpoint], async (rejected) => {
      handed = rejected;
      assert.equal((await sink.load()).some((c) => c.partition === 11), false, 'checkpoint not yet written');
    });
    assert.equal(handed.length, 1);
    assert.deepEqual(handed[0]?.position, badChange.position);
    assert.match(handed[0]?.reason ?? '', /^400 (document|mapper)_parsing_exception/);
    assert.equal((await source('messages', 103)).found, true);
    assert.equal((await source('posts', 204)).found, true);
    assert.equal((await source('messages', 104)).found, false);
    assert.ok((await sink.load()).some((c) => c.partition === 11 && c.nextOffset === '500'));
  });

  test('claims a missing reader alias, filtered, but not for a shadow generation; filters one already on the index; leaves one on another index alone', async () => {
    const index = indexName(scratchAlias, 3);
    await es.indices.create({ index, settings: { number_of_replicas: 0 } });
    const [missing, shadowed, unfiltered, elsewhere] = ['missing', 'shadowed', 'unfiltered', 'elsewhere'].map((n) => `${scratchAlias}_${n}`) as [string, string, string, string];
    await es.indices.updateAliases({ actions: [{ add: { index, alias: unfiltered } }, readerAlias(elsewhere, indexName('posts', generation))] });
    await claimReaderAliases(es, [{ alias: missing, index }, { alias: unfiltered, index }, { alias: elsewhere, index }]);
    await claimReaderAliases(es, [{ alias: shadowed, index }], { shadow: true });
    assert.deepEqual(await es.indices.getAlias({ index }), { [index]: { aliases: { [missing]: { filter: readerFilter }, [unfiltered]: { filter: readerFilter } } } });
    assert.deepEqual(await aliasTargets(es, elsewhere), [indexName('posts', generation)]);
    assert.deepEqual(await aliasTargets(es, shadowed), []);
  });

  test('search finds content through a reader alias (CJK split per character by the standard analyzer)', async () => {
    await sink.apply(storeOps(change('public.messages', 'create', message(105, '今天天气很好 nova'))), [checkpointAt()], noRejections);
    await es.indices.refresh({ index: indexName('messages', generation) });
    const reader = `${scratchAlias}_messages`;
    await es.indices.updateAliases({ actions: [readerAlias(reader, indexName('messages', generation))] });
    const found = await es.search({ index: reader, query: { match_phrase: { content: '天气' } } });
    assert.deepEqual(found.hits.hits.map((h) => h._id), ['105']);
  });

  test('swapAliases moves aliases in one step, keeping the readers\' filter, and reports the indices they left', async () => {
    for (const g of [1, 2]) await es.indices.create({ index: indexName(scratchAlias, g), settings: { number_of_replicas: 0 } });
    assert.deepEqual(await swapAliases(es, [scratchAlias], 1), []);
    assert.deepEqual(await swapAliases(es, [scratchAlias], 2), [indexName(scratchAlias, 1)]);
    assert.deepEqual(await es.indices.getAlias({ name: scratchAlias }), { [indexName(scratchAlias, 2)]: { aliases: { [scratchAlias]: { filter: readerFilter } } } });
  });

  test('an unreachable server is a transient store error', async () => {
    const down = createElasticsearchSink({ client: new Client({ node: 'http://127.0.0.1:1', maxRetries: 0 }), generation, projector });
    await assert.rejects(down.apply(storeOps(change('public.posts', 'create', post(205, 'x'))), [checkpointAt()], noRejections), (error: unknown) => {
      assert.ok(error instanceof NovaError);
      assert.equal(error.kind, 'transient');
      assert.equal(error.code, 'NOVA_S1001');
      return true;
    });
    await down.close();
  });

  test('a request the server does not answer within the client\'s timeout is bounded, not transient', async () => {
    const impatient = new Client({ node, requestTimeout: 200, maxRetries: 0 });
    // a single node never sees a second one: the server holds the request for its own 30 s
    const failure = await impatient.cluster.health({ wait_for_nodes: '>=2', timeout: '30s' }).then(() => assert.fail('answered'), (error: unknown) => error);
    const classified = elasticsearchError(failure);
    assert.ok(classified instanceof NovaError);
    assert.deepEqual([classified.kind, classified.code], ['bounded', 'NOVA_S1003']);
    await impatient.close();
  });
});
