// The Neo4j driver as the projector uses it, and its failures classified once, by their code
// (never the message): the server unreachable or a session lost (the driver's own
// ServiceUnavailable and SessionExpired) and every Neo.TransientError (a deadlock, a lock
// timeout, a leader switch) are transient, except the memory limits; those and the timeouts
// may be the batch's own fault, so they are bounded. Anything else is fatal.
import neo4j, { type Driver, type Session, type Transaction } from 'neo4j-driver';
import { novaConfig } from '../../config/nova-config.ts';
import { NovaError, storeError, type ErrorKind } from '../runtime/errors.ts';

export function connectNeo4j(env: NodeJS.ProcessEnv): Driver {
  const { url, user, password } = novaConfig(env).neo4j();
  // ids and epoch seconds fit in 53 bits: read back as plain numbers. Versions and commit
  // orders do not (the source epoch is in their top bits): written as neo4j.int(bigint), and
  // read back only as text (toString in the query), never through this lossy conversion
  return neo4j.driver(url, neo4j.auth.basic(user, password), { disableLosslessIntegers: true, connectionAcquisitionTimeout: 10_000 });
}

/** Neo4j 5.26's codes (org.neo4j.kernel.api.exceptions.Status) for a limit the batch itself may have hit. */
const boundedCodes = new Set([
  'Neo.TransientError.General.TransactionMemoryLimit', // server.memory.off_heap.transaction_max_size
  'Neo.TransientError.General.MemoryPoolOutOfMemoryError', // the pool its message names (dbms.memory.transaction.total.max, ...)
  'Neo.TransientError.General.OutOfMemoryError', // the heap
  'Neo.ClientError.General.TransactionOutOfMemoryError', // db.memory.transaction.max
  'Neo.ClientError.Transaction.TransactionTimedOut', // db.transaction.timeout
  'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration', // the transaction's own timeout
  'Neo.TransientError.Statement.ExecutionTimeout',
]);

/** What a Neo4j failure's code means to the runtime; undefined for any other, which storeError makes fatal. */
export function neo4jKindOf(error: unknown): ErrorKind | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  if (boundedCodes.has(code)) return 'bounded';
  if (code === neo4j.error.SERVICE_UNAVAILABLE || code === neo4j.error.SESSION_EXPIRED || code.startsWith('Neo.TransientError.')) return 'transient';
  return undefined;
}

export const neo4jError = (error: unknown): NovaError => storeError(error, 'neo4j', neo4jKindOf);

/** Runs `work` with a session of its own, closing it after; failures come out classified. */
export async function withSession<T>(driver: Driver, work: (session: Session) => Promise<T>): Promise<T> {
  const session = driver.session();
  try {
    return await work(session);
  } catch (error) {
    throw neo4jError(error);
  } finally {
    await session.close();
  }
}

/**
 * Runs `work` in one explicit transaction: committed if it returns, rolled back if it throws.
 * Not the driver's executeWrite, which retries on its own: retrying is the runtime's job, and
 * it retries only what is transient.
 */
export function inTransaction<T>(driver: Driver, work: (tx: Transaction) => Promise<T>): Promise<T> {
  return withSession(driver, async (session) => {
    const tx = session.beginTransaction();
    try {
      const result = await work(tx);
      await tx.commit();
      return result;
    } catch (error) {
      if (tx.isOpen()) await tx.rollback().catch(() => {}); // the original failure is the one to report
      throw error;
    }
  });
}
