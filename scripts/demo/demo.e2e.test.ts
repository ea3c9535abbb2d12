// `scripts/nova demo` against an API of this file's own on the real stack
// (api/testing/api-under-test.ts: the projectors as processes, a reader namespace of its own),
// run twice as a newcomer would: the second run must not fail either. Then, with the demo's last
// consistency token, what a newcomer should see through the API: unread notifications,
// conversations, search hits, suggestions, the live stream and activity for the featured person.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { mintToken } from '../../api/http/auth.ts';
import { novaConfig } from '../../config/nova-config.ts';
import { apiUnderTest } from '../../api/testing/api-under-test.ts';
import { httpApi } from './http-client.ts';
import type { jsonReport } from './report.ts';

const nova = fileURLToPath(new URL('../nova', import.meta.url));
const exec = promisify(execFile);
const harness = apiUnderTest(['redis', 'neo4j', 'elasticsearch', 'clickhouse']);

async function demo(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    await harness.call('GET', '/healthz'); // set up
    const { stdout, stderr } = await exec(nova, ['demo', '--api', harness.url, ...args], { timeout: 400_000, maxBuffer: 4 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
  }
}

describe('scripts/nova demo', { timeout: 420_000 }, () => {
  test('runs, prints a summary with curl commands, exits 0', async () => {
    const { code, stdout, stderr } = await demo();
    assert.equal(code, 0, `exit ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.match(stdout, /has \d+ unread/);
    assert.match(stdout, /curl -s -H "Authorization: Bearer \$\(scripts\/nova token \d+\)" 'http:\/\/[^']+\/notifications/);
    assert.match(stderr, /^demo: follow: 36 writes/m, 'progress goes to stderr');
  });

  test('runs again, and a newcomer sees notifications, conversations, search, suggestions, the live stream and activity', async () => {
    const { code, stdout, stderr } = await demo('--json');
    assert.equal(code, 0, `a second run failed: exit ${code}\n${stderr}`);
    const report = JSON.parse(stdout) as ReturnType<typeof jsonReport>;
    assert.ok(report.featured, 'the report names the featured person');
    const api = httpApi({ baseUrl: report.api });
    const as = await mintToken(novaConfig().jwt(), { userId: report.featured }, 600);
    const read = (path: string) => api.call('GET', path, { as, readAfter: report.consistency_token, accept: [200] });

    const unread = await read('/notifications/unread-count');
    assert.ok(unread.body.unread > 0, `unread notifications: ${JSON.stringify(unread.body)}`);

    const suggestions = await read('/suggestions');
    assert.ok(suggestions.body.items.length > 0, `suggestions: ${JSON.stringify(suggestions.body)}`);

    const conversations = await read('/conversations');
    assert.ok(conversations.body.items.some((item: { unread: number }) => item.unread > 0), `a conversation with unread messages: ${JSON.stringify(conversations.body)}`);
    const hits = await read('/messages/search?q=schema');
    assert.ok(hits.body.items.length > 0, `a search hit: ${JSON.stringify(hits.body)}`);
    const live = await read('/live-streams/live?limit=100');
    assert.ok(live.body.items.some((s: { id: string }) => s.id === report.stream_id), `the demo's stream ${report.stream_id} is live`);
    const activity = await read('/activity?days=7');
    assert.ok(activity.body.days.length > 0, `activity: ${JSON.stringify(activity.body)}`);
  });
});
