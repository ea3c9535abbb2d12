// Pure: which kind each Neo4j failure code is (connection.ts). No server: the codes are what
// the driver sets on its errors (neo4j.sink.test.ts meets real ones).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { neo4jError } from './connection.ts';

const failure = (code: string) => Object.assign(new Error('the message is never read'), { code });

const kinds: [string, string][] = [
  ['ServiceUnavailable', 'transient'],
  ['SessionExpired', 'transient'],
  ['Neo.TransientError.Transaction.DeadlockDetected', 'transient'],
  ['Neo.TransientError.Transaction.LockAcquisitionTimeout', 'transient'],
  ['Neo.TransientError.General.DatabaseUnavailable', 'transient'],
  ['Neo.TransientError.General.TransactionMemoryLimit', 'bounded'],
  ['Neo.TransientError.General.MemoryPoolOutOfMemoryError', 'bounded'],
  ['Neo.TransientError.General.OutOfMemoryError', 'bounded'],
  ['Neo.ClientError.General.TransactionOutOfMemoryError', 'bounded'],
  ['Neo.ClientError.Transaction.TransactionTimedOut', 'bounded'],
  ['Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration', 'bounded'],
  ['Neo.TransientError.Statement.ExecutionTimeout', 'bounded'],
  ['Neo.ClientError.Statement.SyntaxError', 'fatal'],
  ['Neo.ClientError.Schema.ConstraintValidationFailed', 'fatal'],
  ['Neo.ClientError.Security.Unauthorized', 'fatal'],
  ['Neo.DatabaseError.General.UnknownError', 'fatal'],
  ['ProtocolError', 'fatal'],
];

for (const [code, kind] of kinds) test(`${code} is ${kind}`, () => assert.equal(neo4jError(failure(code)).kind, kind));

test('a message that reads like a timeout does not make one', () => {
  assert.equal(neo4jError(Object.assign(new Error('timed out waiting'), { code: 'Neo.ClientError.Statement.SyntaxError' })).kind, 'fatal');
  assert.equal(neo4jError(new Error('Connection timed out')).kind, 'fatal');
});

test("Node's own network codes are transient", () => assert.equal(neo4jError(failure('ECONNRESET')).kind, 'transient'));
