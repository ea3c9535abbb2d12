// A reader namespace (runtime/reader-namespace.ts) of one test file's own: set in this
// process's env, so the stores' code called here and every projector or CLI it spawns promote
// and read live generations under names only this file uses, never the seed's that the app reads.
import { randomInt } from 'node:crypto';

export function ownReaderNamespace(): string {
  const namespace = `t${randomInt(1_000_000_000).toString(36)}`;
  process.env.NOVA_READER_NAMESPACE = namespace;
  return namespace;
}
