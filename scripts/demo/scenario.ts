// Sends the cast (cast.ts) to the API: the people first (as the service), then every action as
// the person doing it. A part whose route the API does not have yet is skipped, with the
// route named, and the rest goes on. Every write carries an Idempotency-Key made of the run
// and the action's place, so the same --run again replays instead of writing twice.
import { actions, people, type Action, type Part, type Person } from './cast.ts';
import { RouteUnavailable, consistencyToken, type Api, type Reply } from './http-client.ts';

export type Member = Person & { id: string; username: string; token: string };

export type Written = {
  run: string;
  members: Map<string, Member>;
  /** writes answered per part (people under 'user') */
  counts: Record<Part | 'user', number>;
  /** part -> why it was skipped */
  skipped: Map<Part, string>;
  /** conversation id per pair of handles (pairKey) */
  conversations: Map<string, string>;
  streamId: string | undefined;
  /** the last write's Nova-Consistency-Token: reading after it reads every write above */
  lastToken: string;
};

export type ScenarioOptions = {
  api: Api;
  run: string;
  serviceToken: string;
  mint: (userId: string) => Promise<string>;
  log: (line: string) => void;
};

export const usernameOf = (handle: string, run: string) => `${handle}_${run}`;
export const pairKey = (a: string, b: string) => [a, b].sort().join('|');
const mentions = (text: string, run: string) => text.replace(/@\{([a-z]+)\}/g, (_, handle: string) => `@${usernameOf(handle, run)}`);

export class UsernameTaken extends Error {
  override name = 'UsernameTaken';
}

async function createPeople({ api, run, serviceToken, mint, log }: ScenarioOptions): Promise<{ members: Map<string, Member>; token: string }> {
  const members = new Map<string, Member>();
  let token = '';
  for (const person of people) {
    const username = usernameOf(person.handle, run);
    const reply = await api.call('POST', '/users', {
      as: serviceToken,
      body: { username, bio: `${person.name}. ${person.bio}` },
      idempotencyKey: `nova-demo:${run}:user:${person.handle}`,
      accept: [201, 409],
    });
    if (reply.status === 409) throw new UsernameTaken(`${username} is taken (a --run older than a day, whose idempotency keys expired?): pick another --run, or leave it out`);
    members.set(person.handle, { ...person, id: reply.body.id as string, username, token: await mint(reply.body.id) });
    token = consistencyToken(reply);
  }
  log(`demo: ${members.size} people: ${[...members.values()].map((m) => `${m.username} (${m.id})`).join(', ')}`);
  return { members, token };
}

type State = Written & { posts: Map<string, string>; newest: Map<string, string> };

/** Sends one action; returns the number of writes it made and the last one's reply. */
async function send(api: Api, state: State, action: Action, key: string): Promise<{ writes: number; last?: Reply }> {
  const member = (handle: string) => state.members.get(handle) as Member;
  const me = member(action.by);
  const write = (path: string, body: unknown, sub = '') => api.call('POST', path, { as: me.token, body, idempotencyKey: `${key}${sub}` });
  switch (action.kind) {
    case 'post': {
      const reply = await write('/posts', { text: action.text });
      state.posts.set(action.ref, reply.body.id);
      return { writes: 1, last: reply };
    }
    case 'follow':
    case 'like': {
      let last: Reply | undefined;
      const targets = action.kind === 'follow' ? action.of.map((h) => `/users/${member(h).id}/follow`) : action.posts.map((ref) => `/posts/${state.posts.get(ref)}/likes`);
      for (const [i, path] of targets.entries()) last = await write(path, undefined, `:${i}`);
      return { writes: targets.length, last };
    }
    case 'comment':
      return { writes: 1, last: await write(`/posts/${state.posts.get(action.post)}/comments`, { text: mentions(action.text, state.run) }) };
    case 'message': {
      const reply = await write('/messages', { recipient_id: member(action.to).id, content: action.text });
      const conversation = String(reply.body.conversation_id);
      state.conversations.set(pairKey(action.by, action.to), conversation);
      state.newest.set(conversation, String(reply.body.id));
      return { writes: 1, last: reply };
    }
    case 'read': {
      const conversation = state.conversations.get(pairKey(action.by, action.with));
      if (conversation === undefined) return { writes: 0 }; // its messages were skipped
      return { writes: 1, last: await write(`/conversations/${conversation}/read`, { last_read_message_id: state.newest.get(conversation) }) };
    }
    case 'stream': {
      const created = await write('/live-streams', { title: action.title, description: action.description });
      state.streamId = String(created.body.id);
      return { writes: 2, last: await write(`/live-streams/${state.streamId}/start`, undefined, ':start') };
    }
  }
}

const phaseOf = (kind: Part) => (kind === 'read' ? 'message' : kind);

function phaseLine(phase: Part, state: State): string {
  const { counts, skipped } = state;
  if (skipped.has(phase)) return `demo: ${phase}: skipped (${skipped.get(phase)})`;
  const reads = phase === 'message' ? `, ${counts.read} conversations marked read${skipped.has('read') ? ` (reads skipped: ${skipped.get('read')})` : ''}` : '';
  return `demo: ${phase}: ${counts[phase]} writes${reads}`;
}

export async function runScenario(options: ScenarioOptions): Promise<Written> {
  const { api, run, log } = options;
  const { members, token } = await createPeople(options);
  const counts = { user: members.size, post: 0, follow: 0, like: 0, comment: 0, message: 0, read: 0, stream: 0 };
  const state: State = { run, members, counts, skipped: new Map(), conversations: new Map(), streamId: undefined, lastToken: token, posts: new Map(), newest: new Map() };
  for (const [i, action] of actions.entries()) {
    if (!state.skipped.has(action.kind)) {
      try {
        const { writes, last } = await send(api, state, action, `nova-demo:${run}:${i}:${action.kind}`);
        counts[action.kind] += writes;
        if (last) state.lastToken = consistencyToken(last);
      } catch (error) {
        if (!(error instanceof RouteUnavailable)) throw error;
        state.skipped.set(action.kind, error.message);
      }
    }
    const next = actions[i + 1];
    if (next === undefined || phaseOf(next.kind) !== phaseOf(action.kind)) log(phaseLine(phaseOf(action.kind), state));
  }
  const { posts: _posts, newest: _newest, ...written } = state;
  return written;
}
