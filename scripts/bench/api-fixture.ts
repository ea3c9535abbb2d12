// The API bench's data, written through the API like any client's: 200 users bench_u000..199,
// a post each, a follow graph with friends of friends (i follows i+1, i+2, i+3, i+5, ... i+89,
// mod 200), likes, and comments @mentioning users until each has >= 60 notifications; with
// POST /messages present, five messages from each user. What PostgreSQL already holds from an
// earlier run is found (usernames, the fixture post's text, the pairs) and only the rest is
// written. Then the views are waited for with the newest write's consistency token.
import type pg from 'pg';
import { decodeToken, encodeToken } from '../../api/consistency/token.ts';
import { mintToken } from '../../api/http/auth.ts';
import type { JwtConfig } from '../../config/nova-config.ts';
import { describeReply, inLanes, routeMissing, type ApiClient, type Reply } from './api-client.ts';
import { note, sleep } from './measure.ts';

export const benchUserCount = 200;
export const usernameOf = (i: number) => `bench_u${String(i).padStart(3, '0')}`;
const followOffsets = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89];
const likeOffsets = [4, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 22];
const notificationsPerUser = 60;
const mentionsPerComment = 20;
const messagesPerUser = 5;
const fixturePostText = 'bench fixture post';
export const searchWords = ['harbor', 'meadow', 'lantern', 'orbit', 'pepper', 'quartz', 'saffron', 'tundra'];
const lanes = 16;
const tokenTtlSeconds = 6 * 3600;

export type BenchUser = { id: string; username: string; token: string };

export type Fixture = {
  users: BenchUser[];
  /** the fixture post of each user, by user index */
  posts: string[];
  written: Record<string, number>;
  notificationsPerUser: { min: number; mean: number };
  /** messages the bench users sent, or null when POST /messages is missing */
  messages: number | null;
  viewsWaitedMs: number;
};

const at = <T>(items: readonly T[], i: number) => items[((i % items.length) + items.length) % items.length] as T;

/** Notes the newest consistency token a write answered. */
const tracker = (newest: { lsn: bigint }) => (reply: Reply) => {
  const lsn = decodeToken(String(reply.headers['nova-consistency-token'] ?? ''));
  if (lsn !== undefined && lsn > newest.lsn) newest.lsn = lsn;
};

/** Writes through the API; a 429 waits out its Retry-After and tries again, any other failure throws. */
function writer(client: ApiClient, track: (reply: Reply) => void) {
  return async (method: string, path: string, token: string, body?: unknown): Promise<Reply> => {
    for (;;) {
      const reply = await client.call(method, path, { token, body });
      if (reply.status === 429) {
        const seconds = Number(reply.headers['retry-after'] ?? 5);
        note(`setup: rate-limited on ${method} ${path}; waiting ${seconds} s (NOVA_API_WRITES_PER_MINUTE)`);
        await sleep(seconds * 1000);
        continue;
      }
      if (reply.status >= 300) throw new Error(`setup: ${method} ${path} answered ${describeReply(reply)}`);
      track(reply);
      return reply;
    }
  };
}

async function ensureUsers(db: pg.Pool, write: ReturnType<typeof writer>, jwt: JwtConfig, written: Record<string, number>): Promise<BenchUser[]> {
  const names = Array.from({ length: benchUserCount }, (_, i) => usernameOf(i));
  const found = new Map((await db.query<{ id: string; username: string }>('SELECT id::text, username FROM users WHERE username = ANY($1)', [names])).rows.map((r) => [r.username, r.id]));
  const service = await mintToken(jwt, { service: true }, tokenTtlSeconds);
  const missing = names.filter((name) => !found.has(name));
  await inLanes(missing, lanes, async (username) => {
    const reply = await write('POST', '/users', service, { username, bio: 'created by scripts/nova bench api' });
    found.set(username, String(reply.body.id));
  });
  written.users = missing.length;
  return Promise.all(names.map(async (username) => {
    const id = found.get(username) as string;
    return { id, username, token: await mintToken(jwt, { userId: id }, tokenTtlSeconds) };
  }));
}

