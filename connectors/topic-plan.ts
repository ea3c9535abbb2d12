// The Kafka topics a Debezium connector config will write to, with the partitions and
// retention its topic.creation groups give them. Derived from the connector JSON itself,
// so that file stays the one place topics are defined.
export type ConnectorConfig = Record<string, string>;
export type TopicSpec = { topic: string; table: string; partitions: number; retentionMs: number | null; maxMessageBytes: number | null };

/** Applies the connector's RegexRouter transforms, in order, to Debezium's default topic name. */
export function topicFor(config: ConnectorConfig, table: string): string {
  let topic = `${config['topic.prefix']}.${table}`;
  for (const name of (config.transforms ?? '').split(',').filter(Boolean)) {
    if (config[`transforms.${name}.type`] !== 'org.apache.kafka.connect.transforms.RegexRouter') continue;
    const regex = new RegExp(`^(?:${config[`transforms.${name}.regex`]})$`);
    // Java's $1 group references read the same in JavaScript's replace
    if (regex.test(topic)) topic = topic.replace(regex, config[`transforms.${name}.replacement`] ?? topic);
  }
  return topic;
}

function groupFor(config: ConnectorConfig, topic: string): string {
  const groups = (config['topic.creation.groups'] ?? '').split(',').filter(Boolean);
  const match = groups.find((g) => new RegExp(`^(?:${config[`topic.creation.${g}.include`]})$`).test(topic));
  return match ?? 'default';
}

export function topicPlan(config: ConnectorConfig): TopicSpec[] {
  const tables = (config['table.include.list'] ?? '').split(',').filter(Boolean);
  return tables.map((table) => {
    const topic = topicFor(config, table);
    const group = groupFor(config, topic);
    const partitions = Number(config[`topic.creation.${group}.partitions`] ?? -1);
    const retention = config[`topic.creation.${group}.retention.ms`];
    const maxMessageBytes = config[`topic.creation.${group}.max.message.bytes`];
    return { topic, table, partitions, retentionMs: retention === undefined ? null : Number(retention), maxMessageBytes: maxMessageBytes === undefined ? null : Number(maxMessageBytes) };
  });
}
