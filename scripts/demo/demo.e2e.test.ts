// `scripts/nova demo` against the running dev stack (scripts/test loads .nova/stack.env), run
// twice as a newcomer would: the second run must not fail either. Then, with the demo's last
// consistency token, what a newcomer should see through the API: unread notifications,
// conversations and suggestions for the featured person.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { mintToken } from '../../api/http/auth.ts';
import { novaConfig } from '../../config/nova-config.ts';
import { httpApi, RouteUnavailable } from './http-client.ts';
import type { jsonReport } from './report.ts';

const nova = fileURLToPath(new URL('../nova', import.meta.url));
const exec = promisify(execFile);

async function demo(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(nova, ['demo', ...args], { timeout: 50_000, maxBuffer: 4 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
  }
}

describe('scripts/nova demo', { timeout: 60_000 }, () => {
  test('runs, prints a summary with curl commands, exits 0', async () => {
    const { code, stdout, stderr } = await demo();
    assert.equal(code, 0, `exit ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.match(stdout, /has \d+ unread/);
    assert.match(stdout, /curl -s -H "Authorization: Bearer \$\(scripts\/nova token \d+\)" 'http:\/\/[^']+\/notifications/);
    assert.match(stderr, /^demo: follow: 36 writes/m, 'progress goes to stderr');
  });

  test('runs again, and a newcomer sees notifications, conversations and suggestions', async (t) => {
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

    await t.test('conversations', async (c) => {
      try {
        const conversations = await read('/conversations');
        assert.ok(conversations.body.items.length > 0, `conversations: ${JSON.stringify(conversations.body)}`);
        assert.ok(conversations.body.items.some((item: { unread: number }) => item.unread > 0), 'one of them has unread messages');
      } catch (error) {
        if (!(error instanceof RouteUnavailable)) throw error;
        c.skip(error.message); // the messaging routes have not landed in the running API yet
      }
    });
  });
});
