// `scripts/nova migrate`: applies sql/ to the database in DATABASE_URL (or --database-url).
import { parseArgs } from 'node:util';
import pg from 'pg';
import { novaConfig } from '../config/nova-config.ts';
import { MigrationError, migrate } from './migrate.ts';

export const usage = `Usage: scripts/nova migrate [--database-url URL] [--dir DIR]

Applies the NNN-name.sql files not yet recorded in schema_migrations, in numeric order, each
in its own transaction. Refuses to start when an applied file has changed since.

Options:
  --database-url URL  the PostgreSQL to migrate (default: $DATABASE_URL; scripts/stack env prints it)
  --dir DIR           where the .sql files are (default: this clone's sql/)`;

type CliOptions = { databaseUrl?: string; dir?: string };

export async function run(args: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseOptions(args);
  } catch (error) {
    console.error(`migrate: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  // without --database-url, a missing DATABASE_URL is a ConfigError: scripts/nova prints it and exits 2
  const { databaseUrl = novaConfig().databaseUrl(), dir } = options;
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { applied, skipped } = await migrate({ client, dir, log: (line) => console.log(line) });
    const summary = applied.length === 0 ? 'up to date' : `${applied.length} applied`;
    console.log(`${summary}, ${skipped.length} already applied`);
    return 0;
  } catch (error) {
    if (!isOutsideFailure(error)) throw error;
    console.error(`migrate: ${error.message}`);
    return 1;
  } finally {
    await client.end();
  }
}

function parseOptions(args: string[]): CliOptions {
  const { values } = parseArgs({ args, options: { 'database-url': { type: 'string' }, dir: { type: 'string' } } });
  return { databaseUrl: values['database-url'], dir: values.dir };
}

// Failures of the world rather than of this code: a refused or failed migration, PostgreSQL
// (unreachable, auth, SQLSTATE) or the file system. They get one line; anything else is a bug
// and keeps its stack trace.
function isOutsideFailure(error: unknown): error is Error {
  if (error instanceof MigrationError) return true;
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}
