// The summary: what was written, what the views showed, and curl commands to look again.
// Pure: from what scenario.ts wrote and look.ts saw, to lines of text (or one JSON value).
import { featured, newcomer, people, searchWord, type Part } from './cast.ts';
import type { Look, Seen } from './look.ts';
import type { Member, Written } from './scenario.ts';

const nouns: Record<Part | 'user', string> = {
  user: 'users', post: 'posts', follow: 'follows', like: 'likes', comment: 'comments', message: 'messages', read: 'conversation reads', stream: 'live-stream writes (create, start)',
};

const quote = (text: string, max = 60) => `"${text.length > max ? `${text.slice(0, max - 1)}…` : text}"`;

function namer(written: Written): (id: unknown) => string {
  const byId = new Map([...written.members.values()].map((m) => [m.id, m.username]));
  return (id) => byId.get(String(id)) ?? `user ${String(id)}`;
}

/** One look as a line: what it saw, or why not. */
function line<T>(l: Look<T>, show: (value: T) => string): string {
  if (l.state !== 'seen') return `${l.state === 'skipped' ? '' : 'FAILED: '}${l.reason}`;
  const stale = l.consistency?.startsWith('stale') ? `  [${l.consistency}]` : '';
  return `${show(l.value)}${stale}`;
}

function views(written: Written, seen: Seen): string[] {
  const name = namer(written);
  const me = written.members.get(featured) as Member;
  const list = (items: { id?: string; username?: string | null }[]) => (items.length === 0 ? 'none' : items.map((s) => s.username ?? name(s.id)).join(', '));
  const rows: [string, string][] = [
    ['notifications', line(seen.unread, (v) => `${me.username} has ${v.unread} unread`) +
      (seen.notifications.state === 'seen' ? `; newest: ${seen.notifications.value.items.map((n) => `${n.type} from ${name(n.actor_id)}`).join(', ')}` : '')],
    ['conversations', line(seen.conversations, (v) => `${me.username}: ${v.items.length === 0 ? 'none' : v.items.map((c) => `with ${name(c.peer_id)} (${c.unread} unread)`).join(', ')}`)],
    ['search', line(seen.search, (v) => `"${searchWord}" in ${me.username}'s messages: ${v.items.length} hit${v.items.length === 1 ? '' : 's'}${v.items[0] ? `, best: ${quote(v.items[0].content)} from ${name(v.items[0].sender_id)}` : ''}`)],
    ['suggestions', line(seen.suggestions, (v) => `for ${me.username}: ${list(v.items)}`)],
    ['', line(seen.newcomerSuggestions, (v) => `for ${seen.newcomerSuggestions.as.username}: ${list(v.items)}`)],
    ['live now', line(seen.live, (v) => {
      const ours = v.items.find((s) => s.id === written.streamId);
      const count = `${v.items.length}${v.next_cursor ? '+' : ''}`;
      return `${count} stream${count === '1' ? '' : 's'} live${ours ? `; this run's: ${quote(ours.title)} by ${name(ours.user_id)}` : written.streamId ? `; this run's stream ${written.streamId} is NOT in the list` : ''}`;
    })],
    ['activity', line(seen.activity, (v) => {
      const totals = new Map<string, number>();
      for (const day of v.days) for (const [kind, n] of Object.entries(day.counts)) totals.set(kind, (totals.get(kind) ?? 0) + n);
      return `${me.username}, last 7 days: ${totals.size === 0 ? 'nothing' : [...totals].map(([k, n]) => `${k} ${n}`).join(', ')}`;
    })],
    ['recommendations', line(seen.recommendations, (v) => `${me.username}: ${v.items.length} items (source: ${v.source}${v.source === 'cold' ? ': no recommendation worker has filled the caches yet' : ''})`)],
  ];
  return rows.map(([label, text]) => `  ${label.padEnd(15)} ${text}`);
}

function curls(baseUrl: string, seen: Seen): string[] {
  const looks: Look<unknown>[] = [seen.notifications, seen.unread, seen.conversations, seen.search, seen.suggestions, seen.live, seen.activity, seen.recommendations];
  return looks
    .filter((l) => l.state !== 'skipped')
    .map((l) => `  curl -s -H "Authorization: Bearer $(scripts/nova token ${l.as.id})" '${baseUrl}${l.path}'`);
}

export function textReport(baseUrl: string, written: Written, seen: Seen, requests: { sent: number; replayed: number }): string {
  const members = [...written.members.values()];
  const width = Math.max(...members.map((m) => m.username.length));
  const written_ = (Object.keys(nouns) as (Part | 'user')[]).filter((k) => written.counts[k] > 0).map((k) => `${written.counts[k]} ${nouns[k]}`);
  const consistency = [seen.unread, seen.conversations].find((l) => l.state === 'seen' && l.consistency);
  return [
    `Nova demo, run ${written.run}: ${members.length} people, written and read through ${baseUrl} only (${requests.sent} requests)`,
    '',
    ...members.map((m) => `  ${m.username.padEnd(width)}  id ${m.id.padEnd(8)} ${m.name}${m.handle === featured ? '  <- looked through below' : m.handle === newcomer ? '  <- the newcomer' : ''}`),
    '',
    `Written: ${written_.join(', ')}`,
    ...(requests.replayed > 0 ? [`  (${requests.replayed} of these writes were answered from their Idempotency-Key: run ${written.run} had sent them before, nothing was written twice)`] : []),
    ...[...written.skipped].map(([part, why]) => `Skipped: ${nouns[part]} (${why})`),
    '',
    `What the views show, read after the last write (Nova-Read-After${consistency?.state === 'seen' ? `; Nova-Consistency: ${consistency.consistency}` : ''}):`,
    ...views(written, seen),
    '',
    'Look yourself (from the repository root; the tokens last a day):',
    ...curls(baseUrl, seen),
  ].join('\n');
}

/** The same as data (`--json`): what the e2e test and scripts read. */
export function jsonReport(baseUrl: string, written: Written, seen: Seen) {
  const compact = (l: Look<unknown>) => (l.state === 'seen' ? { state: l.state, path: l.path, as: l.as.id, consistency: l.consistency, value: l.value } : { state: l.state, path: l.path, as: l.as.id, reason: l.reason });
  return {
    run: written.run,
    api: baseUrl,
    featured: written.members.get(featured)?.id,
    newcomer: written.members.get(newcomer)?.id,
    members: people.map((p) => ({ handle: p.handle, name: p.name, username: written.members.get(p.handle)?.username, id: written.members.get(p.handle)?.id })),
    counts: written.counts,
    skipped: Object.fromEntries(written.skipped),
    stream_id: written.streamId ?? null,
    consistency_token: written.lastToken,
    seen: Object.fromEntries(Object.entries(seen).map(([k, l]) => [k, compact(l)])),
  };
}
