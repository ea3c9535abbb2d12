// A Neo4j TRUNCATE of follows at scale: --pairs FOLLOWS relationships (among 1,000 users) in a
// scratch generation, truncated through the projector's own sink (the batch records the
// truncate, the sweep removes the pairs a chunk per transaction: sweep.ts); then the same pairs
// built again and deleted the way the sink did before, in one transaction, as the baseline.
// Prints each one's time, or the server's refusal (a transaction over its memory limit).
import { randomInt } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { connectNeo4j, withSession } from '../../projectors/neo4j/connection.ts';
import { dropGeneration } from '../../projectors/neo4j/generations.ts';
import { userLabel } from '../../projectors/neo4j/graph-names.ts';
import { createNeo4jSink } from '../../projectors/neo4j/sink.ts';
import { opsOf, truncate } from '../../projectors/neo4j/test/changes.ts';
import { note, timed, type Timed } from './measure.ts';

const users = 1_000;

export async function benchNeo4jSweep(options: { pairs: number; env: NodeJS.ProcessEnv }) {
  const { pairs, env } = options;
  const driver = connectNeo4j(env);
  const [chunked, oneTransaction] = [randomInt(30_000_001, 40_000_000), randomInt(40_000_001, 50_000_000)];
  const count = async (label: string) =>
    Number((await withSession(driver, (s) => s.run(`MATCH (:${label})-[r]->(:${label}) RETURN count(r) AS n`))).records[0]?.get('n'));
  try {
    type Figure = { fill: Timed; removal: Timed; left: number };
    const figures: Partial<Record<'chunked' | 'oneTransaction', Figure>> = {};
    for (const generation of [chunked, oneTransaction]) {
      const L = userLabel(generation);
      const sink = await createNeo4jSink({ driver: connectNeo4j(env), generation, projector: `bench-${generation}` });
      note(`neo4j-sweep: creating ${pairs.toLocaleString('en')} FOLLOWS in ${L}`);
      const fill = await timed('fill', () =>
        withSession(driver, async (s) => {
          await s.run(`UNWIND range(0, ${users - 1}) AS i CREATE (:${L} {id: i, version: 1, commit_order: 1})`);
          await s.run(
            `UNWIND range(0, $pairs - 1) AS i CALL (i) { MATCH (a:${L} {id: i % ${users}}), (b:${L} {id: (i / ${users} + i + 1) % ${users}}) CREATE (a)-[:FOLLOWS {version: 2, commit_order: 2}]->(b) } IN TRANSACTIONS OF 50000 ROWS`,
            { pairs: neo4j.int(pairs) },
          );
        }),
      );
      const removal =
        generation === chunked
          ? await timed('chunked truncate', () => sink.apply(opsOf(truncate('follows', 100)), [], async () => {}))
          : await timed('one-transaction delete', () => withSession(driver, (s) => s.run(`MATCH (:${L})-[r]->(:${L}) DELETE r`)));
      figures[generation === chunked ? 'chunked' : 'oneTransaction'] = { fill, removal, left: await count(L) };
      await sink.close();
    }
    const line = (f: Figure | undefined) => (!f ? 'not run' : f.removal.error ? `refused after ${f.removal.seconds} s: ${f.removal.error}` : `${f.removal.seconds} s, ${f.left} left`);
    console.log(`neo4j truncate of follows over ${pairs.toLocaleString('en')} pairs`);
    console.log(`  through the sink (recorded in the batch, swept in chunks): ${line(figures.chunked)}`);
    console.log(`  baseline, one transaction (the sink before the sweep): ${line(figures.oneTransaction)}`);
    console.log(JSON.stringify({ bench: 'neo4j-sweep', pairs, ...figures }));
  } finally {
    for (const generation of [chunked, oneTransaction]) await dropGeneration(driver, generation).catch((error: Error) => note(`drop ${generation}: ${error.message}`));
    await driver.close();
  }
}
