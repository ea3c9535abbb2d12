// Applies NNN-name.sql files in numeric order, each in its own transaction, and records each
// in schema_migrations with its sha256, so an applied file that was edited afterwards is
// refused instead of silently diverging from the databases that ran the old text.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export type MigrateOptions = {
  client: pg.ClientBase;
  dir?: string;
  log?: (line: string) => void;
  /** file names to leave out (the migration gate checks a new file on the schema before it) */
  except?: string[];
};
export type MigrateResult = { applied: string[]; skipped: string[] };

/** `changed`: an applied file was edited. `failed`: a file's SQL failed and was rolled back.
 * `invalid`: a .sql file whose name gives no version, or two files with the same version. */
export type MigrationErrorKind = 'changed' | 'failed' | 'invalid';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  readonly kind: MigrationErrorKind;
  readonly file: string;

  constructor(kind: MigrationErrorKind, file: string, message: string, options?: ErrorOptions) {
    super(`${file}: ${message}`, options);
    this.kind = kind;
    this.file = file;
  }
}

type Migration = { version: string; file: string; sql: string; checksum: string };

const migrationName = /^(\d+)-.+\.sql$/;
const sqlDir = fileURLToPath(new URL('.', import.meta.url));

const createLedger = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version TEXT PRIMARY KEY,
  checksum TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`;

export async function migrate({ client, dir = sqlDir, log = () => {}, except = [] }: MigrateOptions): Promise<MigrateResult> {
  const migrations = (await readMigrations(dir)).filter((m) => !except.includes(m.file));
  return withMigrationLock(client, async () => {
    await client.query(createLedger);
    const recorded = await readRecordedChecksums(client);
    refuseChanged(migrations, recorded);
    const pending = migrations.filter((m) => !recorded.has(m.version));
    for (const migration of pending) {
      const started = Date.now();
      await applyOne(client, migration);
      log(`applied ${migration.file} (${Date.now() - started} ms)`);
    }
    const skipped = migrations.filter((m) => recorded.has(m.version));
    return { applied: pending.map((m) => m.file), skipped: skipped.map((m) => m.file) };
  });
}

async function readMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql'));
  const migrations = await Promise.all(files.map((file) => readMigration(dir, file)));
  migrations.sort((a, b) => Number(a.version) - Number(b.version));
  migrations.forEach((m, i) => {
    const previous = migrations[i - 1];
    if (previous && Number(previous.version) === Number(m.version)) {
      throw new MigrationError('invalid', m.file, `has the same version as ${previous.file}`);
    }
  });
  return migrations;
}

async function readMigration(dir: string, file: string): Promise<Migration> {
  const version = migrationName.exec(file)?.[1];
  if (version === undefined) throw new MigrationError('invalid', file, 'is not named NNN-name.sql');
  const sql = await readFile(join(dir, file), 'utf8');
  return { version, file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
}

// A session-level lock: a second runner waits here, then finds everything already recorded.
async function withMigrationLock<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  const key = "hashtextextended('nova:schema_migrations', 0)";
  await client.query(`SELECT pg_advisory_lock(${key})`);
  try {
    return await work();
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${key})`);
  }
}

async function readRecordedChecksums(client: pg.ClientBase): Promise<Map<string, string>> {
  const { rows } = await client.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations');
  return new Map(rows.map((row) => [row.version, row.checksum]));
}

// Checked for every file before any is applied, so a refused run changes nothing.
function refuseChanged(migrations: Migration[], recorded: Map<string, string>): void {
  for (const m of migrations) {
    const checksum = recorded.get(m.version);
    if (checksum !== undefined && checksum !== m.checksum) {
      throw new MigrationError(
        'changed',
        m.file,
        `differs from migration ${m.version} as it was applied (sha256 ${checksum} then, ${m.checksum} now); ` +
          'an applied migration must not change: add a new one instead',
      );
    }
  }
}

async function applyOne(client: pg.ClientBase, migration: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(migration.sql);
    const record = 'INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)';
    await client.query(record, [migration.version, migration.checksum]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new MigrationError('failed', migration.file, `failed and was rolled back: ${describeFailure(error, migration.sql)}`, {
      cause: error,
    });
  }
}

// PostgreSQL reports where a statement failed as a character offset into the whole file.
function describeFailure(error: unknown, sql: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = Number((error as { position?: string }).position);
  return position > 0 ? `${message} (line ${sql.slice(0, position).split('\n').length})` : message;
}
