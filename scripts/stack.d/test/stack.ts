// What the stack smoke tests share: the connection settings `scripts/test` exports
// from .nova/stack.env, and a way to drive scripts/stack itself.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const stackCli = fileURLToPath(new URL('../../stack', import.meta.url));
const run = promisify(execFile);

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through scripts/test (it loads .nova/stack.env)`);
  return value;
}

/** Runs `scripts/stack <args>`; rejects with its output when it exits non-zero. */
export async function stack(...args: string[]): Promise<string> {
  const { stdout } = await run(stackCli, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** `scripts/stack env` as a map: where every server listens now, cluster profiles included. */
export async function stackEnv(): Promise<Map<string, string>> {
  const lines = (await stack('env')).split('\n').filter((line) => line.includes('='));
  return new Map(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
