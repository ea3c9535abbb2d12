// What only the end-to-end tests need on top of the reconcile comparison (../drift.ts): two
// reads of one generation compared, all ids of a view, and a short summary of problems.
import { aliasNames } from '../index.ts';
import { differingFields, mergeIds, show, type Ids, type Problem, type Versions, type View } from '../drift.ts';

export { actualFromElasticsearch, differences, expectedFromPostgres, idsOf, messageColumns, messageDoc, mergeIds, type Doc, type Ids, type Problem, type View } from '../drift.ts';

/** Every way two reads of the same generation differ (_source or _version). */
export function snapshotDifferences(before: { view: View; versions: Versions }, after: { view: View; versions: Versions }): Array<Problem & { newer: boolean }> {
  const problems: Array<Problem & { newer: boolean }> = [];
  for (const alias of aliasNames) {
    for (const id of new Set([...before.view[alias].keys(), ...after.view[alias].keys()])) {
      const [doc, now] = [before.view[alias].get(id), after.view[alias].get(id)];
      const [version, versionNow] = [before.versions[alias].get(id), after.versions[alias].get(id)];
      const problem = (line: string, newer: boolean) => problems.push({ alias, id, line: `${alias}/${id} ${line}`, newer });
      if (!doc) problem(`new after: _version ${versionNow} ${show(now)}`, true);
      else if (!now) problem(`gone after: _version ${version} ${show(doc)}`, true);
      else if (differingFields(doc, now).length > 0 || version !== versionNow) {
        problem(`changed: _version ${version} ${show(doc)} -> _version ${versionNow} ${show(now)}`, (versionNow ?? 0) > (version ?? 0));
      }
    }
  }
  return problems;
}

/** The ids a view holds, per alias. */
export const idsIn = (view: View): Ids => mergeIds(...aliasNames.map((alias) => ({ [alias]: new Set(view[alias].keys()) })));

/** Counts by kind ("posts differs in text", "messages missing") and the first few lines: never megabytes. */
export function summary(problems: Problem[], limit = 8): string {
  if (problems.length === 0) return 'no differences';
  const kinds = new Map<string, number>();
  for (const { line } of problems) {
    const kind = line.replace(/\/\d+/, '').replace(/:.*$/s, '');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const counts = [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([kind, n]) => `${n} × ${kind}`);
  return `${problems.length} differences (${counts.join('; ')}); first ${Math.min(limit, problems.length)}:\n  ${problems.slice(0, limit).map((p) => p.line).join('\n  ')}`;
}
