// `scripts/nova demo`: fills a small social network through the API, waits for the views
// with the consistency tokens, and says what a newcomer can look at.
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { novaConfig } from '../../config/nova-config.ts';
import { mintToken } from '../../api/http/auth.ts';
import { people } from './cast.ts';
import { ApiError, httpApi } from './http-client.ts';
import { allSeen, lookAround } from './look.ts';
import { jsonReport, textReport } from './report.ts';
import { UsernameTaken, runScenario } from './scenario.ts';

export const usage = `Usage: scripts/nova demo [--api URL] [--run ID] [--json]

Fills a small, realistic social network through the Nova API only (HTTP; nothing is written to
PostgreSQL directly): ${people.length} people with names and bios (created with a service token), then,
each acting with their own token: posts, follows (so friends-of-friends suggestions exist),
likes, comments with @mentions, direct messages in four conversations (some read, some not)
and a live stream started by one of them. Then it reads the views after the last write's
Nova-Consistency-Token (Nova-Read-After, Nova-Max-Wait-Ms: 10000) and prints what it saw:
unread notifications, conversations with unread counts, a message search hit, suggestions,
the live-now list, activity and recommendations, and curl commands to look again.

Re-runnable: every run makes new people, named <handle>_<ID> (maya_k3x9q2, ...), ID random
unless --run gives one. Every write carries an Idempotency-Key of the run, so --run with the ID
of a run less than a day old replays that run's answers and writes nothing twice. (The API
cannot look users up by name, so an older run's people are not reused.) Each run's live
stream stays live.

A part whose route the API does not have yet (it answers its own 404) is reported as
"skipped (route not available)"; the rest goes on. Exits 0 when every read saw its view (or
was skipped), 1 when a write or read failed, 2 on bad options.

  --api URL   the API (default http://127.0.0.1:$NOVA_API_PORT, from .nova/stack.env)
  --run ID    2-12 lowercase letters and digits naming this run's people
  --json      print the summary as one JSON value instead of text

Progress goes to stderr, the summary to stdout. Needs NOVA_JWT_SECRET (tokens are minted locally).`;

class UsageError extends Error {}

function options(args: string[]) {
  const { values } = parseArgs({ args, options: { api: { type: 'string' }, run: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true });
  const { host, port } = novaConfig().api();
  const baseUrl = (values.api ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) throw new UsageError(`--api is an http(s) URL, not '${baseUrl}'`);
  const run = values.run ?? Array.from({ length: 6 }, () => '0123456789abcdefghijklmnopqrstuvwxyz'[randomInt(36)]).join('');
  if (!/^[a-z0-9]{2,12}$/.test(run)) throw new UsageError(`--run is 2-12 lowercase letters and digits, not '${run}'`);
  return { baseUrl, run, json: values.json };
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = options(args);
  } catch (error) {
    console.error(`demo: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const { baseUrl, run, json } = parsed;
  const log = (line: string) => console.error(line);
  const health = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch((error: Error) => error);
  if (health instanceof Error || !health.ok) {
    console.error(`demo: the API at ${baseUrl} does not answer /healthz (${health instanceof Error ? health.message : health.status}): is the stack up? (npm start)`);
    return 1;
  }
  const jwt = novaConfig().jwt();
  const api = httpApi({ baseUrl });
  try {
    log(`demo: run ${run} against ${baseUrl}`);
    const written = await runScenario({ api, run, log, serviceToken: await mintToken(jwt, { service: true }, 3_600), mint: (userId) => mintToken(jwt, { userId }, 3_600) });
    log('demo: reading the views after the last write (up to 10 s per view)');
    const seen = await lookAround(api, written);
    console.log(json ? JSON.stringify(jsonReport(baseUrl, written, seen)) : textReport(baseUrl, written, seen, api.requests()));
    return allSeen(seen) ? 0 : 1;
  } catch (error) {
    if (error instanceof ApiError) {
      console.error(`demo: ${error.message}${error.sent === undefined ? '' : `\n  sent: ${JSON.stringify(error.sent)}`}\n  answer: ${JSON.stringify(error.reply.body)}`);
    } else {
      console.error(`demo: ${error instanceof UsernameTaken ? (error as Error).message : (error as Error).stack}`);
    }
    return 1;
  }
}
