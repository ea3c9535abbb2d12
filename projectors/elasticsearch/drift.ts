// What the Elasticsearch view must hold, computed from PostgreSQL (the source of truth) with
// the same rules as mapping/*, and the documents read back from a generation's indices: the
// reconcile tool's comparison and the end-to-end tests' oracle. Both can be read whole or for
// some ids only, so a row that changed while it was being read can be compared again once the
// projector has caught up.
//
// Deleted messages: the mapping keeps a hard-deleted message as its last row flagged
// is_deleted, but PostgreSQL no longer has that row. So a message document PostgreSQL does not
// have must be flagged is_deleted; a caller that knows the deleted rows (a test's workload) can
// add them to the expected view to have them compared exactly.
import type { Client } from '@elastic/elasticsearch';
import { clientRetries, connectElasticsearch } from './client.ts';
import pg from 'pg';
import { novaConfig } from '../../config/nova-config.ts';
import type { CompareWithPostgres, Drift } from '../runtime/sink.ts';
import { aliasNames, indexName, type AliasName } from './index-names.ts';
import { readerFilter } from './tombstones.ts';

export type Doc = Record<string, unknown>;
/** id -> _source, per alias */
export type View = Record<AliasName, Map<string, Doc>>;
/** _version as the client parses it, a double: exact below 2^53, and two reads of one document compare alike above it */
export type Versions = Record<AliasName, Map<string, number>>;
/** Some ids per alias; an alias left out is not read. */
export type Ids = Partial<Record<AliasName, Set<string>>>;
export type Problem = { alias: AliasName; id: string; line: string };

// timestamps leave PostgreSQL as epoch milliseconds (truncated, as the decoder's Date is), so
// both sides become the same toISOString(); bigint ids come back from pg as strings
const epochMs = (column: string) => `floor(extract(epoch from ${column}) * 1000)::bigint AS ${column}`;
const iso = (ms: string | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
const num = (value: string) => Number(value);

/** The select list for a messages row, for the oracle and for the workload's DELETE ... RETURNING. */
export const messageColumns = `id, conversation_id, sender_id, content, message_type, is_deleted, ${epochMs('created_at')}`;

export const messageDoc = (r: pg.QueryResultRow, deleted: boolean | null = r['is_deleted']): Doc => ({
  message_id: num(r['id']),
  conversation_id: num(r['conversation_id']),
  sender_id: num(r['sender_id']),
  content: r['content'],
  message_type: r['message_type'],
  is_deleted: deleted,
  created_at: iso(r['created_at']),
});

const tables: Record<AliasName, { table: string; columns: string; doc: (r: pg.QueryResultRow) => Doc }> = {
  messages: { table: 'messages', columns: messageColumns, doc: (r) => messageDoc(r) },
  posts: { table: 'posts', columns: `id, author_id, text, ${epochMs('created_at')}`, doc: (r) => ({ post_id: num(r['id']), author_id: num(r['author_id']), text: r['text'], created_at: iso(r['created_at']) }) },
  users: {
    table: 'users',
    columns: `id, username, bio, avatar_url, ${epochMs('created_at')}`,
    doc: (r) => ({ user_id: num(r['id']), username: r['username'], bio: r['bio'], avatar_url: r['avatar_url'], created_at: iso(r['created_at']) }),
  },
};

/** Every existing row (or those of `only`) as its document, plus `deletedMessages` (last rows, already flagged). */
export async function expectedFromPostgres(db: pg.Client, deletedMessages: ReadonlyMap<string, Doc> = new Map(), only?: Ids): Promise<View> {
  const view = {} as View;
  for (const alias of aliasNames) {
    const { table, columns, doc } = tables[alias];
    const ids = only ? [...(only[alias] ?? [])] : undefined;
    const rows = ids === undefined ? await db.query(`SELECT ${columns} FROM ${table}`) : ids.length === 0 ? { rows: [] } : await db.query(`SELECT ${columns} FROM ${table} WHERE id = ANY($1::bigint[])`, [ids]);
    view[alias] = new Map(rows.rows.map((r) => [String(r['id']), doc(r)]));
  }
  for (const [id, doc] of deletedMessages) if (!view.messages.has(id) && (!only || only.messages?.has(id))) view.messages.set(id, doc);
  return view;
}

/**
 * What readers see of one index (or of its documents `ids`), refreshed first, with each
 * document's _version: tombstones are left out by the readers' own filter.
 */
async function readIndex(es: Client, index: string, ids?: string[]): Promise<[Map<string, Doc>, Map<string, number>]> {
  const [docs, versions] = [new Map<string, Doc>(), new Map<string, number>()];
  if (ids?.length === 0) return [docs, versions];
  await es.indices.refresh({ index });
  const query = { bool: { filter: ids ? [readerFilter, { ids: { values: ids } }] : [readerFilter] } };
  let page = await es.search<Doc>({ index, scroll: '1m', size: 10_000, version: true, sort: ['_doc'], query });
  while (page.hits.hits.length > 0) {
    for (const hit of page.hits.hits) {
      docs.set(hit._id as string, hit._source as Doc);
      versions.set(hit._id as string, hit._version as number);
    }
    page = await es.scroll<Doc>({ scroll_id: page._scroll_id as string, scroll: '1m' });
  }
  if (page._scroll_id) await es.clearScroll({ scroll_id: page._scroll_id });
  return [docs, versions];
}

/** What readers see of the generation's indices (or of the documents `only` names), with each one's _version. */
export async function actualFromElasticsearch(es: Client, generation: number, only?: Ids): Promise<{ view: View; versions: Versions }> {
  const read = await Promise.all(aliasNames.map((alias) => readIndex(es, indexName(alias, generation), only ? [...(only[alias] ?? [])] : undefined)));
  const [view, versions] = [{} as View, {} as Versions];
  aliasNames.forEach((alias, i) => ([view[alias], versions[alias]] = read[i] as [Map<string, Doc>, Map<string, number>]));
  return { view, versions };
}

/** The union of id sets, per alias. */
export function mergeIds(...sets: Ids[]): Ids {
  const ids: Ids = {};
  for (const set of sets) for (const alias of aliasNames) for (const id of set[alias] ?? []) (ids[alias] ??= new Set()).add(id);
  return ids;
}

export const show = (value: unknown) => {
  const text = JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
};

/** The fields whose values differ, by name. */
export const differingFields = (a: Doc, b: Doc) => [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));

