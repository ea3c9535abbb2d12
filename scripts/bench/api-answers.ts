// Before timing anything: do the API (from its views) and the PostgreSQL baseline give the same
// answers, for a sample of bench users? And which plan does PostgreSQL choose for each query?
// A comparison of speeds means something only between paths that do the same work.
import type pg from 'pg';
import type { ApiClient } from './api-client.ts';
import type { BenchUser } from './api-fixture.ts';
import { baselineSql } from './pg-baseline.ts';

export type Agreement = { users: number; notifications: number; unread: number; suggestions: number };

const ids = (body: { items?: { id: string }[] }) => (body.items ?? []).map((item) => item.id);

/**
 * Suggestions agree when they are the SQL top 20 up to ties: every candidate with more mutual
 * follows than the 20th is in, and nothing with fewer (Neo4j orders ties as it likes).
 */
function sameSuggestions(answered: string[], candidates: { id: string; mutual: number }[]): boolean {
  const top = candidates.slice(0, 20);
  const cutoff = top.at(-1)?.mutual ?? 0;
  const sure = candidates.filter((c) => c.mutual > cutoff).map((c) => c.id);
  const allowed = new Set(candidates.filter((c) => c.mutual >= cutoff).map((c) => c.id));
  return answered.length === top.length && sure.every((id) => answered.includes(id)) && answered.every((id) => allowed.has(id));
}

export async function compareAnswers(options: { api: ApiClient; baseline: ApiClient; db: pg.Pool; users: BenchUser[]; sample?: number }): Promise<Agreement> {
  const { api, baseline, db, users, sample = 5 } = options;
  const picked = Array.from({ length: sample }, (_, k) => users[Math.floor((k * users.length) / sample)] as BenchUser);
  const agreement: Agreement = { users: picked.length, notifications: 0, unread: 0, suggestions: 0 };
  for (const user of picked) {
    const both = (path: string) => Promise.all([api.call('GET', path, { token: user.token }), baseline.call('GET', path, { token: user.token })]);
    const [viewList, pgList] = await both('/notifications');
    if (viewList.status === 200 && JSON.stringify(ids(viewList.body)) === JSON.stringify(ids(pgList.body))) agreement.notifications += 1;
    const [viewCount, pgCount] = await both('/notifications/unread-count');
    if (viewCount.status === 200 && viewCount.body.unread === pgCount.body.unread) agreement.unread += 1;
    const graph = await api.call('GET', '/suggestions', { token: user.token });
    const { rows } = await db.query(baselineSql.suggestions, [user.id, 10_000]);
    if (graph.status === 200 && sameSuggestions(ids(graph.body), rows.map((r) => ({ id: String(r.id), mutual: Number(r.mutual) })))) agreement.suggestions += 1;
  }
  return agreement;
}

type PlanNode = { 'Node Type': string; 'Index Name'?: string; 'Relation Name'?: string; Plans?: PlanNode[] };

const outline = (node: PlanNode): string[] => [
  `${node['Node Type']}${node['Index Name'] ? ` using ${node['Index Name']}` : node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}`,
  ...(node.Plans ?? []).flatMap(outline),
];

/** The plan PostgreSQL picks for `sql`, as its nodes in order ("Limit > Sort > Index Scan using ..."). */
export async function planOf(db: pg.Pool, sql: string, params: unknown[]): Promise<string> {
  const { rows } = await db.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const plan = (rows[0]?.['QUERY PLAN'] as { Plan: PlanNode }[] | undefined)?.[0]?.Plan;
  return plan ? outline(plan).join(' > ') : 'no plan';
}
