// What a generation's stored versions mean, recorded as the property `nova.format` on each of
// its collections, set as the collection is created. Format 2: every row and tombstone keeps its
// change's version and commit order, a snapshot read's version is 0, and a truncate is kept by
// commit order (runtime/decode/version.ts). The Nova before it gave a snapshot read its
// snapshot's LSN, so a read could outrank, and keep out for good, a change committed after the
// snapshot point with a lower LSN (issue 8): a generation it filled may be wrong in exactly that
// way, silently, and its collections have `lsn` where these have the order fields. Only a
// rebuild repairs it, so such a generation is refused rather than written on.
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { call, loadCollection } from './milvus-call.ts';

const formatKey = 'nova.format';
const format = '2';

/** What every collection of a generation is created with. */
export const formatProperties = { [formatKey]: format };

async function isCurrent(client: MilvusClient, name: string): Promise<boolean> {
  const { properties } = await call(client, `describe ${name}`, () => client.describeCollection({ collection_name: name }));
  return properties.some(({ key, value }) => key === formatKey && value === format);
}

async function rowCount(client: MilvusClient, name: string): Promise<bigint> {
  await loadCollection(client, name);
  const { data } = await call(client, `count ${name}`, () => client.query({ collection_name: name, filter: '', output_fields: ['count(*)'] }), { collection: name });
  return BigInt(String(data[0]?.['count(*)'] ?? 0));
}

/**
 * Whether an older Nova made some of the generation's collections (`names`) while they hold
 * nothing: then there is nothing to lose, and the caller makes them anew. Throws, naming the
 * repair, when such a generation holds rows.
 */
export async function isEmptyOlderFormat(client: MilvusClient, generation: number, names: string[]): Promise<boolean> {
  const existing: string[] = [];
  for (const name of names) if ((await call(client, `look for ${name}`, () => client.hasCollection({ collection_name: name }))).value === true) existing.push(name);
  const older: string[] = [];
  for (const name of existing) if (!(await isCurrent(client, name))) older.push(name);
  if (older.length === 0) return false;
  let rows = 0n;
  for (const name of existing) rows += await rowCount(client, name);
  if (rows === 0n) return true;
  throw new Error(
    `milvus: generation ${generation} was written by a Nova before format ${format} (${older.join(', ')} without the ${formatKey} ${format} marker, ${rows} rows): ` +
      `its stored versions let a snapshot read hide a later change for good, and its collections have no version and commit_order. ` +
      `Repair: rebuild into a new generation M with \`scripts/nova projector rebuild milvus --generation M --snapshot\`, ` +
      `then promote it (\`scripts/nova projector promote milvus --generation M\`) and drop generation ${generation}`,
  );
}
