// Readers query stable aliases (`messages`, `posts`, `users`); each points at one generation
// index `<alias>_v<generation>` and hides its tombstones (tombstones.ts). A replay fills a new
// generation beside the live one and then swaps the alias, so readers never see a half-built index.
// In a reader namespace the aliases readers query are `<namespace>_<alias>` (readerName); the
// generation indices keep their names.
import { errors, type Client } from '@elastic/elasticsearch';
import { novaConfig } from '../../config/nova-config.ts';
import { readerName } from '../runtime/reader-namespace.ts';
import { checkpointIndex, checkpointMappings } from './checkpoint.ts';
import { ensureFormat, generationMappings } from './format.ts';
import { indexMappings, type AliasName } from './index-mappings.ts';
import { readerFilter } from './tombstones.ts';

export type { AliasName } from './index-mappings.ts';

export const aliasNames = Object.keys(indexMappings) as AliasName[];

export const indexName = (alias: string, generation: number) => `${alias}_v${generation}`;

/** The name readers of env's namespace query for `alias`. */
export const readerAliasName = (alias: AliasName, env: NodeJS.ProcessEnv) => readerName(alias, env);

/** The action that points `alias` at `index` the way readers must see it: always with readerFilter. */
export const readerAlias = (alias: string, index: string) => ({ add: { index, alias, filter: readerFilter } });

/** The indices `alias` points at (none when it does not exist). */
export const aliasTargets = async (client: Client, alias: string): Promise<string[]> =>
  (await client.indices.existsAlias({ name: alias })) ? Object.keys(await client.indices.getAlias({ name: alias })) : [];

const alreadyExists = (error: unknown) =>
  error instanceof errors.ResponseError && error.body?.error?.type === 'resource_already_exists_exception';

async function createIfMissing(client: Client, index: string, mappings: object, replicas: number) {
  try {
    await client.indices.create({ index, settings: { number_of_replicas: replicas }, mappings });
  } catch (error) {
    if (!alreadyExists(error)) throw error; // another process created it first: same mappings
  }
}

/**
 * Creates `index` (with `replicas`: an index that exists keeps its own), or brings one an older
 * Nova made up to `mappings` (fields are only ever added: idempotent).
 */
export async function ensureIndex(client: Client, index: string, mappings: { properties: Record<string, object> }, replicas: number) {
  await createIfMissing(client, index, mappings, replicas);
  await client.indices.putMapping({ index, properties: mappings.properties });
}

/**
 * Creates the generation's indices and the checkpoint index if missing, with
 * ELASTICSEARCH_INDEX_REPLICAS replicas (the checkpoint index of an older Nova gains the fields
 * it lacks), and refuses a generation an older Nova filled (format.ts) before any alias moves;
 * then claims the reader aliases for it (claimReaderAliases).
 */
export async function ensureIndices(client: Client, generation: number, options: { shadow?: boolean; env: NodeJS.ProcessEnv }): Promise<void> {
  const { env, ...claim } = options;
  const replicas = novaConfig(env).elasticsearchReplicas();
  await ensureIndex(client, checkpointIndex, checkpointMappings, replicas);
  // one checkpoint index serves every generation, so it may predate this setting: its replicas
  // are raised to it (never lowered: another projector may want more). A deleted checkpoint
  // forgets its version at once (checkpoint.ts versions them by offset), so deleting one to
  // replay a partition from the start works as it reads.
  // (with no replicas asked for there is nothing to raise: no read)
  const current = replicas === 0 ? 0 : Number((await client.indices.getSettings({ index: checkpointIndex }))[checkpointIndex]?.settings?.index?.number_of_replicas ?? 0);
  await client.indices.putSettings({ index: checkpointIndex, settings: { 'index.gc_deletes': '0s', ...(current < replicas ? { 'index.number_of_replicas': replicas } : {}) } });
  for (const alias of aliasNames) {
    await createIfMissing(client, indexName(alias, generation), generationMappings(alias), replicas);
    await ensureFormat(client, alias, generation, indexName(alias, generation));
  }
  await claimReaderAliases(client, aliasNames.map((alias) => ({ alias: readerAliasName(alias, env), index: indexName(alias, generation) })), claim);
}

/**
 * An alias that does not exist yet is pointed at its index (not for a shadow generation), and
 * one already on it gets readerFilter (an older Nova's alias had none); one on another index is
 * left alone, because moving it is the rebuild tool's decision (swapAliases, through
 * generations.ts), not a side effect of starting a projector.
 */
export async function claimReaderAliases(client: Client, readers: Array<{ alias: string; index: string }>, options: { shadow?: boolean } = {}): Promise<void> {
  for (const { alias, index } of readers) {
    const targets = await aliasTargets(client, alias);
    if ((targets.length === 0 && !options.shadow) || targets.includes(index)) await client.indices.updateAliases({ actions: [readerAlias(alias, index)] });
  }
}

/**
 * Points every alias (as readers name it: `readerOf`) at its index of `generation` in one atomic
 * step; returns the indices they left, for cleanup.
 */
export async function swapAliases(client: Client, aliases: readonly string[], generation: number, readerOf: (alias: string) => string = (alias) => alias): Promise<string[]> {
  const actions: object[] = [];
  const left: string[] = [];
  for (const alias of aliases) {
    const [reader, target] = [readerOf(alias), indexName(alias, generation)];
    for (const index of (await aliasTargets(client, reader)).filter((i) => i !== target)) {
      actions.push({ remove: { index, alias: reader } });
      left.push(index);
    }
    actions.push(readerAlias(reader, target));
  }
  await client.indices.updateAliases({ actions });
  return left;
}
