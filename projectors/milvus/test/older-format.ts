// A generation as the Nova before format 2 made it (format.ts): the same collections, an `lsn`
// where these have the order fields, and no format marker.
import { DataType, type MilvusClient } from '@zilliz/milvus2-sdk-node';
import { checkpointSpec } from '../checkpoint.ts';
import { embeddingCollections, embeddingSpec, type CollectionSpec } from '../collections.ts';
import { call } from '../milvus-call.ts';
import { tombstoneSpec } from '../tombstones.ts';

const olderFields = ({ fields }: CollectionSpec) => [
  ...fields.filter(({ name }) => name !== 'version' && name !== 'commit_order'),
  { name: 'lsn', data_type: DataType.Int64, nullable: true },
];

export async function createOlderGeneration(client: MilvusClient, generation: number): Promise<void> {
  const specs = [...embeddingCollections.map((collection) => embeddingSpec(collection, generation)), tombstoneSpec(generation), checkpointSpec(generation)];
  for (const spec of specs) {
    const name = spec.name;
    await call(client, `create ${name}`, () => client.createCollection({ collection_name: name, fields: olderFields(spec), consistency_level: 'Strong' }));
    await call(client, `index ${name}`, () => client.createIndex({ collection_name: name, ...spec.index }));
    await call(client, `load ${name}`, () => client.loadCollection({ collection_name: name }));
  }
}
