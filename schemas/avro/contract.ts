// The contract between Debezium and Nova: every writer schema registered for a projected
// topic must resolve to our reader schema in this folder. `pull` writes reader schemas
// from what is registered; `check` reports every registered version that does not resolve.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type avro from 'avsc';
import { incompatibility } from './compat.ts';
import { loadReaderSchemas, schemaFileName, schemasDir, type SchemaPart } from './reader-schemas.ts';
import { subjectVersions } from './registry-client.ts';

const parts: SchemaPart[] = ['key', 'value'];

// ts_us and ts_ns repeat ts_ms at finer grain; ts_ns does not fit a JavaScript number.
const droppedEnvelopeFields = new Set(['ts_us', 'ts_ns']);

type Rec = { type: 'record'; name: string; fields: { name: string; type: avro.Schema }[] };

/** A reader schema from Debezium's writer schema: the same, minus fields Nova never reads. */
export function toReaderSchema(writer: avro.Schema): avro.Schema {
  const prune = (schema: avro.Schema): avro.Schema => {
    if (Array.isArray(schema)) return schema.map(prune) as avro.Schema;
    if (typeof schema !== 'object' || (schema as Rec).type !== 'record') return schema;
    const record = schema as Rec;
    const isEnvelope = record.name.endsWith('.Envelope') || record.name === 'io.debezium.connector.postgresql.Source';
    const fields = record.fields
      .filter((f) => !(isEnvelope && droppedEnvelopeFields.has(f.name)))
      .map((f) => ({ ...f, type: prune(f.type) }));
    return { ...record, fields } as avro.Schema;
  };
  return prune(writer);
}

export type ContractProblem = { topic: string; part: SchemaPart; version?: number; id?: number; problem: string };

export async function checkContract(options: { registryUrl: string; topics: string[]; dir?: string }): Promise<ContractProblem[]> {
  const { registryUrl, topics, dir = schemasDir } = options;
  const readers = loadReaderSchemas(dir);
  const problems: ContractProblem[] = [];
  for (const topic of topics) {
    for (const part of parts) {
      const reader = readers(topic, part);
      const registered = await subjectVersions(registryUrl, `${topic}-${part}`);
      if (!reader) {
        problems.push({ topic, part, problem: `no reader schema ${schemaFileName(topic, part)}` });
        continue;
      }
      for (const { version, id, schema } of registered) {
        const problem = incompatibility(reader, JSON.parse(schema) as avro.Schema);
        if (problem) problems.push({ topic, part, version, id, problem });
      }
    }
  }
  return problems;
}

/** Writes reader schemas from the newest registered writer schemas; returns the files written. */
export async function pullReaderSchemas(options: { registryUrl: string; topics: string[]; dir?: string }): Promise<string[]> {
  const { registryUrl, topics, dir = schemasDir } = options;
  const written: string[] = [];
  for (const topic of topics) {
    for (const part of parts) {
      const versions = await subjectVersions(registryUrl, `${topic}-${part}`);
      const newest = versions.at(-1);
      if (!newest) continue;
      const file = join(dir, schemaFileName(topic, part));
      await writeFile(file, `${JSON.stringify(toReaderSchema(JSON.parse(newest.schema) as avro.Schema), null, 2)}\n`);
      written.push(file);
    }
  }
  return written;
}
