// TypeScript types for the rows and keys of every reader schema, as the decoder delivers
// them (Debezium logical types already converted). types.ts is generated from the .avsc
// files by `scripts/nova schemas types`; a test fails when it is out of date.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type avro from 'avsc';
import { schemasDir } from './reader-schemas.ts';

type Field = { name: string; type: avro.Schema };
type Rec = { type: 'record'; name: string; fields: Field[] };

const dateTypes = new Set([
  'io.debezium.time.ZonedTimestamp',
  'io.debezium.time.Timestamp',
  'io.debezium.time.MicroTimestamp',
  'io.debezium.time.NanoTimestamp',
  'io.debezium.time.Date',
]);
const primitives: Record<string, string> = {
  string: 'string',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  boolean: 'boolean',
  bytes: 'Buffer',
  null: 'null',
};

function tsType(schema: avro.Schema): string {
  if (Array.isArray(schema)) return schema.map(tsType).join(' | ');
  if (typeof schema === 'string') return primitives[schema] ?? 'unknown';
  const s = schema as { type: string; items?: avro.Schema; 'connect.name'?: string };
  if (s['connect.name'] && dateTypes.has(s['connect.name'])) return 'Date';
  if (s['connect.name'] === 'io.debezium.data.Json') return 'unknown';
  if (s.type === 'array' && s.items) return `Array<${tsType(s.items)}>`;
  return primitives[s.type] ?? 'unknown';
}

const pascal = (table: string) => table.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());

// Columns PostgreSQL may TOAST: where REPLICA IDENTITY is not FULL, an update that leaves
// one untouched delivers UNCHANGED instead of its value.
const toastable = (type: string) => /string|Buffer|Array|unknown/.test(type);

function objectType(record: Rec, withUnchanged: boolean): string {
  const field = (f: Field) => {
    const type = tsType(f.type);
    return `  ${f.name}: ${withUnchanged && toastable(type) ? `${type} | Unchanged` : type};`;
  };
  return `{\n${record.fields.map(field).join('\n')}\n}`;
}

// Debezium defines the row record in `before`; `after` refers to it by name.
function rowRecord(envelope: Rec): Rec | undefined {
  const before = envelope.fields.find((f) => f.name === 'before')?.type;
  return (Array.isArray(before) ? before : [before]).find((b): b is Rec => typeof b === 'object' && (b as Rec)?.type === 'record');
}

export function generateTypes(dir = schemasDir): string {
  const topics = readdirSync(dir)
    .filter((f) => f.endsWith('.value.avsc'))
    .map((f) => f.slice(0, -'.value.avsc'.length))
    .sort();
  const out = [
    '// Generated from the .avsc files in this folder by `scripts/nova schemas types`. Do not edit.',
    "import type { Unchanged } from '../../projectors/runtime/decode/index.ts';",
    '',
  ];
  const map: string[] = [];
  for (const topic of topics) {
    const table = topic.split('.').at(-1) as string;
    const name = pascal(table);
    const key = JSON.parse(readFileSync(join(dir, `${topic}.key.avsc`), 'utf8')) as Rec;
    const row = rowRecord(JSON.parse(readFileSync(join(dir, `${topic}.value.avsc`), 'utf8')) as Rec);
    if (!row) throw new Error(`${topic}.value.avsc has no 'before' record`);
    out.push(`export type ${name}Key = ${objectType(key, false)};`, '');
    out.push(`export type ${name}Row = ${objectType(row, true)};`, '');
    map.push(`  '${topic}': { key: ${name}Key; row: ${name}Row };`);
  }
  out.push('/** Topic name -> the key and row types its changes carry. */');
  out.push(`export type TopicRows = {\n${map.join('\n')}\n};`, '');
  return out.join('\n');
}
