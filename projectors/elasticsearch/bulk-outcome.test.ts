// Pure: how each bulk item status is classified, what the sink sends in a bulk, and that a
// transient item fails the whole apply before anything is dead-lettered or checkpointed
// (429/5xx cannot be forced on a real server).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client } from '@elastic/elasticsearch';
import type { Change } from '../runtime/decode/index.ts';
import { NovaError } from '../runtime/errors.ts';
import type { StoreOp } from '../runtime/sink.ts';
import { bulkOutcome } from './bulk-outcome.ts';
import type { EsOp } from './mapping/index.ts';
import { createElasticsearchSink } from './sink.ts';

const opAt = (offset: number, doc: EsOp['doc'] = { text: 'x' }, version = BigInt(offset)): StoreOp<EsOp> => ({
  op: { index: 'posts', id: String(offset), version, doc },
  change: { position: { topic: 'nova.social.posts', partition: 1, offset: String(offset) } } as Change,
});
const item = (status: number, type?: string) => ({ index: { _index: 'posts_v1', status, ...(type ? { error: { type, reason: `${type} reason` } } : {}) } });

/** A client whose every bulk call is recorded and answered with `items`. */
function recordingClient(items: object[]) {
  const bulks: object[][] = [];
  const client = { bulk: async ({ operations }: { operations: object[] }) => (bulks.push(operations), { errors: true, items }) } as unknown as Client;
  return { client, bulks };
}

describe('bulk outcome', () => {
  test('classifies every item status', () => {
    const statuses = [item(201), item(200), item(409, 'version_conflict_engine_exception'), item(400, 'document_parsing_exception'), item(404, 'index_not_found_exception'), item(429, 'es_rejected_execution_exception'), item(503, 'unavailable_shards_exception')];
    const outcome = bulkOutcome(statuses.map((_, i) => opAt(i)), statuses);
    assert.equal(outcome.applied, 2);
    assert.equal(outcome.alreadyApplied, 1);
    assert.deepEqual(outcome.rejected, [
      { position: opAt(3).change.position, reason: '400 document_parsing_exception: document_parsing_exception reason' },
      { position: opAt(4).change.position, reason: '404 index_not_found_exception: index_not_found_exception reason' },
    ]);
    assert.deepEqual(outcome.transient, ['429 es_rejected_execution_exception: es_rejected_execution_exception reason', '503 unavailable_shards_exception: unavailable_shards_exception reason']);
  });

  test('each op is one index item at its exact version, as text; a delete indexes a tombstone', async () => {
    const { client, bulks } = recordingClient([item(201), item(201)]);
    const beyondDoubles = (3n << 56n) | 4_242_424_242n; // past 2^53: a double would round it
    const sink = createElasticsearchSink({ client, generation: 7, projector: 'test' });
    await sink.apply([opAt(1, { text: 'x' }, beyondDoubles), opAt(2, null, 0n)], [], async () => assert.fail('nothing is rejected'));
    const target = (id: string, version: string) => ({ index: { _index: 'posts_v7', _id: id, version, version_type: 'external' } });
    assert.deepEqual(bulks, [[target('1', '216172786356208050'), { text: 'x' }, target('2', '0'), { nova_tombstone: true }]]);
  });

  test('a transient item fails the apply before dead-lettering or checkpointing', async () => {
    const { client, bulks } = recordingClient([item(400, 'document_parsing_exception'), item(429, 'es_rejected_execution_exception')]);
    const rejected: unknown[] = [];
    const sink = createElasticsearchSink({ client, generation: 1, projector: 'test' });
    const apply = sink.apply([opAt(1), opAt(2)], [{ topic: 't', partition: 0, nextOffset: '3', commitOrder: 2n }], async (r) => void rejected.push(r));
    await assert.rejects(apply, (error: unknown) => error instanceof NovaError && error.kind === 'transient' && /1 of 2 bulk items/.test(error.message));
    assert.deepEqual(rejected, []);
    assert.equal(bulks.length, 1, 'one bulk: the effects, and no checkpoint bulk after it');
    assert.ok(bulks[0]?.every((line) => !JSON.stringify(line).includes('nova_checkpoints')), 'no checkpoint in the effects bulk');
  });
});
