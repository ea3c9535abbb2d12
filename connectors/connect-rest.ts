// Kafka Connect's REST API, the parts Nova uses: connector config and state, and (KIP-875)
// stopping a connector, resetting its offsets and resuming it.
/** Kafka Connect answered with an error status. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function connectRequest(connectUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${connectUrl.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new ConnectError(`Kafka Connect ${method} ${path} answered ${response.status}: ${text}`, response.status);
  return text ? JSON.parse(text) : null;
}

export type ConnectorStatus = {
  connector: { state: string; worker_id: string };
  tasks: { id: number; state: string; trace?: string }[];
};

export function connectorStatus(connectUrl: string, name: string): Promise<ConnectorStatus> {
  return connectRequest(connectUrl, 'GET', `/connectors/${encodeURIComponent(name)}/status`) as Promise<ConnectorStatus>;
}

/** Creates or updates a connector (Connect restarts its tasks with the new config). */
export const putConnectorConfig = (connectUrl: string, name: string, config: Record<string, string>) => connectRequest(connectUrl, 'PUT', `/connectors/${encodeURIComponent(name)}/config`, config);

/** Stops the connector's tasks (its config and offsets stay) and waits until it is STOPPED. */
export async function stopConnector(connectUrl: string, name: string, timeoutMs = 60_000): Promise<void> {
  await connectRequest(connectUrl, 'PUT', `/connectors/${encodeURIComponent(name)}/stop`);
  const deadline = Date.now() + timeoutMs;
  while ((await connectorStatus(connectUrl, name)).connector.state !== 'STOPPED') {
    if (Date.now() > deadline) throw new Error(`connector ${name} did not stop within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The source offsets Connect holds for the connector (empty before its first commit). */
export async function connectorOffsets(connectUrl: string, name: string): Promise<unknown[]> {
  const body = (await connectRequest(connectUrl, 'GET', `/connectors/${encodeURIComponent(name)}/offsets`)) as { offsets?: unknown[] };
  return body.offsets ?? [];
}

/** Forgets the stopped connector's offsets: it starts again as if new (Debezium snapshots). */
export const resetConnectorOffsets = (connectUrl: string, name: string) => connectRequest(connectUrl, 'DELETE', `/connectors/${encodeURIComponent(name)}/offsets`);

export const resumeConnector = (connectUrl: string, name: string) => connectRequest(connectUrl, 'PUT', `/connectors/${encodeURIComponent(name)}/resume`);
