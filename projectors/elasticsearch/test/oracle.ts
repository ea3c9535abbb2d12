// What the Elasticsearch view must hold, computed from PostgreSQL (the source of truth) with
// the same rules as ../mapping/*, and the documents read back from a generation's indices.
// Both can be read whole or for some ids only, so a row that changed while it was being read
// can be compared again once the projector has caught up.
//
// Deleted messages: the mapping keeps a hard-deleted message as its last row flagged
// is_deleted, but PostgreSQL no longer has that row. So the expected view holds every existing
// row exactly, plus the deleted rows the workload recorded (DELETE ... RETURNING: the row as it
// was deleted, compared exactly). Any other message document PostgreSQL does not have (deleted
// by earlier runs, or by the Redis workload whose deletes we do not see) must at least be
// flagged is_deleted, and the ids the caller knows were deleted must be there.
import type { Client } from '@elastic/elasticsearch';
import type pg from 'pg';
import { aliasNames, indexName, type AliasName } from '../index.ts';

export type Doc = Record<string, unknown>;
/** id -> _source, per alias */
export type View = Record<AliasName, Map<string, Doc>>;
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

/** One index's documents (or those of `ids`), refreshed first, with their _version. */
async function readIndex(es: Client, index: string, ids?: string[]): Promise<[Map<string, Doc>, Map<string, number>]> {
  const [docs, versions] = [new Map<string, Doc>(), new Map<string, number>()];
  if (ids?.length === 0) return [docs, versions];
  await es.indices.refresh({ index });
  if (ids) {
    for (const hit of (await es.mget<Doc>({ index, ids })).docs) {
      if (!('found' in hit) || !hit.found) continue;
      docs.set(hit._id, hit._source as Doc);
      versions.set(hit._id, hit._version as number);
    }
    return [docs, versions];
  }
  let page = await es.search<Doc>({ index, scroll: '1m', size: 10_000, version: true, sort: ['_doc'] });
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

/** Every document of the generation's indices (or those of `only`), with its _version. */
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

const show = (value: unknown) => {
  const text = JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
};

/** The fields whose values differ, by name. */
const differingFields = (a: Doc, b: Doc) => [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));


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

/** Every way two reads of the same generation differ (_source or _version). */
export function snapshotDifferences(before: { view: View; versions: Versions }, after: { view: View; versions: Versions }): Array<Problem & { newer: boolean }> {
  const problems: Array<Problem & { newer: boolean }> = [];
  for (const alias of aliasNames) {
    for (const id of new Set([...before.view[alias].keys(), ...after.view[alias].keys()])) {
      const [doc, now] = [before.view[alias].get(id), after.view[alias].get(id)];
      const [version, versionNow] = [before.versions[alias].get(id), after.versions[alias].get(id)];
      const problem = (line: string, newer: boolean) => problems.push({ alias, id, line: `${alias}/${id} ${line}`, newer });
      if (!doc) problem(`new after: _version ${versionNow} ${show(now)}`, true);
      else if (!now) problem(`gone after: _version ${version} ${show(doc)}`, true);
      else if (differingFields(doc, now).length > 0 || version !== versionNow) {
        problem(`changed: _version ${version} ${show(doc)} -> _version ${versionNow} ${show(now)}`, (versionNow ?? 0) > (version ?? 0));
      }
    }
  }
  return problems;
}

/** The ids `problems` name, per alias: what to compare again. */
export const idsOf = (problems: Problem[]): Ids => mergeIds(...problems.map(({ alias, id }) => ({ [alias]: new Set([id]) })));

/** The ids a view holds, per alias. */
export const idsIn = (view: View): Ids => mergeIds(...aliasNames.map((alias) => ({ [alias]: new Set(view[alias].keys()) })));

/** Counts by kind ("posts differs in text", "messages missing") and the first few lines: never megabytes. */
export function summary(problems: Problem[], limit = 8): string {
  if (problems.length === 0) return 'no differences';
  const kinds = new Map<string, number>();
  for (const { line } of problems) {
    const kind = line.replace(/\/\d+/, '').replace(/:.*$/s, '');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const counts = [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([kind, n]) => `${n} × ${kind}`);
  return `${problems.length} differences (${counts.join('; ')}); first ${Math.min(limit, problems.length)}:\n  ${problems.slice(0, limit).map((p) => p.line).join('\n  ')}`;
}
