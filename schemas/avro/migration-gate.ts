// A migration gate: what Debezium would publish after a migration, checked against Nova's
// reader schemas before the migration reaches the database it streams from. The migration runs
// in a scratch database that Nova's own migrations build first (the database Debezium reads is
// never touched, locked or changed, whatever the file does); the projected tables' columns are
// read from its catalog and turned into the row record Debezium would write (its type mapping
// under this connector's settings), then resolved the way the projectors resolve every record.
// A rename, a drop, a type or nullability change a reader cannot take is reported by topic and
// field: the safe order is expand (add the new column, pull the reader schemas, deploy the
// projectors), then contract.
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type avro from 'avsc';
import pg from 'pg';
import { migrate } from '../../sql/migrate.ts';
import type { TopicSpec } from '../../connectors/topic-plan.ts';
import { incompatibility } from './compat.ts';
import type { ContractProblem } from './contract.ts';
import { loadReaderSchemas, schemasDir } from './reader-schemas.ts';

type Column = { name: string; type: string; element: string | null; nullable: boolean; key: boolean };
type Field = { name: string; type: avro.Schema; default?: unknown };
type RecordSchema = { type: 'record'; name: string; fields: Field[] };

/**
 * Debezium's Avro type for a PostgreSQL type, with decimal.handling.mode=string and
 * time.precision.mode=adaptive_time_microseconds (connectors/postgres-nova.json).
 */
const avroTypes: Record<string, avro.Schema> = {
  int2: 'int',
  int4: 'int',
  int8: 'long',
  bool: 'boolean',
  float4: 'float',
  float8: 'double',
  numeric: 'string',
  text: 'string',
  varchar: 'string',
  bpchar: 'string',
  uuid: 'string',
  json: 'string',
  jsonb: 'string',
  timestamptz: 'string',
  timestamp: 'long',
  date: 'int',
};

function avroTypeOf(column: Column): { type: avro.Schema } | { problem: string } {
  const base = column.element === null ? avroTypes[column.type] : avroTypes[column.element];
  if (base === undefined) return { problem: `column ${column.name} has type ${column.element ? `${column.element}[]` : column.type}, which this gate does not map: check the change on a staging database` };
  // Debezium's array items are optional: an array may hold NULLs
  return { type: column.element === null ? base : ({ type: 'array', items: ['null', base] } as avro.Schema) };
}

async function columnsOf(db: pg.ClientBase, table: string): Promise<Column[]> {
  const [schema, name] = table.split('.') as [string, string];
  const { rows } = await db.query(
    `SELECT a.attname AS name, t.typname AS type, e.typname AS element, NOT a.attnotnull AS nullable,
            coalesce(a.attnum = ANY (i.indkey), false) AS key
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
       LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [schema, name],
  );
  return rows as Column[];
}

const rowRecordOf = (schema: avro.Schema, part: 'key' | 'value'): RecordSchema => {
  if (part === 'key') return schema as RecordSchema;
  const before = (schema as RecordSchema).fields.find((f) => f.name === 'before')?.type;
  return (Array.isArray(before) ? before : [before]).find((b) => typeof b === 'object') as RecordSchema;
};

/**
 * The reader schema with its row record swapped for the one these columns make (`after` refers
 * to it by name), or why a column cannot be mapped.
 */
function writerFrom(reader: avro.Schema, part: 'key' | 'value', columns: Column[]): { writer: avro.Schema } | { problem: string } {
  const row = rowRecordOf(reader, part);
  const fields: Field[] = [];
  for (const column of part === 'key' ? columns.filter((c) => c.key) : columns) {
    const mapped = avroTypeOf(column);
    if ('problem' in mapped) return mapped;
    fields.push(column.nullable && part === 'value' ? { name: column.name, type: ['null', mapped.type] as avro.Schema, default: null } : { name: column.name, type: mapped.type });
  }
  const candidate: RecordSchema = { ...row, fields };
  if (part === 'key') return { writer: candidate };
  const envelope = reader as RecordSchema;
  return { writer: { ...envelope, fields: envelope.fields.map((f) => (f.name === 'before' ? { ...f, type: ['null', candidate] } : f)) } };
}

/**
 * A reader field the columns no longer send. Avro resolution accepts that whenever the reader
 * has a default (every nullable column, and Debezium copies column defaults too), so the
 * projectors would silently read that default for every row: a rename or drop is a problem
 * even when it resolves.
 */
function missingField(reader: avro.Schema, part: 'key' | 'value', columns: Column[]): string | undefined {
  const sent = new Set((part === 'key' ? columns.filter((c) => c.key) : columns).map((c) => c.name));
  const gone = rowRecordOf(reader, part).fields.find((f) => !sent.has(f.name));
  if (!gone) return undefined;
  const where = part === 'key' ? gone.name : `before.${gone.name}`;
  return `field ${where} is missing from the writer schema${gone.default === undefined ? ' and has no default' : `: readers would read its default (${JSON.stringify(gone.default)}) for every row`}`;
}

/**
 * Problems the migration in `file` would cause, or none. `adminUrl` may create and drop
 * databases (NOVA_PG_ADMIN_URL); if `file` is already among Nova's migrations it is left out of
 * the schema it is checked on.
 */
export async function checkMigration(options: { adminUrl: string; file: string; migrationSql: string; topics: TopicSpec[]; dir?: string }): Promise<ContractProblem[]> {
  const { adminUrl, file, migrationSql, topics, dir = schemasDir } = options;
  const readers = loadReaderSchemas(dir);
  const scratch = `nova_gate_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${scratch}`);
    const url = new URL(adminUrl);
    url.pathname = `/${scratch}`;
    const db = new pg.Client({ connectionString: url.href });
    await db.connect();
    try {
      await migrate({ client: db, except: [basename(file)] });
      await db.query(migrationSql).catch((error: Error) => {
        throw new Error(`the migration fails on the schema Nova's migrations make: ${error.message}`, { cause: error });
      });
      const problems: ContractProblem[] = [];
      for (const { topic, table } of topics) {
        const columns = await columnsOf(db, table);
        if (columns.length === 0) {
          problems.push({ topic, part: 'value', problem: `table ${table} would no longer exist` });
          continue;
        }
        for (const part of ['key', 'value'] as const) {
          const reader = readers(topic, part);
          if (!reader) continue;
          const made = writerFrom(reader, part, columns);
          const problem = 'problem' in made ? made.problem : (missingField(reader, part, columns) ?? incompatibility(reader, made.writer));
          if (problem) problems.push({ topic, part, problem });
        }
      }
      return problems;
    } finally {
      await db.end();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
    await admin.end();
  }
}
