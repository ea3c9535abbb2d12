// Confluent wire format -> writer schema (from the registry, cached) -> resolved to our
// reader schema -> one `Change`. Resolution is what lets a column added upstream pass
// through, and what makes an incompatible change fail loudly.
import avro from 'avsc';
import { incompatibility } from '../../../schemas/avro/compat.ts';
import { DecodeError, NovaError, codes, type Position } from '../errors.ts';
import type { Change, Decoded, Operation, Row } from './change.ts';
import { rowConverter, type RowConverter } from './debezium-types.ts';
import { snapshotReadVersion, sourceEpochOf, withEpoch } from './version.ts';

/** The raw Kafka record the source hands over. */
export type RawRecord = Position & {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | undefined>;
  /** the record's Kafka timestamp, ms since the epoch */
  timestamp?: string;
  /** the topic whose reader schema decodes it, when not its own (a replayed dead letter) */
  schemaTopic?: string;
};

/** Port: the writer schema (Avro JSON text) registered under a Confluent schema id. */
export type SchemaLookup = (id: number) => Promise<string>;

/** Port: the subjects and versions a schema id is registered under, to name a writer schema for people. */
export type SchemaVersions = (id: number) => Promise<{ subject: string; version: number }[]>;

/** Port: our reader schema for a topic's key or value, or undefined when we have none. */
export type ReaderSchemas = (topic: string, part: 'key' | 'value') => avro.Schema | undefined;

export type DecodeRecord = (record: RawRecord) => Promise<Decoded>;

const ops: Record<string, Operation> = { c: 'create', u: 'update', d: 'delete', r: 'read', t: 'truncate' };

