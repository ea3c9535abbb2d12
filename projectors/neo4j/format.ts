// What a generation's stored versions mean, recorded as `format` on its (:NovaGeneration)
// node. Format 2: every node and relationship keeps its change's version and commit order,
// a snapshot read's version is 0, and truncates are kept by commit order
// (runtime/decode/version.ts). The Nova before it gave a snapshot read its snapshot's LSN, so
// a read could outrank, and keep out for good, a change committed after the snapshot point
// with a lower LSN (issue 8); a generation it filled may be wrong in exactly that way,
// silently, and its `lsn` properties are no versions. Only a rebuild repairs it, so such a
// generation is refused outright rather than written on.
import neo4j, { type Driver } from 'neo4j-driver';
import { withSession } from './connection.ts';
import { generationLabel, userLabel } from './graph-names.ts';

export const graphFormat = 2;

/** At sink start: marks a generation without users as format 2; refuses one an older Nova filled. */
export async function claimFormat(driver: Driver, generation: number): Promise<void> {
  const params = { generation: neo4j.int(generation), format: neo4j.int(graphFormat) };
  const [found] = await withSession(driver, async (session) => {
    const result = await session.run(
      `OPTIONAL MATCH (g:${generationLabel} {generation: $generation})
       RETURN g.format AS format, EXISTS { MATCH (:${userLabel(generation)}) } AS filled`,
      params,
    );
    return result.records;
  });
  if (found?.get('filled') === true && found.get('format') !== graphFormat) {
    throw new Error(
      `neo4j generation ${generation} was filled by a Nova before graph format ${graphFormat}: its stored versions mean something else ` +
        `(a snapshot read kept its snapshot's LSN, which can hide a later change for good), so it is refused. ` +
        `Repair: rebuild into a new generation M with \`scripts/nova projector rebuild neo4j --generation M --snapshot\`, ` +
        `then promote it (\`scripts/nova projector promote neo4j --generation M\`) and drop generation ${generation}`,
    );
  }
  await withSession(driver, (session) =>
    session.run(`MERGE (g:${generationLabel} {generation: $generation}) SET g.format = $format`, params),
  );
}
