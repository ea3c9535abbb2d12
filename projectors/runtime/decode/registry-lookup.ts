// Writer schemas by id from a Confluent-compatible registry (Apicurio's ccompat API).
// We fetch the schema text ourselves: @kafkajs/confluent-schema-registry decodes with the
// writer schema only, and Nova must resolve every writer to its own reader schema.
import { NovaError, codes } from '../errors.ts';
import type { SchemaLookup } from './avro-decoder.ts';

export function registryLookup(options: { url: string; timeoutMs?: number }): SchemaLookup {
  const { url, timeoutMs = 10_000 } = options;
  const base = url.replace(/\/+$/, '');
  return async (id) => {
    let response: Response;
    try {
      response = await fetch(`${base}/schemas/ids/${id}`, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new NovaError('transient', codes.registryUnavailable, `schema registry at ${base} did not answer: ${(error as Error).message}`, { cause: error });
    }
    if (response.status === 404) throw new NovaError('poison', codes.unknownSchema, `the schema registry has no schema with id ${id}`);
    if (!response.ok) {
      throw new NovaError('transient', codes.registryUnavailable, `schema registry answered ${response.status} for schema id ${id}`);
    }
    const body = (await response.json()) as { schema?: string; schemaType?: string };
    if (!body.schema || (body.schemaType && body.schemaType !== 'AVRO')) {
      throw new NovaError('poison', codes.unknownSchema, `schema id ${id} is not an Avro schema`);
    }
    return body.schema;
  };
}
