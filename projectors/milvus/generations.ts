// The generation seam. Each generation is its own set of collections (`user_embeddings_v<N>`,
// `post_embeddings_v<N>`, its tombstones and checkpoints). Readers use the stable names
// `user_embeddings` and `post_embeddings`: Milvus aliases, which milvus-lite 3.2.2 implements
// (create, alter, describe, drop; a search through one reads its collection: generations.test.ts).
// A rebuild fills a new generation beside the live one and then swaps the aliases, so readers
// never see a half-built collection. milvusGenerations is the runtime's blue/green port over this.
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { novaConfig } from '../../config/nova-config.ts';
import { readerName, readerNamespace } from '../runtime/reader-namespace.ts';
import type { Generations } from '../runtime/sink.ts';
import { checkpointSpec } from './checkpoint.ts';
import { collectionName, embeddingCollections, embeddingSpec, type CollectionSpec } from './collections.ts';
import { formatProperties, isEmptyOlderFormat } from './format.ts';
import type { EmbeddingCollection } from './mapping/index.ts';
import { call, connectMilvus, loadCollection, statusCode } from './milvus-call.ts';
import { ownerSpec } from './owners.ts';
import { tombstoneSpec } from './tombstones.ts';

/** The alias readers search for each embedding collection. */
export type AliasNames = Readonly<Record<EmbeddingCollection, string>>;

/** The stable names readers search: each collection's own name. */
export const aliasNames: AliasNames = { user_embeddings: 'user_embeddings', post_embeddings: 'post_embeddings' };

/** The aliases readers of env's namespace search (runtime/reader-namespace.ts). */
export const readerAliases = (env: NodeJS.ProcessEnv): AliasNames =>
  readerNamespace(env) === undefined ? aliasNames : { user_embeddings: readerName('user_embeddings', env), post_embeddings: readerName('post_embeddings', env) };

const generationSpecs = (generation: number): CollectionSpec[] => [
  ...embeddingCollections.map((collection) => embeddingSpec(collection, generation)),
  tombstoneSpec(generation),
  checkpointSpec(generation),
  ownerSpec(generation),
];

const noIndex = 700; // describeIndex: "no index on collection"
const noSuchAlias = 100; // describeAlias: "alias does not exist"

/** Runs a create; should it fail, `done` says whether another process (a projector starting beside this one) did it meanwhile. */
async function createUnlessDone(work: () => Promise<unknown>, done: () => Promise<boolean>): Promise<void> {
  if (await done()) return;
  try {
    await work();
  } catch (error) {
    if (!(await done())) throw error;
  }
}

/** Creates (marked with the format), indexes and loads a collection, whatever part of that an earlier start finished. */
async function ensureCollection(client: MilvusClient, { name, fields, index }: CollectionSpec): Promise<void> {
  const exists = async () => (await call(client, `look for ${name}`, () => client.hasCollection({ collection_name: name }))).value === true;
  await createUnlessDone(() => call(client, `create ${name}`, () => client.createCollection({ collection_name: name, fields, consistency_level: 'Strong', properties: formatProperties })), exists);
  const indexed = async () => {
    const described = await call(client, `describe the index of ${name}`, () => client.describeIndex({ collection_name: name, field_name: index.field_name }), { accept: [noIndex] });
    return statusCode(described) === 0;
  };
  await createUnlessDone(() => call(client, `index ${name}`, () => client.createIndex({ collection_name: name, ...index })), indexed);
  if (!(await loadCollection(client, name))) throw new Error(`milvus: ${name} was dropped while it was being prepared`);
}

/** The collection `alias` points at, or undefined when there is no such alias. */
export async function aliasTarget(client: MilvusClient, alias: string): Promise<string | undefined> {
  // the SDK insists on a collection_name that the request does not carry
  const described = await call(client, `describe alias ${alias}`, () => client.describeAlias({ alias, collection_name: alias }), { accept: [noSuchAlias] });
  return statusCode(described) === 0 ? described.collection : undefined;
}

/** Points `alias` at `collection` in one step; returns the collection it left, if any. */
export async function pointAlias(client: MilvusClient, alias: string, collection: string): Promise<string | undefined> {
  const previous = await aliasTarget(client, alias);
  if (previous === collection) return undefined;
  if (previous === undefined) await call(client, `create alias ${alias}`, () => client.createAlias({ alias, collection_name: collection }));
  else await call(client, `move alias ${alias}`, () => client.alterAlias({ alias, collection_name: collection }));
  return previous;
}

