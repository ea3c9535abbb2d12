// Explicit mappings for each alias's generation index. `dynamic: 'strict'` makes a field the
// mapping code did not declare here fail loudly (a rejected item) instead of being guessed.
//
// The seed analyses messages.content with `ik_max_word`, a plugin our server does not have
// (the integ-test distribution ships no analysis plugins, not even analysis-common). The
// built-in `standard` analyzer splits CJK text into single characters, so Chinese search
// still matches, as phrase queries over characters rather than dictionary words. Switching
// to ik later is a new generation plus a replay, not a change here in place.
import type { estypes } from '@elastic/elasticsearch';
import { tombstoneField } from './tombstones.ts';

const text = { type: 'text', analyzer: 'standard' } as const;
const date = { type: 'date' } as const;
const long = { type: 'long' } as const;
/** a deleted row's document (tombstones.ts), in every index */
const tombstone = { [tombstoneField]: { type: 'boolean' } } as const;

export const indexMappings = {
  messages: {
    dynamic: 'strict',
    properties: {
      message_id: long,
      conversation_id: long,
      sender_id: long,
      content: text,
      message_type: { type: 'keyword' },
      is_deleted: { type: 'boolean' },
      created_at: date,
      ...tombstone,
    },
  },
  posts: {
    dynamic: 'strict',
    properties: { post_id: long, author_id: long, text, created_at: date, ...tombstone },
  },
  users: {
    dynamic: 'strict',
    properties: {
      user_id: long,
      username: { ...text, fields: { keyword: { type: 'keyword' } } },
      bio: text,
      // returned with the document, never searched
      avatar_url: { type: 'keyword', index: false },
      created_at: date,
      ...tombstone,
    },
  },
} satisfies Record<string, estypes.MappingTypeMapping>;

export type AliasName = keyof typeof indexMappings;
