// A Neo4j promotion at scale: --nodes User nodes in a scratch generation, promoted in a reader
// namespace of the benchmark's own (so the app's `User` never moves), then demoted by promoting
// a one-node generation (generations.ts: the live flag in one small transaction, which is when
// Nova's readers switch, then the seed's label moved in chunks). Prints each one's time, or the
// server's refusal (a transaction over its memory limit) as the figure it is.
import { randomInt } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { connectNeo4j, withSession } from '../../projectors/neo4j/connection.ts';
import { dropGeneration, ensureGraphSchema, promote } from '../../projectors/neo4j/generations.ts';
import { generationLabel, readerGraph, userLabel } from '../../projectors/neo4j/graph-names.ts';
import { note, timed } from './measure.ts';

export async function benchNeo4jPromote(options: { nodes: number; env: NodeJS.ProcessEnv }) {
  const { nodes } = options;
  const env = { ...options.env, NOVA_READER_NAMESPACE: `bench${randomInt(1_000_000)}` };
  const readers = readerGraph(env);
  const driver = connectNeo4j(env);
  const [big, small] = [randomInt(10_000_000, 20_000_000), randomInt(20_000_001, 30_000_000)];
  try {
    for (const generation of [big, small]) {
      await ensureGraphSchema(driver, generation, readers);
      await withSession(driver, (s) => s.run(`MERGE (g:${generationLabel} {generation: $generation})`, { generation: neo4j.int(generation) }));
    }
    note(`neo4j-promote: creating ${nodes.toLocaleString('en')} ${userLabel(big)} nodes`);
    const fill = await timed('fill', () =>
      withSession(driver, (s) => s.run(`UNWIND range(1, $nodes) AS i CALL (i) { CREATE (:${userLabel(big)} {id: i}) } IN TRANSACTIONS OF 50000 ROWS`, { nodes: neo4j.int(nodes) })),
    );
    await withSession(driver, (s) => s.run(`CREATE (:${userLabel(small)} {id: 1})`));
    const up = await timed('promote', () => promote(driver, big, readers));
    const down = await timed('demote', () => promote(driver, small, readers));
    console.log(`neo4j promote over ${nodes.toLocaleString('en')} User nodes (the flag, then the label in chunks; filled in ${fill.seconds} s)`);
    console.log(`  promote (label ${readers.label} onto every node): ${up.error ? `refused after ${up.seconds} s: ${up.error}` : `${up.seconds} s`}`);
    console.log(`  demote (label off every node, onto a one-node generation): ${down.error ? `refused after ${down.seconds} s: ${down.error}` : `${down.seconds} s`}`);
    console.log(JSON.stringify({ bench: 'neo4j-promote', nodes, fill, promote: up, demote: down }));
  } finally {
    // neither generation may stay flagged live in the namespace, so both can go
    await withSession(driver, (s) => s.run(`MATCH (g:${generationLabel}) WHERE g.generation IN $gs REMOVE g.${readers.liveFlag}`, { gs: [neo4j.int(big), neo4j.int(small)] }));
    await withSession(driver, (s) => s.run(`MATCH (u:${readers.label}) CALL (u) { REMOVE u:${readers.label} } IN TRANSACTIONS OF 50000 ROWS`));
    for (const generation of [big, small]) await dropGeneration(driver, generation, readers).catch((error: Error) => note(`drop ${generation}: ${error.message}`));
    await withSession(driver, (s) => s.run(`DROP INDEX ${readers.labelIndex} IF EXISTS`));
    await driver.close();
  }
}
