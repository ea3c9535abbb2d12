// Test helper: a projector as the real separate process it is in production, so a test
// can kill -9 it at any moment and start it again.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const novaCli = fileURLToPath(new URL('../../../scripts/nova.ts', import.meta.url));

export type ProjectorProcess = { child: ChildProcess; output: string[]; exited: Promise<number | null> };

export function startProjector(name: string, args: string[] = []): ProjectorProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', novaCli, 'projector', 'run', name, ...args], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

export async function kill9(projector: ProjectorProcess): Promise<void> {
  projector.child.kill('SIGKILL');
  await projector.exited;
}