async function ensurePosts(db: pg.Pool, write: ReturnType<typeof writer>, users: BenchUser[], written: Record<string, number>): Promise<string[]> {
  const { rows } = await db.query<{ author: string; id: string }>(
    'SELECT DISTINCT ON (author_id) author_id::text AS author, id::text FROM posts WHERE author_id = ANY($1) AND text = $2 ORDER BY author_id, id',
    [users.map((u) => u.id), fixturePostText],
  );
  const byAuthor = new Map(rows.map((r) => [r.author, r.id]));
  const missing = users.filter((u) => !byAuthor.has(u.id));
  await inLanes(missing, lanes, async (u) => {
    byAuthor.set(u.id, String((await write('POST', '/posts', u.token, { text: fixturePostText })).body.id));
  });
  written.posts = missing.length;
  return users.map((u) => byAuthor.get(u.id) as string);
}

async function ensureFollows(db: pg.Pool, write: ReturnType<typeof writer>, users: BenchUser[], written: Record<string, number>) {
  const { rows } = await db.query<{ pair: string }>(`SELECT follower_id || '>' || followee_id AS pair FROM follows WHERE follower_id = ANY($1) AND status = 'active'`, [users.map((u) => u.id)]);
  const have = new Set(rows.map((r) => r.pair));
  const planned = users.flatMap((u, i) => followOffsets.map((d) => [u, at(users, i + d)] as const));
  const missing = planned.filter(([a, b]) => !have.has(`${a.id}>${b.id}`));
  await inLanes(missing, lanes, async ([a, b]) => void (await write('POST', `/users/${b.id}/follow`, a.token)));
  written.follows = missing.length;
  return planned.length;
}

async function ensureLikes(db: pg.Pool, write: ReturnType<typeof writer>, users: BenchUser[], posts: string[], written: Record<string, number>) {
  const { rows } = await db.query<{ pair: string }>(
    `SELECT user_id || '>' || target_id AS pair FROM user_interactions WHERE user_id = ANY($1) AND target_type = 'post' AND interaction_type = 'like' AND target_id = ANY($2)`,
    [users.map((u) => u.id), posts],
  );
  const have = new Set(rows.map((r) => r.pair));
  const planned = users.flatMap((u, i) => likeOffsets.map((d) => [u, at(posts, i + d)] as const));
  const missing = planned.filter(([u, post]) => !have.has(`${u.id}>${post}`));
  await inLanes(missing, lanes, async ([u, post]) => void (await write('POST', `/posts/${post}/likes`, u.token)));
  written.likes = missing.length;
}

const notificationCounts = async (db: pg.Pool, users: BenchUser[]) => {
  const { rows } = await db.query<{ user_id: string; n: string }>('SELECT user_id::text, count(*) AS n FROM notifications WHERE user_id = ANY($1) GROUP BY user_id', [users.map((u) => u.id)]);
  const counts = new Map(rows.map((r) => [r.user_id, Number(r.n)]));
  return users.map((u) => counts.get(u.id) ?? 0);
};

/** Comments on the commenter's own post (so no `comment` notification) that @mention up to 20 users short of their share. */
async function ensureNotifications(db: pg.Pool, write: ReturnType<typeof writer>, users: BenchUser[], posts: string[], written: Record<string, number>) {
  const counts = await notificationCounts(db, users);
  const comments: number[][] = [];
  for (let round = 0; ; round++) {
    const short = counts.flatMap((n, i) => (n + round < notificationsPerUser ? [i] : []));
    if (short.length === 0) break;
    for (let k = 0; k < short.length; k += mentionsPerComment) comments.push(short.slice(k, k + mentionsPerComment));
  }
  await inLanes(comments, lanes, async (mentioned, c) => {
    let by = (c * 7) % users.length;
    while (mentioned.includes(by)) by = (by + 1) % users.length;
    const author = users[by] as BenchUser;
    await write('POST', `/posts/${posts[by]}/comments`, author.token, { text: `bench mentions ${mentioned.map((i) => `@${(users[i] as BenchUser).username}`).join(' ')}` });
  });
  written.mentionComments = comments.length;
  const after = comments.length === 0 ? counts : await notificationCounts(db, users);
  return { min: Math.min(...after), mean: Math.round(after.reduce((a, b) => a + b, 0) / after.length) };
}

