// Pure: the client's own error classes, built here, and the kind each becomes. The real server's
// timeouts and refusals are in elasticsearch.contract.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errors } from '@elastic/elasticsearch';
import { NovaError } from '../runtime/errors.ts';
import { elasticsearchError } from './error-kinds.ts';

const response = (statusCode: number, type: string) =>
  new errors.ResponseError({ body: { error: { type, reason: `${type} reason` }, status: statusCode }, statusCode, headers: {}, warnings: null, meta: {} as never });

const cases: [string, unknown, string, string][] = [
  ['a 504 (the gateway gave up)', response(504, 'gateway_timeout'), 'bounded', 'NOVA_S1003'],
  ['a 408 (the request timed out)', response(408, 'request_timeout'), 'bounded', 'NOVA_S1003'],
  ['a 413 (the bulk is larger than the server takes)', response(413, 'content_too_long'), 'bounded', 'NOVA_S1003'],
  ["the client's own timeout", new errors.TimeoutError('Request timed out'), 'bounded', 'NOVA_S1003'],
  ['a 429 (overloaded)', response(429, 'es_rejected_execution_exception'), 'transient', 'NOVA_S1001'],
  ['a 503', response(503, 'unavailable_shards_exception'), 'transient', 'NOVA_S1001'],
  ['a 500', response(500, 'null_pointer_exception'), 'transient', 'NOVA_S1001'],
  ['no connection', new errors.ConnectionError('connect ECONNREFUSED'), 'transient', 'NOVA_S1001'],
  ['no living connection', new errors.NoLivingConnectionsError('There are no living connections', {} as never), 'transient', 'NOVA_S1001'],
  // message texts that used to read as timeouts mean nothing: only the class and status count
  ['a 400 whose reason says "timed out"', response(400, 'timed out'), 'fatal', 'NOVA_S1004'],
  ['a 404', response(404, 'index_not_found_exception'), 'fatal', 'NOVA_S1004'],
  ['a body that does not serialise', new errors.SerializationError('Do not know how to serialize a BigInt', {}), 'fatal', 'NOVA_S1004'],
];

describe('elasticsearch error kinds', () => {
  for (const [name, error, kind, code] of cases) {
    test(`${name} is ${kind}`, () => {
      const classified = elasticsearchError(error);
      assert.ok(classified instanceof NovaError);
      assert.deepEqual([classified.kind, classified.code], [kind, code]);
      assert.equal(classified.cause, error);
    });
  }

  test("Nova's own refusal passes as it is", () => {
    const refusal = new Error('elasticsearch: generation 3 was written by an older Nova');
    assert.equal(elasticsearchError(refusal), refusal);
  });
});
