// A mixed workload over what the Elasticsearch projector reads: the Redis workload (users,
// conversations, messages and the rest) interleaved, transaction by transaction, with
// transactions of our own over posts, users and messages (CJK and emoji text, content and
// type edits, soft and hard deletes). Hard deletes of our messages record the row as it was
// deleted, which is what the index keeps (flagged is_deleted).
import type pg from 'pg';
import { runWorkload } from '../../redis/test/workload.ts';
import { messageColumns, messageDoc, type Doc, type Ids } from './oracle.ts';

export type SearchWorkloadResult = {
  /** messages we hard-deleted: id -> the row as it was deleted, as its flagged document */
  deletedMessages: Map<string, Doc>;
  /** every message id the Redis workload created: those PostgreSQL no longer has must be flagged */
  otherMessageIds: Set<string>;
  /** every row written, deleted ones too */
  touched: Ids;
};

// Explicit NULLs go into columns with a DEFAULT too (message_type, is_deleted): the pipeline
// must carry them as NULL, not as the default.
const texts = ['hello', '你好，世界', '搜索 引擎 测试', 'emoji 🎉 ok', 'ÄÖÜ straße', 'a "quoted" \\ line\nnext', ''];
const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)] as T;
const text = () => `${pick(texts)} ${Math.random().toString(36).slice(2, 8)}`;
const remove = <T>(list: T[], item: T) => list.splice(list.indexOf(item), 1);

/**
 * `statements` in all: half from the Redis workload, half ours, one transaction of ours
 * (50 statements) after each of its transactions. onProgress gets the total so far.
 */
export async function runSearchWorkload(
  db: pg.Client,
  options: { statements: number; tag: string; onProgress?: (done: number) => void | Promise<void> },
): Promise<SearchWorkloadResult> {
  const { statements, tag, onProgress } = options;
  const one = async (sql: string, params: unknown[]) => (await db.query(sql, params)).rows[0];
  const touched = { messages: new Set<string>(), posts: new Set<string>(), users: new Set<string>() };
  /** an INSERT ... RETURNING id into an indexed table; the id is noted as touched */
  const insert = async (table: keyof typeof touched, sql: string, params: unknown[]) => {
    const id = Number((await one(sql, params)).id);
    touched[table].add(String(id));
    return id;
  };
  let serial = 0;
  const name = () => `${tag}-${++serial}`;

  // authors are referenced by posts and conversations and never deleted; loners are
  // referenced by nothing, so deleting one never trips a foreign key
  const authors: number[] = [];
  for (let i = 0; i < 6; i++) authors.push(await insert('users', `INSERT INTO users (username) VALUES ($1) RETURNING id`, [name()]));
  const conversations: Array<{ id: number; a: number; b: number }> = [];
  for (let i = 0; i < authors.length; i++) {
    for (let j = i + 1; j < authors.length; j++) {
      const [a, b] = [authors[i] as number, authors[j] as number];
      conversations.push({ id: Number((await one(`INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2) RETURNING id`, [a, b])).id), a, b });
    }
  }
  const loners: number[] = [];
  const posts: number[] = [];
  const messages: number[] = [];
  const deletedMessages = new Map<string, Doc>();

  const insertLoner = async () => loners.push(await insert('users', `INSERT INTO users (username, bio, avatar_url) VALUES ($1, $2, $3) RETURNING id`, [name(), text(), pick([null, 'https://cdn.example/a.png'])]));
  const insertPost = async () => posts.push(await insert('posts', `INSERT INTO posts (author_id, text) VALUES ($1, $2) RETURNING id`, [pick(authors), text()]));
  const insertMessage = async () => {
    const c = pick(conversations);
    messages.push(await insert('messages', `INSERT INTO messages (conversation_id, sender_id, content, message_type) VALUES ($1, $2, $3, $4) RETURNING id`, [c.id, pick([c.a, c.b]), text(), pick(['text', 'image', 'video', 'file', null])]));
  };
  // an update or delete on an empty pool inserts instead, so every statement writes
  const onPool = (pool: number[], fallback: () => Promise<unknown>, work: (id: number) => Promise<unknown>) => async () =>
    pool.length === 0 ? fallback() : work(pick(pool));

  const actions: Array<() => Promise<unknown>> = [
    insertLoner,
    onPool(loners, insertLoner, (id) => db.query(`UPDATE users SET bio = $2, avatar_url = $3 WHERE id = $1`, [id, pick([text(), null]), pick([null, `https://cdn.example/${serial}.png`])])),
    onPool(loners, insertLoner, (id) => db.query(`UPDATE users SET username = $2 WHERE id = $1`, [id, name()])),
    onPool(loners, insertLoner, async (id) => {
      await db.query(`DELETE FROM users WHERE id = $1`, [id]);
      remove(loners, id);
    }),
    async () => db.query(`UPDATE users SET bio = $2 WHERE id = $1`, [pick(authors), text()]),
    insertPost,
    insertPost,
    onPool(posts, insertPost, (id) => db.query(`UPDATE posts SET text = $2 WHERE id = $1`, [id, text()])),
    onPool(posts, insertPost, (id) => db.query(`UPDATE posts SET text = $2 WHERE id = $1`, [id, text()])),
    onPool(posts, insertPost, async (id) => {
      await db.query(`DELETE FROM posts WHERE id = $1`, [id]);
      remove(posts, id);
    }),
    insertMessage,
    insertMessage,
    onPool(messages, insertMessage, (id) => db.query(`UPDATE messages SET content = $2 WHERE id = $1`, [id, text()])),
    onPool(messages, insertMessage, (id) => db.query(`UPDATE messages SET message_type = $2 WHERE id = $1`, [id, pick(['text', 'image', 'file', null])])),
    onPool(messages, insertMessage, (id) => db.query(`UPDATE messages SET is_deleted = $2 WHERE id = $1`, [id, pick([true, false, null])])),
    onPool(messages, insertMessage, async (id) => {
      const row = await one(`DELETE FROM messages WHERE id = $1 RETURNING ${messageColumns}`, [id]);
      deletedMessages.set(String(id), messageDoc(row, true));
      remove(messages, id);
    }),
  ];

  const perTransaction = 50;
  const ids = await runWorkload(db, {
    statements: Math.ceil(statements / 2),
    tag: `${tag}-r`,
    onProgress: async (done) => {
      await db.query('BEGIN');
      for (let i = 0; i < perTransaction; i++) await pick(actions)();
      await db.query('COMMIT');
      await onProgress?.(done * 2);
    },
  });
  for (const id of ids.users) touched.users.add(String(id));
  for (const id of ids.messages) touched.messages.add(String(id));
  return { deletedMessages, otherMessageIds: new Set(ids.messages.map(String)), touched };
}
