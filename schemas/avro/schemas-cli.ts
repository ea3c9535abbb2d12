// scripts/nova schemas pull|check|types
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { novaConfig } from '../../config/nova-config.ts';
import { loadConnector } from '../../connectors/register.ts';
import { topicPlan } from '../../connectors/topic-plan.ts';
import { checkContract, pullReaderSchemas } from './contract.ts';
import { generateTypes } from './generate-types.ts';
import { checkMigration } from './migration-gate.ts';
import { schemasDir } from './reader-schemas.ts';

export const usage = `Usage: scripts/nova schemas <check|pull|types>

  check  every writer schema registered for a projected topic must resolve to our reader
         schema in schemas/avro/; lists each one that does not (exit 1), or says all resolve
  check --migration FILE.sql
         a migration gate, before the migration is applied: runs FILE.sql in a scratch database
         built by sql/'s migrations, derives the row schemas Debezium would then publish, and lists
         every projected topic whose reader schema could not read them (exit 1). A rename or
         drop fails it: add the new column, pull the reader schemas and deploy first
  pull   (re)write schemas/avro/<topic>.{key,value}.avsc from the newest registered writer
         schemas, then regenerate types.ts; review the diff before committing it
  types  regenerate schemas/avro/types.ts from the .avsc files

Environment: SCHEMA_REGISTRY_URL (the Confluent-compatible API), NOVA_PG_ADMIN_URL (for --migration: it creates and drops a scratch database), from .nova/stack.env.`;

async function projectedTopics(): Promise<string[]> {
  return topicPlan((await loadConnector()).config).map((t) => t.topic);
}

async function gate(file: string, adminUrl: string): Promise<number> {
  const problems = await checkMigration({ adminUrl, file, migrationSql: await readFile(file, 'utf8'), topics: topicPlan((await loadConnector()).config) });
  for (const p of problems) console.log(`${p.topic} ${p.part}: ${p.problem}`);
  if (problems.length === 0) console.log(`${file} keeps every projected topic readable by Nova's reader schemas`);
  return problems.length === 0 ? 0 : 1;
}

const writeTypes = () => writeFile(join(schemasDir, 'types.ts'), generateTypes());

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { migration: { type: 'string' } } });
  switch (positionals[0]) {
    case 'check': {
      if (values.migration) {
        const adminUrl = novaConfig().pgAdminUrl();
        try {
          return await gate(values.migration, adminUrl);
        } catch (error) {
          console.error(`nova schemas: ${(error as Error).message}`);
          return 1;
        }
      }
      const topics = await projectedTopics();
      const problems = await checkContract({ registryUrl: novaConfig().schemaRegistryUrl(), topics });
      for (const p of problems) {
        console.log(`${p.topic} ${p.part}${p.version === undefined ? '' : ` v${p.version} (id ${p.id})`}: ${p.problem}`);
      }
      if (problems.length === 0) console.log(`all registered schemas of ${topics.length} topics resolve to our reader schemas`);
      return problems.length === 0 ? 0 : 1;
    }
    case 'pull': {
      const written = await pullReaderSchemas({ registryUrl: novaConfig().schemaRegistryUrl(), topics: await projectedTopics() });
      for (const file of written) console.log(`wrote ${file}`);
      await writeTypes();
      console.log(`wrote ${join(schemasDir, 'types.ts')}`);
      return 0;
    }
    case 'types':
      await writeTypes();
      return 0;
    default:
      console.error(usage);
      return 2;
  }
}
