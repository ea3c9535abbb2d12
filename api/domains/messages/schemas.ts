import { z } from '@hono/zod-openapi';
import { rowId } from '../../http/ids.ts';
import { text } from '../../http/text.ts';

export const messageTypes = ['text', 'image', 'video', 'file'] as const;

export const newMessage = z
  .object({
    recipient_id: rowId,
    content: text(1, 10_000),
    message_type: z.enum(messageTypes).default('text'),
    // {"file_url": "...", "thumbnail": "..."}: a few short strings, not a document store
    metadata: z.record(z.string().max(64), text(0, 2048)).refine((m) => Object.keys(m).length <= 16, 'at most 16 entries').optional(),
  })
  .strict()
  .openapi('NewMessage');

export const message = z
  .object({
    id: z.string(),
    conversation_id: z.string(),
    sender_id: z.string(),
    content: z.string(),
    message_type: z.string(),
    metadata: z.record(z.string(), z.string()).nullable(),
    created_at: z.string(),
  })
  .openapi('Message');

export const messagePage = z.object({ items: z.array(message), next_cursor: z.string().nullable() }).openapi('MessagePage');

export const conversation = z
  .object({ id: z.string(), peer_id: z.string(), unread: z.number().int(), last_message_id: z.string().nullable() })
  .openapi('Conversation');
export const conversationPage = z.object({ items: z.array(conversation), next_cursor: z.string().nullable() }).openapi('ConversationPage');

export const conversationIdParam = z.object({ id: rowId });

export const readUpTo = z
  .object({ last_read_message_id: rowId.optional().openapi({ description: 'a message of this conversation; by default its newest' }) })
  .strict()
  .openapi('ReadUpTo');

export const searchQuery = z.object({
  q: text(1, 200).openapi({ description: 'words to find (simple query string syntax); only ever matched against the caller\'s own conversations' }),
  conversation_id: rowId.optional().openapi({ description: 'one of the caller\'s conversations' }),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  cursor: z.string().max(512).optional(),
});

export const searchHit = message.extend({ score: z.number() }).openapi('MessageHit');
export const searchPage = z.object({ items: z.array(searchHit), next_cursor: z.string().nullable() }).openapi('MessageSearchPage');
