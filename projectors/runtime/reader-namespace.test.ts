// Pure: the names readers of a namespace see, in every store, and the namespaces refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readerAliasName } from '../elasticsearch/index-names.ts';
import { readerAliases } from '../milvus/generations.ts';
import { readerGraph } from '../neo4j/graph-names.ts';
import { liveGenerationKey } from '../redis/generations.ts';
import { readerName, readerNamespace } from './reader-namespace.ts';

const seed = {};
const ns = { NOVA_READER_NAMESPACE: 'staging2' };

test('without a namespace readers see the seed\'s names', () => {
  assert.equal(readerNamespace(seed), undefined);
  assert.equal(readerNamespace({ NOVA_READER_NAMESPACE: '' }), undefined);
  assert.deepEqual(
    [liveGenerationKey(seed), readerAliasName('messages', seed), readerGraph(seed), readerAliases(seed), readerName('user_behavior_events', seed)],
    ['nova:live-generation', 'messages', { label: 'User', liveFlag: 'live', labelIndex: 'nova_user_id' }, { user_embeddings: 'user_embeddings', post_embeddings: 'post_embeddings' }, 'user_behavior_events'],
  );
});

test('a namespace has names of its own in every store', () => {
  assert.deepEqual(
    [liveGenerationKey(ns), readerAliasName('messages', ns), readerGraph(ns), readerAliases(ns), readerName('user_behavior_events', ns)],
    [
      'nova:live-generation:staging2',
      'staging2_messages',
      { label: 'staging2_User', liveFlag: 'live_staging2', labelIndex: 'nova_user_id_staging2' },
      { user_embeddings: 'staging2_user_embeddings', post_embeddings: 'staging2_post_embeddings' },
      'staging2_user_behavior_events',
    ],
  );
});

test('a namespace that could not be part of a label, index or key name is refused, naming the rule', () => {
  for (const bad of ['Staging', '2nd', 'a-b', 'a b', 'a`b', 'x'.repeat(25)]) {
    assert.throws(() => readerNamespace({ NOVA_READER_NAMESPACE: bad }), /NOVA_READER_NAMESPACE is 1-24 lower-case letters and digits/, bad);
  }
});