/**
 * Creates the generation's collections if missing and loads them; refuses a generation an older
 * Nova filled (format.ts). An alias (of `aliases`, by default the stable names) that does not
 * exist yet is pointed at this generation; one that exists is left alone, because moving it is
 * the rebuild tool's decision (milvusGenerations().promote), not a side effect of starting a
 * projector.
 */
export async function ensureGeneration(client: MilvusClient, generation: number, options: { shadow?: boolean; aliases?: AliasNames } = {}): Promise<void> {
  const { shadow, aliases = aliasNames } = options;
  const specs = generationSpecs(generation);
  if (await isEmptyOlderFormat(client, generation, specs.map(({ name }) => name))) await dropGeneration(client, generation);
  for (const spec of specs) await ensureCollection(client, spec);
  for (const collection of shadow ? [] : embeddingCollections) {
    const alias = aliases[collection];
    const create = () => call(client, `create alias ${alias}`, () => client.createAlias({ alias, collection_name: collectionName(collection, generation) }));
    await createUnlessDone(create, async () => (await aliasTarget(client, alias)) !== undefined);
  }
}

/**
 * Points every alias (of `aliases`, by default the stable names) at `generation`; returns the
 * collections they left, for cleanup. Milvus moves one alias per request, so readers may see
 * the two collections from different generations for a moment; each one is whole.
 */
export async function swapAliases(client: MilvusClient, generation: number, aliases: AliasNames = aliasNames): Promise<string[]> {
  const left: string[] = [];
  for (const collection of embeddingCollections) {
    const previous = await pointAlias(client, aliases[collection], collectionName(collection, generation));
    if (previous !== undefined) left.push(previous);
  }
  return left;
}

/** Drops a generation's collections, and any alias still pointing at them (Milvus refuses to drop an aliased collection). */
export async function dropGeneration(client: MilvusClient, generation: number): Promise<void> {
  for (const { name } of generationSpecs(generation)) {
    const { aliases } = await call(client, `list the aliases of ${name}`, () => client.listAliases({ collection_name: name }));
    for (const alias of aliases ?? []) await call(client, `drop alias ${alias}`, () => client.dropAlias({ alias }));
    await call(client, `drop ${name}`, () => client.dropCollection({ collection_name: name }));
  }
}

async function withMilvus<T>(env: NodeJS.ProcessEnv, work: (client: MilvusClient) => Promise<T>): Promise<T> {
  const client = await connectMilvus(novaConfig(env).milvusAddress());
  try {
    return await work(client);
  } finally {
    await client.closeConnection();
  }
}

/** The generations the aliases point at, in collection order (two only for a moment of a swap). */
async function aliasedGenerations(client: MilvusClient, aliases: AliasNames): Promise<number[]> {
  const generations: number[] = [];
  for (const collection of embeddingCollections) {
    const target = await aliasTarget(client, aliases[collection]);
    if (target !== undefined) generations.push(Number(target.slice(target.lastIndexOf('_v') + 2)));
  }
  return generations;
}

/**
 * Throws if `aliases` or the stable names point at `generation`: a port on aliases of its own (a
 * test's) must not drop the collections readers search, and with them the stable aliases.
 */
export async function refuseLiveDrop(client: MilvusClient, generation: number, aliases: AliasNames = aliasNames): Promise<void> {
  for (const names of new Set([aliases, aliasNames])) {
    if ((await aliasedGenerations(client, names)).includes(generation)) {
      throw new Error(`milvus: generation ${generation} is live; promote another one first (the aliases ${Object.values(names).join(', ')} read it)`);
    }
  }
}

/**
 * Blue/green for the embedding collections: the live generation is the one the aliases point
 * at (`aliases`, by default those of env's reader namespace; others are aliases only their
 * caller reads, a test's own). drop refuses a generation either set of aliases points at.
 */
export function milvusGenerations(options: { aliases?: AliasNames } = {}): Generations {
  const aliasesOf = (env: NodeJS.ProcessEnv) => options.aliases ?? readerAliases(env);
  return {
    live: (env) => withMilvus(env, async (client) => (await aliasedGenerations(client, aliasesOf(env)))[0]),
    promote: (generation, env) =>
      withMilvus(env, async (client) => {
        const missing: string[] = [];
        for (const { name } of generationSpecs(generation)) {
          if (!(await call(client, `look for ${name}`, () => client.hasCollection({ collection_name: name }))).value) missing.push(name);
        }
        if (missing.length > 0) throw new Error(`milvus: generation ${generation} has no ${missing.join(', ')}: rebuild it first`);
        await swapAliases(client, generation, aliasesOf(env));
      }),
    drop: (generation, env) =>
      withMilvus(env, async (client) => {
        await refuseLiveDrop(client, generation, aliasesOf(env));
        await dropGeneration(client, generation);
      }),
  };
}
