// The Neo4j sink for crash-child.ts. Its effects and checkpoints go in one transaction, so the
// window the other stores have between the two is not there: the nearest moment is the commit.
// This is the projector's own sink over a driver whose transactions, once they hold the batch's
// checkpoints, kill the process where they would commit. It first prints what the transaction
// holds by then (the updates the server counted for the batch's row writes, and the
// checkpoints), so that the test knows the crash cost a batch something.
import type { Transaction } from 'neo4j-driver';
import type { CrashFixture } from '../../runtime/testing/crash-child.ts';
import { checkpointLabel } from '../graph-names.ts';
import { connectNeo4j, createNeo4jSink, neo4jProjector, type GraphOp } from '../index.ts';

/** The key of the line printed before the crash: `{"pendingAtCommit":{"updates":N,"checkpoints":M}}`. */
export const pendingAtCommit = 'pendingAtCommit';

function crashingAtCommit(tx: Transaction, crash: () => never): void {
  const pending = { updates: 0, checkpoints: 0 };
  const [run, commit] = [tx.run.bind(tx), tx.commit.bind(tx)];
  tx.run = ((query: string, parameters?: Record<string, unknown>) => {
    const result = run(query, parameters);
    const { rows, checkpoints } = parameters ?? {};
    if (query.includes(`:${checkpointLabel} `) && Array.isArray(checkpoints)) pending.checkpoints += checkpoints.length;
    // the sink sees a failure itself; counting it is no business of this one
    else if (Array.isArray(rows)) result.then((done) => (pending.updates += Object.values(done.summary.counters.updates()).reduce((a, b) => a + b, 0)), () => {});
    return result;
  }) as Transaction['run'];
  tx.commit = async () => {
    if (pending.checkpoints === 0) return commit();
    process.stdout.write(`${JSON.stringify({ [pendingAtCommit]: pending })}\n`);
    return crash();
  };
}

const fixture: CrashFixture<GraphOp> = {
  definition: neo4jProjector,
  async crashingSink(generation, env, crash) {
    const driver = connectNeo4j(env);
    const session = driver.session.bind(driver);
    driver.session = (config) => {
      const opened = session(config);
      const begin = opened.beginTransaction.bind(opened);
      opened.beginTransaction = (transactionConfig) => {
        const tx = begin(transactionConfig);
        crashingAtCommit(tx, crash);
        return tx;
      };
      return opened;
    };
    return createNeo4jSink({ driver, generation, projector: neo4jProjector.name });
  },
};

export default fixture;
