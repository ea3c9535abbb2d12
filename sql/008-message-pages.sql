-- Message history pages (GET /conversations/{id}/messages) go newest first by id, the order
-- messages were sent in, with an id cursor: this index serves each page as one range scan.
-- The seed's idx_messages_conversation (created_at) stays for what orders by time.
CREATE INDEX idx_messages_conversation_id ON messages(conversation_id, id DESC);
