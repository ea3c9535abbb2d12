// Debezium's logical types (the `connect.name` on an Avro field) turned into TypeScript
// values, once per reader schema: a field converter is built from the schema, then
// applied to every row.
import type avro from 'avsc';
import { UNCHANGED, type Row } from './change.ts';

/** What Debezium writes for an unchanged TOASTed column (`unavailable.value.placeholder`). */
export const TOAST_PLACEHOLDER = '__debezium_unavailable_value';

type Convert = (value: unknown) => unknown;
type AvroField = { name: string; type: avro.Schema };

const MS_PER_DAY = 86_400_000;

const logicalTypes: Record<string, Convert> = {
  'io.debezium.time.ZonedTimestamp': (v) => new Date(v as string),
  'io.debezium.time.Timestamp': (v) => new Date(v as number),
  'io.debezium.time.MicroTimestamp': (v) => new Date(Math.trunc((v as number) / 1000)),
  'io.debezium.time.NanoTimestamp': (v) => new Date(Math.trunc((v as number) / 1_000_000)),
  'io.debezium.time.Date': (v) => new Date((v as number) * MS_PER_DAY),
  'io.debezium.data.Json': (v) => JSON.parse(v as string),
};

const isPlaceholder = (value: unknown): boolean =>
  value === TOAST_PLACEHOLDER ||
  (Buffer.isBuffer(value) && value.toString('latin1') === TOAST_PLACEHOLDER) ||
  (Array.isArray(value) && value.length === 1 && isPlaceholder(value[0]));

/** The non-null branch of an optional type, as Debezium writes optional columns: ["null", T]. */
function nonNull(schema: avro.Schema): avro.Schema {
  if (Array.isArray(schema)) return schema.find((branch) => branch !== 'null') ?? 'null';
  return schema;
}

function converterFor(schema: avro.Schema): Convert | undefined {
  const type = nonNull(schema);
  if (typeof type !== 'object' || Array.isArray(type)) return undefined;
  const connectName = (type as { 'connect.name'?: string })['connect.name'];
  if (connectName && logicalTypes[connectName]) return logicalTypes[connectName];
  if ((type as { type?: unknown }).type === 'array') {
    const item = converterFor((type as { items: avro.Schema }).items);
    return item ? (v) => (v as unknown[]).map((x) => (x === null ? null : item(x))) : undefined;
  }
  return undefined;
}

export type RowConverter = (row: Row | null, before?: Row | null) => Row | null;

/**
 * Builds the converter for one table's row record. A TOAST placeholder takes the old
 * value from `before` when the table's REPLICA IDENTITY FULL provides one, and becomes
 * UNCHANGED otherwise: it never reaches a store as a value.
 */
export function rowConverter(rowSchema: avro.Schema): RowConverter {
  const record = nonNull(rowSchema) as { fields?: AvroField[] };
  const fields = (record.fields ?? []).map((f) => ({ name: f.name, convert: converterFor(f.type) }));
  return (row, before) => {
    if (row === null) return null;
    const out: Row = {};
    for (const { name, convert } of fields) {
      const value = row[name];
      if (isPlaceholder(value)) {
        const old = before?.[name];
        out[name] = old !== undefined && old !== null && !isPlaceholder(old) ? old : UNCHANGED;
      } else {
        out[name] = value === null || value === undefined || !convert ? (value ?? null) : convert(value);
      }
    }
    return out;
  };
}
