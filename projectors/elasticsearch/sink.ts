// Elasticsearch has no transaction across documents, so each write carries its change's version
// as an external version (an older or repeated change is refused with a 409) and the
// checkpoint is written after the bulk: a crash in between replays work the versions ignore.
// External versions compare strictly, as version.ts needs: a snapshot read (0) creates a
// missing document and meets a 409 on any existing one, a tombstone included.
import type { Client } from '@elastic/elasticsearch';
import { NovaError, codes } from '../runtime/errors.ts';
import type { CheckpointStore, Sink, StoreOp } from '../runtime/sink.ts';
import { bulkOutcome, type BulkOutcome } from './bulk-outcome.ts';
import { loadCheckpoints, writeCheckpoints } from './checkpoint.ts';
import { elasticsearchError } from './error-kinds.ts';
import { indexName } from './index-names.ts';
import type { EsOp } from './mapping/index.ts';
import { tombstone } from './tombstones.ts';

export type ElasticsearchSinkOptions = {
  /** handed over: close() closes it */
  client: Client;
  generation: number;
  projector: string;
  /** each bulk's counts, for tests and instrumentation */
  onBulk?: (outcome: BulkOutcome) => void;
};

/** A failure of the whole request, classified by error-kinds.ts. */
async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw elasticsearchError(error);
  }
}

/**
 * The version goes as its decimal text: JSON numbers are doubles in the client, and
 * Elasticsearch reads the text as the exact long. A delete indexes the row's tombstone.
 */
function bulkLines({ op }: StoreOp<EsOp>, generation: number): object[] {
  const target = { _index: indexName(op.index, generation), _id: op.id, version: op.version.toString(), version_type: 'external' as const };
  return [{ index: target }, op.doc ?? tombstone];
}

export function createElasticsearchSink(options: ElasticsearchSinkOptions): Sink<EsOp> & CheckpointStore {
  const { client, generation, projector, onBulk } = options;
  const scope = { projector, generation };
  return {
    async apply(ops, checkpoints, onRejected) {
      if (ops.length > 0) {
        const response = await guard(() => client.bulk({ refresh: false, operations: ops.flatMap((op) => bulkLines(op, generation)) }));
        const outcome = bulkOutcome(ops, response.items);
        onBulk?.(outcome);
        if (outcome.transient.length > 0) {
          const detail = `elasticsearch: ${outcome.transient.length} of ${ops.length} bulk items not taken now, first: ${outcome.transient[0]}`;
          throw new NovaError('transient', codes.storeUnavailable, detail);
        }
        // dead-lettered before the checkpoint moves past them, so none is lost
        if (outcome.rejected.length > 0) await onRejected(outcome.rejected);
      }
      await guard(() => writeCheckpoints(client, scope, checkpoints));
    },
    load: () => guard(() => loadCheckpoints(client, scope)),
    // the projector's createSink builds the client for this sink alone and the runtime only
    // calls sink.close() on stop, so the sink owns it; tests that share a client skip close()
    close: () => client.close(),
  };
}
