// The Neo4j driver as the projector uses it, and its failures classified once: what the
// driver calls retryable (the server unreachable, a deadlock, a leader switch, any
// Neo.TransientError) is transient; the rest is classified as every store's failures are.
import neo4j, { type Driver, type Session, type Transaction } from 'neo4j-driver';
import { NovaError, codes, storeError } from '../runtime/errors.ts';

export function connectNeo4j(env: NodeJS.ProcessEnv): Driver {
  const { NEO4J_URL: url, NEO4J_USER: user, NEO4J_PASSWORD: password } = env;
  if (!url || !user || !password) throw new Error('neo4j: NEO4J_URL, NEO4J_USER and NEO4J_PASSWORD must be set');
  // ids, LSNs and epoch seconds all fit in 53 bits: read them back as plain numbers
  return neo4j.driver(url, neo4j.auth.basic(user, password), { disableLosslessIntegers: true, connectionAcquisitionTimeout: 10_000 });
}

export function neo4jError(error: unknown): NovaError {
  if (error instanceof NovaError) return error;
  if (neo4j.isRetryableError(error)) {
    return new NovaError('transient', codes.storeUnavailable, `neo4j: ${(error as Error).message}`, { cause: error });
  }
  return storeError(error, 'neo4j');
}

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
 * Not the driver's executeWrite, which retries on its own: retrying is the runtime's job.
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
