// Whether a writer schema resolves to a reader schema and, when it does not, which field
// breaks it: avsc's own message names the types, not where they sit.
import avro from 'avsc';

type Field = { name: string; type: avro.Schema; default?: unknown; aliases?: string[] };
type RecordSchema = { type: 'record'; name: string; fields: Field[] };

function tryResolve(reader: avro.Schema, writer: avro.Schema): string | undefined {
  try {
    avro.Type.forSchema(reader).createResolver(avro.Type.forSchema(writer));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const branches = (schema: avro.Schema): avro.Schema[] => (Array.isArray(schema) ? schema : [schema]);
const asRecord = (schema: avro.Schema): RecordSchema | undefined =>
  branches(schema).find((b): b is RecordSchema => typeof b === 'object' && !Array.isArray(b) && (b as RecordSchema).type === 'record');

/** Named types (records) are defined once and referenced by name later: inline them by name. */
function namedTypes(schema: avro.Schema, into = new Map<string, avro.Schema>()): Map<string, avro.Schema> {
  for (const branch of branches(schema)) {
    const record = asRecord(branch);
    if (record && !into.has(record.name)) {
      into.set(record.name, record);
      for (const f of record.fields) namedTypes(f.type, into);
    }
  }
  return into;
}

function findProblem(reader: RecordSchema, writer: RecordSchema, writerNames: Map<string, avro.Schema>, path: string): string {
  for (const field of reader.fields) {
    const here = path ? `${path}.${field.name}` : field.name;
    const match = writer.fields.find((w) => w.name === field.name || field.aliases?.includes(w.name));
    if (!match) {
      if (field.default === undefined) return `field ${here} is missing from the writer schema and has no default`;
      continue;
    }
    const readerRecord = asRecord(field.type);
    const writerType = typeof match.type === 'string' ? (writerNames.get(match.type) ?? match.type) : match.type;
    const writerRecord = asRecord(writerType);
    if (readerRecord && writerRecord) {
      const nested = findProblem(readerRecord, writerRecord, writerNames, here);
      if (nested) return nested;
      continue;
    }
    const problem = tryResolve(field.type, writerType);
    if (problem) return `field ${here}: ${problem}`;
  }
  return '';
}

/** undefined when `writer` resolves to `reader`; otherwise a message naming the first field that does not. */
export function incompatibility(reader: avro.Schema, writer: avro.Schema): string | undefined {
  const problem = tryResolve(reader, writer);
  if (!problem) return undefined;
  const readerRecord = asRecord(reader);
  const writerRecord = asRecord(writer);
  const where = readerRecord && writerRecord ? findProblem(readerRecord, writerRecord, namedTypes(writer), '') : '';
  return where || problem;
}