// Avro longs become numbers; one beyond 2^53 becomes a bigint rather than silently losing
// precision (Debezium's ts_ns does, but the reader schemas drop it).
const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);
const safeLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => {
    const n = buf.readBigInt64LE();
    return n > maxSafe || n < -maxSafe ? n : Number(n);
  },
  toBuffer: (n: number | bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: Number,
  toJSON: Number,
  isValid: (n: unknown) => Number.isSafeInteger(n) || typeof n === 'bigint',
  compare: (a: number | bigint, b: number | bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

const isPlainLong = (schema: avro.Schema) =>
  schema === 'long' || (typeof schema === 'object' && !Array.isArray(schema) && (schema as { type?: unknown }).type === 'long' && !('logicalType' in schema));

const typeOptions = (): Partial<avro.ForSchemaOptions> => ({ typeHook: (schema) => (isPlainLong(schema) ? safeLong : undefined) });

type Envelope = {
  op: string;
  before: Row | null;
  after: Row | null;
  source: { schema: string; table: string; lsn?: number | bigint | null; sequence?: string | null; snapshot?: string | null; txId?: number | null; ts_ms: number };
};

/**
 * Debezium's source.sequence, `["<end of the last commit>", "<lsn>"]` as text: its first entry,
 * or undefined when it is missing.
 */
function lastCommitEnd(sequence: string | null | undefined): bigint | undefined {
  if (!sequence) return undefined;
  const first = (JSON.parse(sequence) as unknown[])[0];
  return typeof first === 'string' && /^\d+$/.test(first) ? BigInt(first) : undefined;
}

/**
 * The row record of a reader schema, from its JSON (avsc's parsed types drop attributes
 * such as connect.name): the key itself, or the record Debezium defines in `before`
 * (`after` refers to it by name).
 */
function rowSchemaOf(schema: avro.Schema, part: 'key' | 'value'): avro.Schema {
  if (part === 'key') return schema;
  const fields = (schema as { fields?: { name: string; type: avro.Schema }[] }).fields ?? [];
  const before = fields.find((f) => f.name === 'before')?.type;
  const branches = Array.isArray(before) ? before : before ? [before] : [];
  return branches.find((b) => typeof b === 'object' && (b as { type?: string }).type === 'record') ?? 'null';
}

type ReaderPlan = { type: avro.Type; before: RowConverter; after: RowConverter };

export function createDecoder(options: { lookupSchema: SchemaLookup; readerSchemas: ReaderSchemas; schemaVersions?: SchemaVersions }): DecodeRecord {
  const { lookupSchema, readerSchemas, schemaVersions } = options;

  /** `id 23 (nova.social.posts-value version 4)`, or the id alone when the registry cannot say */
  async function writerName(id: number, subject: string): Promise<string> {
    const versions = await schemaVersions?.(id).catch(() => []);
    const mine = versions?.find((v) => v.subject === subject);
    return mine ? `id ${id} (${mine.subject} version ${mine.version})` : `id ${id}`;
  }
  const writerTypes = new Map<number, Promise<avro.Type>>();
  const readers = new Map<string, ReaderPlan>();
  const resolvers = new Map<string, ReturnType<avro.Type["createResolver"]>>();

  function writerType(id: number, position: Position): Promise<avro.Type> {
    let type = writerTypes.get(id);
    if (!type) {
      type = lookupSchema(id).then((text) => avro.Type.forSchema(JSON.parse(text), typeOptions()));
      // a failed lookup (registry down) must be retried by the next record, not cached
      type.catch(() => writerTypes.delete(id));
      writerTypes.set(id, type);
    }
    return type.catch((error: unknown) => {
      if (error instanceof NovaError) throw new DecodeError(error.kind, error.code, position, error.detail, { cause: error });
      throw error;
    });
  }

  function readerPlan(topic: string, part: 'key' | 'value', position: Position): ReaderPlan {
    const name = `${topic}/${part}`;
    let plan = readers.get(name);
    if (!plan) {
      const schema = readerSchemas(topic, part);
      if (!schema) throw new DecodeError('stall', codes.noReaderSchema, position, `no reader schema for the ${part} of topic ${topic} (schemas/avro/${topic}.${part}.avsc)`);
      const type = avro.Type.forSchema(schema, typeOptions());
      const convert = rowConverter(rowSchemaOf(schema, part));
      plan = { type, before: convert, after: convert };
      readers.set(name, plan);
    }
    return plan;
  }

  async function decodePart(part: 'key' | 'value', bytes: Buffer, position: Position, schemaTopic: string): Promise<{ value: Row; plan: ReaderPlan }> {
    if (bytes.length < 5 || bytes.readUInt8(0) !== 0) {
      throw new DecodeError('poison', codes.notAvro, position, `${part} is not in Confluent wire format (magic byte 0 and a schema id)`);
    }
    const id = bytes.readUInt32BE(1);
    const plan = readerPlan(schemaTopic, part, position);
    const writer = await writerType(id, position);
    const resolverKey = `${schemaTopic}/${part}/${id}`;
    let resolver = resolvers.get(resolverKey);
    if (!resolver) {
      try {
        resolver = plan.type.createResolver(writer);
      } catch (error) {
        const why = incompatibility(plan.type.schema(), writer.schema()) ?? (error as Error).message;
        const name = await writerName(id, `${position.topic}-${part}`);
        // not the record's fault: every record of this writer schema fails alike, so its partition stalls until the reader schema is fixed
        throw new DecodeError('stall', codes.incompatibleSchema, position, `writer schema ${name} of ${position.topic}'s ${part} does not resolve to Nova's reader schema for ${schemaTopic}: ${why}`, { cause: error });
      }
      resolvers.set(resolverKey, resolver);
    }
    try {
      return { value: plan.type.fromBuffer(bytes.subarray(5), resolver, true) as Row, plan };
    } catch (error) {
      throw new DecodeError('poison', codes.undecodable, position, `${part} does not decode with writer schema ${id}: ${(error as Error).message}`, { cause: error });
    }
  }

  return async (record) => {
    const position: Position = { topic: record.topic, partition: record.partition, offset: record.offset };
    const schemaTopic = record.schemaTopic ?? record.topic;
    const key = record.key ? (await decodePart('key', record.key, position, schemaTopic)).value : null;
    if (record.value === null) return { kind: 'tombstone', key, position };
    const { value, plan } = await decodePart('value', record.value, position, schemaTopic);
    const envelope = value as unknown as Envelope;
    const op = ops[envelope.op];
    if (!op) throw new DecodeError('poison', codes.undecodable, position, `unknown Debezium op '${envelope.op}'`);
    const { epoch, streamSince } = sourceEpochOf(record.headers);
    const lsn = envelope.source.lsn === null || envelope.source.lsn === undefined ? undefined : BigInt(envelope.source.lsn);
    if (lsn === undefined && op !== 'read') throw new DecodeError('poison', codes.undecodable, position, `a ${op} without source.lsn cannot be ordered`);
    // an initial snapshot's reads precede everything streamed after them (version.ts); an
    // incremental snapshot's carry the stream's position when they were read
    const initialRead = op === 'read' && envelope.source.snapshot !== 'incremental';
    const before = plan.before(envelope.before);
    const change: Change = {
      kind: 'change',
      op,
      table: `${envelope.source.schema}.${envelope.source.table}`,
      key: key && { ...key },
      before,
      after: plan.after(envelope.after, before),
      version: op === 'read' ? snapshotReadVersion : withEpoch(epoch, lsn as bigint),
      commitOrder: withEpoch(epoch, initialRead ? 0n : (lastCommitEnd(envelope.source.sequence) ?? lsn ?? 0n)),
      streamSince,
      txId: envelope.source.txId ?? null,
      commitTs: new Date(envelope.source.ts_ms),
      position,
    };
    return change;
  };
}
