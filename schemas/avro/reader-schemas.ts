// Nova's reader schemas: one .avsc per topic key and value, checked in beside this file.
// Decoding resolves every writer schema Debezium registers to these, so what a projector
// sees only changes when these files do.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type avro from 'avsc';

export type SchemaPart = 'key' | 'value';

export const schemasDir = fileURLToPath(new URL('.', import.meta.url));

export const schemaFileName = (topic: string, part: SchemaPart) => `${topic}.${part}.avsc`;

/** Loads every reader schema in `dir` once; returns the lookup the decoder takes. */
export function loadReaderSchemas(dir = schemasDir): (topic: string, part: SchemaPart) => avro.Schema | undefined {
  const schemas = new Map<string, avro.Schema>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.avsc'))) {
    schemas.set(file, JSON.parse(readFileSync(join(dir, file), 'utf8')) as avro.Schema);
  }
  return (topic, part) => schemas.get(schemaFileName(topic, part));
}
