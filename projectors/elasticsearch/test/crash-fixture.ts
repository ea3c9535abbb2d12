// The Elasticsearch fixture of runtime/testing/crash-child.ts: the projector's own sink, on a
// client that kills the process when a sink call that has ops sends its checkpoint bulk. Before
// dying it prints one line (crashReport reads it back): the documents that call's bulk wrote,
// where its records start per partition, and the checkpoints it never wrote. A sink that sent
// the checkpoints before the documents is caught in the act: its report lists no documents.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { estypes } from '@elastic/elasticsearch';
import type { Checkpoint, StoreOp } from '../../runtime/sink.ts';
import type { CrashFixture } from '../../runtime/testing/crash-child.ts';
import { checkpointIndex } from '../checkpoint.ts';
import { connectElasticsearch, createElasticsearchSink, elasticsearchProjector, ensureIndices, type EsOp } from '../index.ts';

export type CrashReport = {
  /** written by the call's bulk (2xx items), at the _version the server answered */
  documents: Array<{ index: string; id: string; version: number }>;
  /** the lowest offset of the call's records, per partition */
  firstOffsets: Array<{ topic: string; partition: number; offset: string }>;
  /** what the checkpoint bulk would have written */
  checkpoints: Array<Pick<Checkpoint, 'topic' | 'partition' | 'nextOffset'>>;
};

const prefix = 'nova-crash-report ';

/** The report the crashing projector printed, if it did. */
export const crashReport = (output: string): CrashReport | undefined => {
  const line = output.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : (JSON.parse(line.slice(prefix.length)) as CrashReport);
};

type Call = { ops: StoreOp<EsOp>[]; checkpoints: Checkpoint[]; written: CrashReport['documents'] };
type Action = { index: { _index: string; _id: string } };

function report({ ops, checkpoints, written }: Call): string {
  const first = new Map<string, CrashReport['firstOffsets'][number]>();
  for (const { change } of ops) {
    const { topic, partition, offset } = change.position;
    const key = `${topic}:${partition}`;
    const seen = first.get(key);
    if (!seen || BigInt(offset) < BigInt(seen.offset)) first.set(key, { topic, partition, offset });
  }
  const body: CrashReport = { documents: written, firstOffsets: [...first.values()], checkpoints: checkpoints.map(({ topic, partition, nextOffset }) => ({ topic, partition, nextOffset })) };
  return `${prefix}${JSON.stringify(body)}\n`;
}

const fixture: CrashFixture<EsOp> = {
  definition: elasticsearchProjector,
  async crashingSink(generation, env, crash) {
    const client = connectElasticsearch(env);
    await ensureIndices(client, generation, { shadow: true, env: process.env });
    // which sink call a bulk belongs to: two can be in flight at once
    const calls = new AsyncLocalStorage<Call>();
    const bulk = client.bulk.bind(client);
    const crashingBulk = async (request: estypes.BulkRequest): Promise<estypes.BulkResponse> => {
      const call = calls.getStore();
      const actions = (request.operations ?? []).filter((_, i) => i % 2 === 0) as Action[];
      if (call && call.ops.length > 0 && actions[0]?.index._index === checkpointIndex) {
        process.stdout.write(report(call)); // a pipe: written before the kill
        crash();
      }
      const response = await bulk(request);
      response.items.forEach((item, i) => {
        const { status, _version } = item.index ?? { status: 0 };
        const action = actions[i]?.index;
        if (call && action && status >= 200 && status < 300) call.written.push({ index: action._index, id: action._id, version: _version as number });
      });
      return response;
    };
    client.bulk = crashingBulk as typeof client.bulk;
    const sink = createElasticsearchSink({ client, generation, projector: elasticsearchProjector.name });
    return { ...sink, apply: (ops, checkpoints, onRejected) => calls.run({ ops, checkpoints, written: [] }, () => sink.apply(ops, checkpoints, onRejected)) };
  },
};

export default fixture;
