// What the documents of a generation index mean, recorded in its mappings' _meta. Format 2:
// every external version is its change's version (runtime/decode/version.ts: a snapshot read is
// 0, so it only fills) and a delete is a tombstone (tombstones.ts). A generation an older Nova
// wrote versioned snapshot reads by the snapshot's LSN, which let a read overwrite changes
// committed after it; it looks healthy and is wrong in exactly those rows, so it is refused
// rather than written on.
import type { Client } from '@elastic/elasticsearch';
import { indexMappings, type AliasName } from './index-mappings.ts';

const format = 2;

/** What a generation index is created with. */
export const generationMappings = (alias: AliasName) => ({ ...indexMappings[alias], _meta: { nova_format: format } });

/**
 * Throws unless `alias`'s index of `generation` is of this format or holds no documents; an
 * empty one of an older format is given this format's mappings and marker.
 */
export async function ensureFormat(client: Client, alias: AliasName, generation: number, index: string): Promise<void> {
  const mappings = (await client.indices.getMapping({ index }))[index]?.mappings;
  if (mappings?._meta?.['nova_format'] === format) return;
  await client.indices.refresh({ index });
  const { count } = await client.count({ index });
  if (count > 0) {
    throw new Error(
      `elasticsearch: generation ${generation} (${index}, documents: ${count}) was written by an older Nova (no nova_format ${format} marker): ` +
        `its stored versions let snapshot reads overwrite newer changes. Rebuild into a new generation M and promote it: ` +
        `scripts/nova projector rebuild elasticsearch --generation M --snapshot, then scripts/nova projector promote elasticsearch --generation M`,
    );
  }
  await client.indices.putMapping({ index, ...generationMappings(alias) });
}
