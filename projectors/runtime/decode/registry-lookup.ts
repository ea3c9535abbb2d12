// Writer schemas by id from a Confluent-compatible registry (Apicurio's ccompat API).
// We fetch the schema text ourselves: @kafkajs/confluent-schema-registry decodes with the
// writer schema only, and Nova must resolve every writer to its own reader schema.
import { NovaError, codes } from '../errors.ts';
import type { SchemaLookup, SchemaVersions } from './avro-decoder.ts';

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
    // A registry that has no such id, or refuses us, is misconfigured (a wrong URL or API path,
    // credentials, a restore from an older backup): not the record's fault, so it stalls rather
    // than dead-letters every record. Only overload and server errors are worth retrying soon.
    if (response.status === 404) throw new NovaError('stall', codes.unknownSchema, `the schema registry at ${base} has no schema with id ${id} (is SCHEMA_REGISTRY_URL its Confluent-compatible API?)`);
    if (response.status === 429 || response.status >= 500) {
      throw new NovaError('transient', codes.registryUnavailable, `schema registry at ${base} answered ${response.status} for schema id ${id}`);
    }
    if (!response.ok) throw new NovaError('stall', codes.registryRefused, `schema registry at ${base} answered ${response.status} for schema id ${id}`);
    const body = (await response.json().catch(() => ({}))) as { schema?: string; schemaType?: string };
    if (!body.schema || (body.schemaType && body.schemaType !== 'AVRO')) {
      throw new NovaError('stall', codes.unknownSchema, `the schema registry at ${base} gave no Avro schema for id ${id} (is SCHEMA_REGISTRY_URL its Confluent-compatible API?)`);
    }
    return body.schema;
  };
}

/** The subjects and versions a schema id is registered under (Confluent's /schemas/ids/{id}/versions). */
export function registryVersions(options: { url: string; timeoutMs?: number }): SchemaVersions {
  const { url, timeoutMs = 10_000 } = options;
  const base = url.replace(/\/+$/, '');
  return async (id) => {
    const response = await fetch(`${base}/schemas/ids/${id}/versions`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? ((await response.json()) as { subject: string; version: number }[]) : [];
  };
}