/**
 * Every way `actual` differs from `expected` (over `only`'s ids, when given, else all of both).
 * `flaggedMessageIds` are messages known to be deleted whose last row is unknown: they must
 * exist, flagged is_deleted.
 */
export function differences(expected: View, actual: View, flaggedMessageIds: ReadonlySet<string> = new Set(), only?: Ids): Problem[] {
  const problems: Problem[] = [];
  for (const alias of aliasNames) {
    const [want, got] = [expected[alias], actual[alias]];
    const ids = only ? (only[alias] ?? new Set<string>()) : new Set([...want.keys(), ...got.keys(), ...(alias === 'messages' ? flaggedMessageIds : [])]);
    for (const id of ids) {
      const [doc, found] = [want.get(id), got.get(id)];
      const problem = (line: string) => problems.push({ alias, id, line: `${alias}/${id} ${line}` });
      if (doc && !found) problem(`missing: PostgreSQL has ${show(doc)}`);
      else if (doc && found) {
        const fields = differingFields(doc, found);
        if (fields.length > 0) problem(`differs in ${fields.join(', ')}: expected ${show(doc)}, got ${show(found)}`);
      } else if (found) {
        // a message PostgreSQL no longer has stays as its last row, flagged
        if (!(alias === 'messages' && found['is_deleted'] === true)) problem(`not in PostgreSQL${alias === 'messages' ? ' and not flagged is_deleted' : ''}: ${show(found)}`);
      } else if (alias === 'messages' && flaggedMessageIds.has(id)) problem('deleted in PostgreSQL: expected its document flagged is_deleted, found none');
    }
  }
  return problems;
}

/** The ids `problems` name, per alias: what to compare again. */
export const idsOf = (problems: Problem[]): Ids => mergeIds(...problems.map(({ alias, id }) => ({ [alias]: new Set([id]) })));

/** The documents of a generation that differ from PostgreSQL, as drift. */
export const compareElasticsearchWithPostgres: CompareWithPostgres = async ({ generation, env, only }) => {
  const config = novaConfig(env);
  const db = new pg.Client({ connectionString: config.databaseUrl() });
  const es = connectElasticsearch(env, { maxRetries: clientRetries });
  const ids: Ids | undefined = only ? Object.fromEntries(aliasNames.map((alias) => [alias, only.get(alias) ?? new Set<string>()])) : undefined;
  try {
    await db.connect();
    const problems = differences(await expectedFromPostgres(db, new Map(), ids), (await actualFromElasticsearch(es, generation, ids)).view, new Set(), ids);
    return problems.map(({ alias, id, line }): Drift => ({ view: alias, key: id, detail: line.slice(line.indexOf(' ') + 1) }));
  } finally {
    await Promise.all([db.end(), es.close()]);
  }
};
