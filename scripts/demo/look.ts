// What a newcomer would look at once the demo has written: each read as the person it is
// about, after the last write's consistency token (Nova-Read-After, waiting up to 10 s), so
// it shows the views with every demo write applied. A route the API lacks is skipped; a view
// still lagging after a second wait, or any other error, is a failed look.
import { featured, newcomer, searchWord } from './cast.ts';
import { ApiError, RouteUnavailable, type Api, type Reply } from './http-client.ts';
import type { Member, Written } from './scenario.ts';

export type Look<T> =
  | { state: 'seen'; value: T; path: string; as: Member; consistency: string | null }
  | { state: 'skipped' | 'failed'; reason: string; path: string; as: Member };

type Page = { items: any[]; next_cursor?: string | null };
type Activity = { days: { day: string; counts: Record<string, number> }[] };

export type Seen = {
  unread: Look<{ unread: number }>;
  notifications: Look<Page>;
  conversations: Look<Page>;
  search: Look<Page>;
  suggestions: Look<Page>;
  newcomerSuggestions: Look<Page>;
  live: Look<Page>;
  activity: Look<Activity>;
  recommendations: Look<Page & { source?: string }>;
};

const lagging = (reply: Reply) => reply.status === 503 && String(reply.body?.type ?? '').endsWith('/view-lagging');

async function look<T>(api: Api, written: Written, as: Member, path: string): Promise<Look<T>> {
  try {
    for (let attempt = 1; ; attempt += 1) {
      const reply = await api.call<T>('GET', path, { as: as.token, readAfter: written.lastToken, accept: [200, 503] });
      if (reply.status === 200) return { state: 'seen', value: reply.body, path, as, consistency: reply.headers.get('nova-consistency') };
      // a view still behind after one full wait gets one more
      if (!lagging(reply) || attempt === 2) throw new ApiError(`GET ${path}`, reply);
    }
  } catch (error) {
    if (error instanceof RouteUnavailable) return { state: 'skipped', reason: `skipped (${error.message})`, path, as };
    return { state: 'failed', reason: (error as Error).message, path, as };
  }
}

export async function lookAround(api: Api, written: Written): Promise<Seen> {
  const me = written.members.get(featured) as Member;
  const them = written.members.get(newcomer) as Member;
  const at = <T>(path: string, as = me) => look<T>(api, written, as, path);
  // the first read waits for the views; the rest find them there already
  const unread = await at<{ unread: number }>('/notifications/unread-count');
  const [notifications, conversations, search, suggestions, newcomerSuggestions, live, activity, recommendations] = await Promise.all([
    at<Page>('/notifications?limit=5'),
    at<Page>('/conversations'),
    at<Page>(`/messages/search?q=${encodeURIComponent(searchWord)}`),
    at<Page>('/suggestions'),
    at<Page>('/suggestions', them),
    at<Page>('/live-streams/live?limit=10'),
    at<Activity>('/activity?days=7'),
    at<Page & { source?: string }>('/recommendations'),
  ]);
  return { unread, notifications, conversations, search, suggestions, newcomerSuggestions, live, activity, recommendations };
}

/** Whether every look either saw its view or was skipped for a route not there yet. */
export const allSeen = (seen: Seen) => Object.values(seen).every((l: Look<unknown>) => l.state !== 'failed');
