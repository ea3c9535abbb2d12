// What the CDC tests share: Debezium's records on some topics, from some offsets, decoded by
// Nova's own decoder (against the real registry) until a condition holds.
import { loadReaderSchemas } from '../../../schemas/avro/reader-schemas.ts';
import { env } from '../../../scripts/stack.d/test/stack.ts';
import { createDecoder, registryLookup, type Change, type Decoded, type RawRecord } from '../decode/index.ts';
import { DecodeError } from '../errors.ts';
import { captureTopics } from './kafka-capture.ts';

export const readerSchemas = loadReaderSchemas();
export const decode = createDecoder({ lookupSchema: registryLookup({ url: env('SCHEMA_REGISTRY_URL') }), readerSchemas });

// Other tests put garbage on these topics on purpose (dead-letter tests): skip what is poison.
export async function decodeAll(records: RawRecord[]): Promise<Decoded[]> {
  const out: Decoded[] = [];
  for (const record of records) {
    try {
      out.push(await decode(record));
    } catch (error) {
      if (!(error instanceof DecodeError && error.kind === 'poison')) throw error;
    }
  }
  return out;
}

/** Decodes what arrives on `topics` after `since` until `done` holds for all of it; returns it all. */
export async function captureDecoded(topics: string[], since: Map<string, string>, done: (decoded: Decoded[]) => boolean): Promise<Decoded[]> {
  const decoded: Decoded[] = [];
  let seen = 0;
  await captureTopics({
    brokers: env('KAFKA_BROKERS'),
    topics,
    since,
    until: async (records) => {
      decoded.push(...(await decodeAll(records.slice(seen))));
      seen = records.length;
      return done(decoded);
    },
  });
  return decoded;
}

/** A row key as comparable text. */
export const keyString = (key: unknown) => JSON.stringify(key);

/** The changes of one row of `public.<table>`, in the order they arrived. */
export const changesFor = (decoded: Decoded[], table: string, key: object) =>
  decoded.filter((d): d is Change => d.kind === 'change' && d.table === `public.${table}` && keyString(d.key) === keyString(key));
