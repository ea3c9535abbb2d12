// Test helpers: a projector as the real separate process it is in production, so a test can
// kill -9 it at any moment and start it again; and `scripts/nova` run as an operator runs it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Admin } from 'kafkajs';
import { waitFor } from '../../../scripts/stack.d/test/stack.ts';

const novaCli = fileURLToPath(new URL('../../../scripts/nova.ts', import.meta.url));
const novaScript = fileURLToPath(new URL('../../../scripts/nova', import.meta.url));

export type ProjectorProcess = { child: ChildProcess; output: string[]; exited: Promise<number | null> };

function spawnNode(args: string[], env: NodeJS.ProcessEnv): ProjectorProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

export const startProjector = (name: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): ProjectorProcess =>
  spawnNode([novaCli, 'projector', 'run', name, ...args], env);

const crashChild = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

/**
 * A projector that kills itself between a batch's effects and its checkpoint (crash-child.ts),
 * with the store's fixture module (absolute path) wrapping its sink.
 */
export const startCrashingProjector = (fixture: string, generation: number): ProjectorProcess => spawnNode([crashChild, fixture, String(generation)], process.env);

export async function kill9(projector: ProjectorProcess): Promise<void> {
  projector.child.kill('SIGKILL');
  await projector.exited;
}

/** SIGTERM (it finishes its batch and leaves its consumer group at once), else kill -9 after `graceMs`. */
export async function stopProjector(projector: ProjectorProcess, graceMs = 15_000): Promise<void> {
  if (projector.child.exitCode !== null || projector.child.signalCode !== null) return;
  projector.child.kill('SIGTERM');
  const timer = setTimeout(() => projector.child.kill('SIGKILL'), graceMs);
  await projector.exited;
  clearTimeout(timer);
}

/**
 * Deletes a test generation's consumer group. A kill -9ed member holds the group until its
 * session expires (10 s), so this retries for a while; a group left behind is harmless, since
 * only that generation's projector would use it.
 */
export async function deleteConsumerGroup(admin: Admin, group: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`consumer group ${group} to be deleted`, async () => {
    if ((await admin.listGroups()).groups.some((g) => g.groupId === group)) await admin.deleteGroups([group]);
    return true;
  }, timeoutMs).catch(() => {});
}

/** The last lines a projector printed, each clipped: for a failing test's message. */
export const outputTail = (projector: ProjectorProcess | undefined, lines = 8, width = 400): string =>
  projector?.output.join('').split('\n').filter(Boolean).slice(-lines).map((l) => l.slice(0, width)).join('\n') ?? '';

export type CliResult = { code: number; stdout: string; stderr: string };

/** Runs `scripts/nova <args>` the way an operator would; never rejects: the exit code is in the result. */
export function runNova(args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(novaScript, args, { env: process.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
