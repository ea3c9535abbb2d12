// A workload over the embedding tables, the way a model service writes them: embeddings
// inserted, re-embedded (new vector and model), relabelled (model_version only: the vector is
// not touched), deleted and inserted again, in small transactions. Every key written is noted.
import type pg from 'pg';
import { EMBEDDING_DIM, type EmbeddingCollection } from '../index.ts';

export type Touched = Record<EmbeddingCollection, Set<number>>;

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)] as T;
export const randomVector = (): number[] => Array.from({ length: EMBEDDING_DIM }, () => Math.random() * 2 - 1);

/** Users and posts of this run's own to hang embeddings on (each embedding row references one). */
export async function createOwners(db: pg.Client, tag: string, count: number): Promise<Record<EmbeddingCollection, number[]>> {
  const owners: Record<EmbeddingCollection, number[]> = { user_embeddings: [], post_embeddings: [] };
  for (let i = 0; i < count; i++) {
    const user = Number((await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`${tag}-${i}`])).rows[0].id);
    owners.user_embeddings.push(user);
    owners.post_embeddings.push(Number((await db.query(`INSERT INTO posts (author_id, text) VALUES ($1, 'embedded') RETURNING id`, [user])).rows[0].id));
  }
  return owners;
}

const keyColumn: Record<EmbeddingCollection, string> = { user_embeddings: 'user_id', post_embeddings: 'post_id' };

/** `statements` writes in transactions of 1-5; onProgress gets the count after each commit. */
export async function runEmbeddingWorkload(
  db: pg.Client,
  options: { owners: Record<EmbeddingCollection, number[]>; statements: number; onProgress?: (done: number) => Promise<void> },
): Promise<Touched> {
  const { owners, statements, onProgress } = options;
  const touched: Touched = { user_embeddings: new Set(), post_embeddings: new Set() };
  const embedded: Record<EmbeddingCollection, Set<number>> = { user_embeddings: new Set(), post_embeddings: new Set() };

  async function write(table: EmbeddingCollection) {
    const key = keyColumn[table];
    const owner = pick(owners[table]);
    touched[table].add(owner);
    if (!embedded[table].has(owner)) {
      await db.query(`INSERT INTO ${table} (${key}, embedding, model_version) VALUES ($1, $2, $3)`, [owner, randomVector(), pick(['m1', 'm2', '模型-3'])]);
      embedded[table].add(owner);
      return;
    }
    const action = pick(['re-embed', 're-embed', 'relabel', 'delete']);
    if (action === 're-embed') {
      await db.query(`UPDATE ${table} SET embedding = $2, model_version = $3, updated_at = clock_timestamp() WHERE ${key} = $1`, [owner, randomVector(), pick(['m2', 'm3'])]);
    } else if (action === 'relabel') {
      await db.query(`UPDATE ${table} SET model_version = $2, updated_at = clock_timestamp() WHERE ${key} = $1`, [owner, `relabel-${Math.floor(Math.random() * 100)}`]);
    } else {
      await db.query(`DELETE FROM ${table} WHERE ${key} = $1`, [owner]);
      embedded[table].delete(owner);
    }
  }

  for (let done = 0; done < statements; ) {
    const size = Math.min(statements - done, 1 + Math.floor(Math.random() * 5));
    await db.query('BEGIN');
    for (let i = 0; i < size; i++) await write(pick(['user_embeddings', 'post_embeddings'] as const));
    await db.query('COMMIT');
    done += size;
    await onProgress?.(done);
  }
  return touched;
}
