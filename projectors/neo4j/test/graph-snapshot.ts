// Test helper: everything one generation's graph holds, bookkeeping included, keyed by what it
// describes: `user <id>` -> labels and properties, `pair <follower>-><followee>` -> type and
// properties (a pair has at most one relationship; more would show up joined by " | ").
import neo4j, { type Driver } from 'neo4j-driver';
import { userLabel } from '../graph-names.ts';

const sortedJson = (props: Array<[string, string]>) => JSON.stringify(Object.fromEntries(props.sort(([a], [b]) => a.localeCompare(b))));
/** Cypher: the properties of `x` as [name, text] pairs: a version read back as a number would lose its low bits */
const propertiesOf = (x: string) => `[k IN keys(${x}) | [k, toString(${x}[k])]]`;

/** `ids` limits it to those users and the pairs they are in. */
export async function graphState(driver: Driver, generation: number, ids?: number[]): Promise<Map<string, string>> {
  const L = userLabel(generation);
  const params = { ids: (ids ?? []).map((id) => neo4j.int(id)) };
  const session = driver.session();
  try {
    const state = new Map<string, string>();
    const nodes = await session.run(`MATCH (u:${L}) ${ids ? 'WHERE u.id IN $ids' : ''} RETURN u.id AS id, labels(u) AS labels, ${propertiesOf('u')} AS props`, params);
    for (const r of nodes.records) state.set(`user ${r.get('id')}`, `${[...r.get('labels')].sort().join(':')} ${sortedJson(r.get('props'))}`);
    const relationships = await session.run(
      `MATCH (a:${L})-[r]->(b:${L}) ${ids ? 'WHERE a.id IN $ids OR b.id IN $ids' : ''} RETURN a.id AS a, b.id AS b, type(r) AS type, ${propertiesOf('r')} AS props`,
      params,
    );
    for (const r of relationships.records) {
      const key = `pair ${r.get('a')}->${r.get('b')}`;
      const value = `${r.get('type')} ${sortedJson(r.get('props'))}`;
      state.set(key, state.has(key) ? `${state.get(key)} | ${value}` : value);
    }
    return state;
  } finally {
    await session.close();
  }
}

/** The state as sorted entries, for deepEqual. */
export const sortedState = (state: Map<string, string>) => [...state].sort(([a], [b]) => a.localeCompare(b));
