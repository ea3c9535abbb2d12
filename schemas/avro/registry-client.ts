// The registry calls the contract tooling needs: subjects, their versions, and the schema
// text of each. Apicurio's Confluent-compatible API names subjects `<topic>-key|value`.
export type RegisteredSchema = { subject: string; version: number; id: number; schema: string };

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  if (!response.ok) throw new Error(`schema registry: GET ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

export async function subjectVersions(registryUrl: string, subject: string): Promise<RegisteredSchema[]> {
  const base = `${registryUrl.replace(/\/+$/, '')}/subjects/${encodeURIComponent(subject)}/versions`;
  const versions = await getJson<number[]>(base).catch((error: Error) => {
    if (/ 404:/.test(error.message)) return [];
    throw error;
  });
  return Promise.all(
    versions.map(async (version) => {
      const found = await getJson<{ id: number; schema: string }>(`${base}/${version}`);
      return { subject, version, id: found.id, schema: found.schema };
    }),
  );
}
