// scripts/nova projector run|rebuild|promote|drop|reconcile|status|dlq-replay|collect-tombstones
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { novaConfig } from '../../config/nova-config.ts';
import { deployedConfig, epochOfConfig } from '../../connectors/epoch.ts';
import { loadConnector } from '../../connectors/register.ts';
import { incrementalSnapshot } from '../../connectors/snapshot.ts';
import { topicPlan } from '../../connectors/topic-plan.ts';
import { projectors } from '../registry.ts';
import type { Generations, ProjectorDefinition } from '../runtime/sink.ts';
import { replayDeadLetters } from '../runtime/dead-letter-replay.ts';
import { runProjectorProcess } from './run.ts';
import { reconcileProjector } from './reconcile.ts';
import { printStatus } from './status.ts';
import { collectTombstonesOf } from './collect-tombstones.ts';
import { projectorGroup } from '../runtime/source/kafkajs-source.ts';

export const usage = `Usage: scripts/nova projector <command> NAME [options]

  run NAME     run one projector in this process until SIGTERM/SIGINT (finishes the batch
               in flight, checkpoints, exits 0); logs are pino JSON on stdout. It runs the
               live generation (the one readers see; generation 1 before any); another one
               only with --shadow or --promote-when-caught-up
  rebuild NAME --generation N
               fill generation N (not the live one) from the earliest retained records, or
               resume it from its checkpoints, until everything the topics held at start is
               applied; progress on stderr; exits 0 when caught up, 1 when a partition cannot
               be completed (a gap). --promote then points readers at it. --snapshot first has
               Debezium re-publish every current row of the projector's tables (an incremental
               snapshot): needed, and demanded, once retention has deleted a topic's oldest
               records or the stream restarted after a gap (records before it are passed
               unapplied). To rebuild without a gap for readers, run instead
               \`run NAME --generation N --promote-when-caught-up\` as the new live process,
               then stop the old generation's process and drop it.
  promote NAME --generation N
               point readers at generation N in one atomic step (blue/green swap)
  drop NAME --generation N
               delete generation N's views, checkpoints and consumer group (never the live one)
  reconcile NAME [--generation N]
               compare a generation (default: the live one) with PostgreSQL; keys that
               differ are compared again once the projector has caught up; reports what
               still differs (exit 1) or nothing (exit 0). Repair: rebuild into a new
               generation with --promote, then reconcile that one. --json for machines
  status [NAME]
               the live generation, and per partition: the store's checkpoint offset and LSN, and lag
  dlq-replay NAME
               hand the projector's dead letters (nova.dlq.NAME) back to it, once each,
               through its replay topic (nova.dlq-replay.NAME), which the running projector
               applies itself; Debezium's topics get nothing. --dry-run lists them only

  collect-tombstones NAME [--generation N]
               forget the tombstones of a generation (default: the live one) that no
               retained record can need any more: those older than the first record each
               partition of the projector's topics still retains, and than every retained
               dead letter (neo4j, milvus; the other stores keep theirs)

Options:
  --dry-run             with dlq-replay: list, do not re-feed
  --json                with reconcile: the report as one JSON object
  --generation N        which generation of the views (default: the live one for run, status, reconcile)
  --shadow              with run: run a generation readers do not see (not the live one)
  --promote             with rebuild: promote the generation once caught up
  --snapshot            with rebuild: an incremental snapshot of the projector's tables first
  --promote-when-caught-up
                        with run: promote the generation once caught up, then keep running
  --metrics-port P      /metrics, /healthz, /readyz on 127.0.0.1:P (default 0: any free port)
  --stuck-after S       /readyz turns unready after S seconds without progress while records wait (default 60)
  --max-batch N         records per batch at most (default 2000)

Projectors: ${Object.keys(projectors).join(', ')}`;

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, not '${value}'`);
  return n;
}

function generationsOf(definition: ProjectorDefinition<never>): Generations {
  if (!definition.generations) throw new Error(`${definition.name} has no blue/green generations yet`);
  return definition.generations;
}

/** A running member keeps its group: then the group stays, and says so. */
async function dropConsumerGroup(groupId: string): Promise<void> {
  const admin = cliKafka().admin();
  await admin.connect();
  try {
    const groups = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    if (groups.has(groupId)) await admin.deleteGroups([groupId]);
  } catch (error) {
    console.error(`consumer group ${groupId} kept: ${(error as Error).message}`);
  } finally {
    await admin.disconnect();
  }
}

/** An incremental snapshot of the tables behind the projector's topics, for a rebuild to run first. */
async function snapshotOf(definition: ProjectorDefinition<never>): Promise<() => Promise<void>> {
  const { config } = await loadConnector();
  const tables = topicPlan(config).filter((t) => definition.topics.includes(t.topic)).map((t) => t.table);
  return async () => {
    const db = new pg.Client({ connectionString: novaConfig().databaseUrl() });
    await db.connect();
    try {
      await incrementalSnapshot({
        db,
        kafka: cliKafka(),
        registryUrl: novaConfig().schemaRegistryUrl(),
        config,
        tables,
        onProgress: ({ type }) => console.error(`snapshot of ${tables.join(', ')}: ${type.toLowerCase()}`),
      });
    } finally {
      await db.end();
    }
  };
}

/**
 * A rebuild from the topics alone is only whole while they still hold every record: once
 * retention has deleted a partition's oldest ones, rows unchanged since are in no topic.
 */
async function refuseTruncatedHistory(definition: ProjectorDefinition<never>): Promise<undefined> {
  const admin = cliKafka().admin();
  await admin.connect();
  try {
    for (const topic of definition.topics) {
      const cut = (await admin.fetchTopicOffsets(topic)).find((o) => o.low !== '0');
      if (cut) throw new Error(`${topic}[${cut.partition}] starts at offset ${cut.low}: retention deleted older records, so rows unchanged since then are not in the topic. Rebuild with --snapshot.`);
    }
    return undefined;
  } finally {
    await admin.disconnect();
  }
}

/** The first source epoch of the connector's current unbroken stream (connectors/epoch.ts). */
async function currentStreamSince(): Promise<number> {
  const { name, config } = await loadConnector();
  const deployed = await deployedConfig(novaConfig().kafkaConnectUrl(), name);
  return epochOfConfig(deployed ?? config)?.streamSince ?? 0;
}

const cliKafka = () => new Kafka({ clientId: 'nova-projector-cli', brokers: novaConfig().kafkaBrokers(), logLevel: logLevel.ERROR });

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      generation: { type: 'string' },
      'metrics-port': { type: 'string', default: '0' },
      'max-batch': { type: 'string', default: '2000' },
      promote: { type: 'boolean', default: false },
      snapshot: { type: 'boolean', default: false },
      'promote-when-caught-up': { type: 'boolean', default: false },
      shadow: { type: 'boolean', default: false },
      'stuck-after': { type: 'string', default: '60' },
      help: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const [command, name] = positionals;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const generationGiven = () => {
    if (values.generation === undefined) throw new Error(`${command} needs --generation N`);
    return positiveInteger(values.generation);
  };
  /** the one named, else the live one (1 before any is live: the first run claims it) */
  const generationOrLive = async (definition: ProjectorDefinition<never>) =>
    values.generation === undefined ? ((await definition.generations?.live(process.env)) ?? 1) : positiveInteger(values.generation);
  const pick = (n: string | undefined) => {
    const definition = n ? projectors[n] : undefined;
    if (!definition) throw new Error(`unknown projector '${n ?? ''}' (one of: ${Object.keys(projectors).join(', ')})`);
    return definition;
  };
  try {
    const runOptions = { metricsPort: Number(values['metrics-port']), maxBatchRecords: positiveInteger(values['max-batch']), stuckAfterMs: positiveInteger(values['stuck-after']) * 1000 };
    if (command === 'run') {
      const definition = pick(name);
      if (values['promote-when-caught-up']) generationsOf(definition);
      const generation = await generationOrLive(definition);
      // a restarted service must keep the view readers see up to date, not refill an old one
      const live = await definition.generations?.live(process.env);
      if (live !== undefined && generation !== live && !values.shadow && !values['promote-when-caught-up']) {
        throw new Error(`generation ${generation} is not the live one (readers see generation ${live}): run the live one, or pass --shadow to fill generation ${generation} on purpose`);
      }
      const whenCaughtUp = values['promote-when-caught-up'] ? { promote: true, stop: false } : undefined;
      // the first run, with nothing live yet, makes its generation the live one
      const shadow = values.shadow || values['promote-when-caught-up'] || (live !== undefined && generation !== live);
      return await runProjectorProcess(definition, { ...runOptions, generation, shadow, ...(whenCaughtUp ? { whenCaughtUp } : {}) });
    }
    if (command === 'rebuild') {
      const definition = pick(name);
      const target = generationGiven();
      if (values.promote) generationsOf(definition);
      const live = await definition.generations?.live(process.env);
      if (live === target) throw new Error(`generation ${target} is live: rebuild into another one, then promote it`);
      const streamSince = await currentStreamSince();
      if (streamSince > 0 && !values.snapshot) throw new Error(`the stream restarted after a gap at source epoch ${streamSince}: records before it are not applied, so rebuild with --snapshot`);
      const before = values.snapshot ? await snapshotOf(definition) : await refuseTruncatedHistory(definition);
      return await runProjectorProcess(definition, {
        ...runOptions,
        generation: target,
        shadow: true,
        whenCaughtUp: { promote: values.promote, stop: true, before },
        snapshotFills: values.snapshot,
        ...(streamSince > 0 ? { skipBeforeEpoch: streamSince } : {}),
      });
    }
    if (command === 'promote') {
      const target = generationGiven();
      await generationsOf(pick(name)).promote(target, process.env);
      console.log(`${name}: generation ${target} is live`);
      return 0;
    }
    if (command === 'drop') {
      const definition = pick(name);
      const target = generationGiven();
      await generationsOf(definition).drop(target, process.env);
      await dropConsumerGroup(projectorGroup(definition.name, target));
      console.log(`${name}: generation ${target} dropped`);
      return 0;
    }
    if (command === 'reconcile') {
      const given = values.generation === undefined ? undefined : positiveInteger(values.generation);
      return await reconcileProjector(pick(name), { generation: given, json: values.json, catchUpTimeoutMs: 120_000 });
    }
    if (command === 'status') {
      const definitions = name ? [pick(name)] : Object.values(projectors);
      return await printStatus(definitions, values.generation === undefined ? undefined : positiveInteger(values.generation));
    }
    if (command === 'collect-tombstones') {
      const definition = pick(name);
      return await collectTombstonesOf(definition, await generationOrLive(definition), cliKafka());
    }
    if (command === 'dlq-replay') {
      const report = await replayDeadLetters({ kafka: cliKafka(), projector: pick(name).name, dryRun: values['dry-run'], onLetter: (line) => console.log(line) });
      console.log(`${report.handedBack} ${values['dry-run'] ? 'to hand back' : `handed back to the ${name} projector (it applies them as it runs)`}, ${report.skipped} skipped`);
      return 0;
    }
  } catch (error) {
    console.error(`nova projector: ${(error as Error).message}`);
    return 2;
  }
  console.error(usage);
  return 2;
}