export const messageText = (i: number, k: number) => `bench ${at(searchWords, i + k)} note ${at(searchWords, i * 3 + k)} from ${usernameOf(i)} to ${usernameOf((i + k) % benchUserCount)}`;

/** Five messages from each user (to i+1..i+5), unless PostgreSQL holds that many already; null when the route is missing. */
async function ensureMessages(db: pg.Pool, client: ApiClient, write: ReturnType<typeof writer>, track: (reply: Reply) => void, users: BenchUser[], written: Record<string, number>): Promise<number | null> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM messages WHERE sender_id = ANY($1)', [users.map((u) => u.id)]);
  const held = Number(rows[0]?.n ?? 0);
  const planned = users.flatMap((u, i) => Array.from({ length: messagesPerUser }, (_, k) => ({ from: u, to: at(users, i + k + 1), text: messageText(i, k + 1) })));
  if (held >= planned.length) return held;
  const [first] = planned;
  const probe = await client.call('POST', '/messages', { token: first!.from.token, body: { recipient_id: first!.to.id, content: first!.text } });
  if (routeMissing(probe, 'POST', '/messages')) return null;
  if (probe.status >= 300 && probe.status !== 429) throw new Error(`setup: POST /messages answered ${describeReply(probe)}`);
  const probed = probe.status < 300 ? 1 : 0; // a 429 wrote nothing: the writes below retry it
  track(probe);
  const missing = planned.slice(Math.max(probed, held));
  await inLanes(missing, lanes, async (m) => void (await write('POST', '/messages', m.from.token, { recipient_id: m.to.id, content: m.text })));
  written.messages = missing.length + probed;
  return held + missing.length + probed;
}

/** Until the views answer the token: the Redis view (a tokened notifications read) and the graph (tokened suggestions). */
async function waitForViews(client: ApiClient, user: BenchUser, token: string, timeoutMs = 180_000): Promise<number> {
  const started = Date.now();
  const headers = { 'nova-read-after': token, 'nova-max-wait-ms': '10000' };
  for (const [path, done] of [
    ['/notifications?limit=1', (r: Reply) => r.status === 200 && String(r.headers['nova-consistency'] ?? '').startsWith('applied')],
    ['/suggestions', (r: Reply) => r.status === 200],
  ] as const) {
    for (;;) {
      const reply = await client.call('GET', path, { token: user.token, headers });
      if (done(reply)) break;
      if (Date.now() - started > timeoutMs) throw new Error(`setup: GET ${path} did not reach the fixture's writes within ${timeoutMs / 1000} s: ${describeReply(reply)} ${reply.headers['nova-consistency'] ?? ''}`);
      note(`setup: waiting for the views (GET ${path}: ${reply.status} ${reply.headers['nova-consistency'] ?? ''})`);
    }
  }
  return Date.now() - started;
}

export async function ensureFixture(options: { db: pg.Pool; client: ApiClient; jwt: JwtConfig }): Promise<Fixture> {
  const { db, client, jwt } = options;
  const newest = { lsn: 0n };
  const track = tracker(newest);
  const write = writer(client, track);
  const written: Record<string, number> = {};
  note('setup: users');
  const users = await ensureUsers(db, write, jwt, written);
  note('setup: posts, follows, likes');
  const posts = await ensurePosts(db, write, users, written);
  await ensureFollows(db, write, users, written);
  await ensureLikes(db, write, users, posts, written);
  note('setup: mentions until each user has enough notifications');
  const perUser = await ensureNotifications(db, write, users, posts, written);
  note('setup: messages');
  const messages = await ensureMessages(db, client, write, track, users, written);
  if (newest.lsn === 0n) {
    // nothing written this run: one write that changes nothing (a follow held already) for a token
    await write('POST', `/users/${(users[1] as BenchUser).id}/follow`, (users[0] as BenchUser).token);
  }
  note(`setup: written this run: ${JSON.stringify(written)}; waiting for the views to apply the newest write`);
  const viewsWaitedMs = await waitForViews(client, users[0] as BenchUser, encodeToken(newest.lsn));
  return { users, posts, written, notificationsPerUser: perUser, messages, viewsWaitedMs };
}
