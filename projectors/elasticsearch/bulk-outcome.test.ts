// Pure: how each bulk item status is classified, and that a transient item fails the whole
// apply before anything is dead-lettered or checkpointed (429/5xx cannot be forced on a real server).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client } from '@elastic/elasticsearch';
import type { Change } from '../runtime/decode/index.ts';
import { NovaError } from '../runtime/errors.ts';
import type { StoreOp } from '../runtime/sink.ts';
import { bulkOutcome } from './bulk-outcome.ts';
import type { EsOp } from './mapping/index.ts';
import { createElasticsearchSink } from './sink.ts';

const opAt = (offset: number): StoreOp<EsOp> => ({
  op: { index: 'posts', id: String(offset), version: offset, doc: { text: 'x' } },
  change: { position: { topic: 'nova.social.posts', partition: 1, offset: String(offset) } } as Change,
});
const item = (status: number, type?: string) => ({ index: { _index: 'posts_v1', status, ...(type ? { error: { type, reason: `${type} reason` } } : {}) } });

describe('bulk outcome', () => {
  test('classifies every item status', () => {
    const statuses = [item(201), item(200), item(404), item(409, 'version_conflict_engine_exception'), item(400, 'document_parsing_exception'), item(429, 'es_rejected_execution_exception'), item(503, 'unavailable_shards_exception')];
    const outcome = bulkOutcome(statuses.map((_, i) => opAt(i)), statuses);
    assert.equal(outcome.applied, 3, '2xx and a delete of a missing document');
    assert.equal(outcome.alreadyApplied, 1);
    assert.deepEqual(outcome.rejected, [{ position: opAt(4).change.position, reason: '400 document_parsing_exception: document_parsing_exception reason' }]);
    assert.deepEqual(outcome.transient, ['429 es_rejected_execution_exception: es_rejected_execution_exception reason', '503 unavailable_shards_exception: unavailable_shards_exception reason']);
  });

  test('a transient item fails the apply before dead-lettering or checkpointing', async () => {
    const calls: string[] = [];
    const client = {
      bulk: async () => ({ errors: true, items: [item(400, 'document_parsing_exception'), item(429, 'es_rejected_execution_exception')] }),
      index: async () => calls.push('checkpoint'),
    } as unknown as Client;
    const sink = createElasticsearchSink({ client, generation: 1, projector: 'test' });
    const apply = sink.apply([opAt(1), opAt(2)], [{ topic: 't', partition: 0, nextOffset: '3', lsn: 2 }], async () => void calls.push('rejected'));
    await assert.rejects(apply, (error: unknown) => error instanceof NovaError && error.kind === 'transient' && /1 of 2 bulk items/.test(error.message));
    assert.deepEqual(calls, []);
  });
});
