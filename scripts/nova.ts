// Dispatches `scripts/nova <command> ...` to the module that owns the command. Each
// command module exports `run(args)` resolving to an exit code, and `usage`. A setting missing
// from the environment (ConfigError) is one line and exit 2, like a usage error.
import { ConfigError } from '../config/nova-config.ts';

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number>; usage: string }> };

const commands: Record<string, Command> = {
  migrate: { summary: 'apply sql/ migrations to PostgreSQL', load: () => import('../sql/migrate-cli.ts') },
  schemas: { summary: 'check, pull or type the Avro reader schemas in schemas/avro', load: () => import('../schemas/avro/schemas-cli.ts') },
  projector: { summary: 'run a projector, or show checkpoints and lag', load: () => import('../projectors/cli/projector-cli.ts') },
  connector: { summary: 'register the Debezium connector, or show its state and slot lag', load: () => import('../connectors/connector-cli.ts') },
  api: { summary: 'run the Nova API (Hono) on 127.0.0.1:NOVA_API_PORT', load: () => import('../api/server.ts') },
  token: { summary: 'mint a development API token for a user (or --service)', load: () => import('../api/token-cli.ts') },
  demo: { summary: 'fill a small social network through the API and show what the views hold', load: () => import('./demo/demo-cli.ts') },
  bench: { summary: 'measure against the local stack: decode, projector-throughput, freshness, api, redis-memory, redis-truncate, neo4j-promote, neo4j-sweep, capacity', load: () => import('./bench/bench-cli.ts') },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['Usage: scripts/nova <command> [options]   (scripts/nova <command> --help for more)', '', 'Commands:', ...lines].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`nova: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  const module = await command.load();
  if (args.includes('--help') || args.includes('-h')) {
    console.log(module.usage);
    return 0;
  }
  try {
    return await module.run(args);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`nova ${name}: ${error.message}`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
