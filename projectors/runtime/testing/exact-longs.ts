// Avro longs as bigint, for tests that read Debezium's records with their writer schema
// directly (ts_ns and LSNs pass 2^53): avsc type options, fresh per parse (avsc keeps the named
// types it parsed in the options object).
import avro from 'avsc';
import type { RawRecord } from '../decode/index.ts';

const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** A plain long (not a logical type) becomes a bigint. */
export const longAsBigint = (schema: avro.Schema) =>
  schema === 'long' || (typeof schema === 'object' && schema !== null && 'type' in schema && schema.type === 'long' && !('logicalType' in schema)) ? bigintLong : undefined;

export const exactLongs = (): Partial<avro.ForSchemaOptions> => ({ typeHook: longAsBigint as avro.ForSchemaOptions['typeHook'] });

/** A record's value as its writer (from the registry) wrote it, longs exact, and that writer schema's text. */
export async function decodeWithWriter(registryUrl: string, record: RawRecord): Promise<{ value: Record<string, unknown>; writer: string; id: number }> {
  const id = (record.value as Buffer).readUInt32BE(1);
  const { schema } = (await (await fetch(`${registryUrl}/schemas/ids/${id}`)).json()) as { schema: string };
  return { value: avro.Type.forSchema(JSON.parse(schema), exactLongs()).fromBuffer((record.value as Buffer).subarray(5)) as Record<string, unknown>, writer: schema, id };
}
