// Readers query stable aliases (`messages`, `posts`, `users`); each points at one generation
// index `<alias>_v<generation>`. A replay fills a new generation beside the live one and then
// swaps the alias, so readers never see a half-built index.
import { errors, type Client } from '@elastic/elasticsearch';
import { checkpointIndex, checkpointMappings } from './checkpoint.ts';
import { indexMappings, type AliasName } from './index-mappings.ts';

export type { AliasName } from './index-mappings.ts';

export const aliasNames = Object.keys(indexMappings) as AliasName[];

export const indexName = (alias: string, generation: number) => `${alias}_v${generation}`;

const alreadyExists = (error: unknown) =>
  error instanceof errors.ResponseError && error.body?.error?.type === 'resource_already_exists_exception';

async function createIfMissing(client: Client, index: string, mappings: object) {
  try {
    await client.indices.create({ index, settings: { number_of_replicas: 0 }, mappings });
  } catch (error) {
    if (!alreadyExists(error)) throw error; // another process created it first: same mappings
  }
}

/**
 * Creates the generation's indices and the checkpoint index if missing. An alias that does not
 * exist yet is pointed at this generation; one that exists is left alone, because moving it is
 * the rebuild tool's decision (swapAliases, through generations.ts), not a side effect of starting a projector.
 */
export async function ensureIndices(client: Client, generation: number): Promise<void> {
  await createIfMissing(client, checkpointIndex, checkpointMappings);
  for (const alias of aliasNames) {
    const index = indexName(alias, generation);
    await createIfMissing(client, index, indexMappings[alias]);
    if (!(await client.indices.existsAlias({ name: alias }))) {
      await client.indices.updateAliases({ actions: [{ add: { index, alias } }] });
    }
  }
}

/** Points every alias at `generation` in one atomic step; returns the indices they left, for cleanup. */
export async function swapAliases(client: Client, aliases: readonly string[], generation: number): Promise<string[]> {
  const actions: object[] = [];
  const left: string[] = [];
  for (const alias of aliases) {
    const target = indexName(alias, generation);
    const current = (await client.indices.existsAlias({ name: alias })) ? Object.keys(await client.indices.getAlias({ name: alias })) : [];
    for (const index of current.filter((i) => i !== target)) {
      actions.push({ remove: { index, alias } });
      left.push(index);
    }
    actions.push({ add: { index: target, alias } });
  }
  await client.indices.updateAliases({ actions });
  return left;
}
