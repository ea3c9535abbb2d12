// Direct messages in PostgreSQL, each with all of its side effects in the caller's transaction:
// the conversation (created on the first message, participants in id order as the seed's CHECK
// demands), the message, the conversation's last_message_*, the sender's read position, and a
// `message` notification for the counterpart.
import type { Tx } from '../../db.ts';
import { problems } from '../../http/problem.ts';
import { notify } from '../notifications/writes.ts';
import { iso } from '../../http/columns.ts';


export type MessageRow = { id: string; conversation_id: string; sender_id: string; content: string; message_type: string; metadata: Record<string, string> | null; created_at: string };

export const asMessage = (row: Record<string, unknown>): MessageRow => ({
  id: String(row.id), conversation_id: String(row.conversation_id), sender_id: String(row.sender_id), content: String(row.content),
  message_type: String(row.message_type), metadata: (row.metadata as Record<string, string> | null) ?? null, created_at: iso(row.created_at),
});

/**
 * The pair's conversation, created if this is their first message, and locked: concurrent
 * messages of one conversation take turns, so message ids and last_message_id agree.
 */
async function lockConversation(tx: Tx, a: string, b: string): Promise<string> {
  const [first, second] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
  const created = await tx.query('INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2) ON CONFLICT (participant1_id, participant2_id) DO NOTHING RETURNING id', [first, second]);
  if (created.rows[0]) return String(created.rows[0].id);
  const { rows } = await tx.query('SELECT id FROM conversations WHERE participant1_id = $1 AND participant2_id = $2 FOR UPDATE', [first, second]);
  return String(rows[0].id);
}

export async function sendMessage(tx: Tx, senderId: string, m: { recipient_id: string; content: string; message_type: string; metadata?: Record<string, string> }): Promise<MessageRow> {
  const recipient = m.recipient_id;
  if (recipient === senderId) throw problems.invalid([{ field: 'recipient_id', message: 'a conversation has two people: not yourself' }]);
  // a recipient who does not exist, or who blocked the sender, is not found (a block is not revealed)
  const { rows: reachable } = await tx.query(
    `SELECT 1 FROM users u WHERE u.id = $1
        AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $2 AND f.followee_id = $1 AND f.status = 'blocked')`,
    [recipient, senderId],
  );
  if (reachable.length === 0) throw problems.notFound(`user ${recipient}`);
  const conversationId = await lockConversation(tx, senderId, recipient);
  const { rows } = await tx.query(
    `INSERT INTO messages (conversation_id, sender_id, content, message_type, metadata) VALUES ($1, $2, $3, $4, $5)
     RETURNING id, conversation_id, sender_id, content, message_type, metadata, created_at`,
    [conversationId, senderId, m.content, m.message_type, m.metadata === undefined ? null : JSON.stringify(m.metadata)],
  );
  const sent = asMessage(rows[0]);
  await tx.query('UPDATE conversations SET last_message_id = $2, last_message_at = $3 WHERE id = $1', [conversationId, sent.id, sent.created_at]);
  await markRead(tx, senderId, conversationId, sent.id);
  await notify(tx, {
    userId: recipient, type: 'message', actorId: senderId, targetType: 'conversation', targetId: conversationId,
    content: { conversation_id: conversationId, message_id: sent.id, text: m.content.slice(0, 140) },
  });
  return sent;
}

/** The caller's read position in a conversation, which only moves forward. */
async function markRead(tx: Tx, userId: string, conversationId: string, messageId: string): Promise<string> {
  const { rows } = await tx.query(
    `INSERT INTO message_read_status (user_id, conversation_id, last_read_message_id, last_read_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (user_id, conversation_id) DO UPDATE
       SET last_read_message_id = GREATEST(message_read_status.last_read_message_id, EXCLUDED.last_read_message_id), last_read_at = now()
     RETURNING last_read_message_id`,
    [userId, conversationId, messageId],
  );
  return String(rows[0].last_read_message_id);
}

/** Marks the caller's conversation read up to a message of it (by default its newest); 404 for a conversation not theirs. */
export async function readConversation(tx: Tx, userId: string, conversationId: string, upTo?: string) {
  const { rows } = await tx.query(
    `SELECT c.last_message_id, (SELECT m.id FROM messages m WHERE m.id = $3::bigint AND m.conversation_id = c.id) AS chosen
       FROM conversations c WHERE c.id = $1 AND $2::bigint IN (c.participant1_id, c.participant2_id)`,
    [conversationId, userId, upTo ?? null],
  );
  const found = rows[0];
  if (!found) throw problems.notFound(`conversation ${conversationId}`);
  if (upTo !== undefined && found.chosen === null) throw problems.invalid([{ field: 'last_read_message_id', message: 'not a message of this conversation' }]);
  const target = upTo ?? (found.last_message_id === null ? undefined : String(found.last_message_id));
  if (target === undefined) return { conversation_id: conversationId, last_read_message_id: null };
  return { conversation_id: conversationId, last_read_message_id: await markRead(tx, userId, conversationId, target) };
}
