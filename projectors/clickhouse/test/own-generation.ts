// A ClickHouse generation of one test file's own, with the connections the file uses: opened
// and checked to be new before its tests, and afterwards its projector stopped, its tables,
// checkpoints and consumer group removed, and the connections closed.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import type { CheckpointStore, Sink } from '../../runtime/sink.ts';
import { deleteConsumerGroup, stopProjector, type ProjectorProcess } from '../../runtime/testing/projector-process.ts';
import { clearCheckpoints, clickhouseProjector, dropGeneration, type ClickhouseOp } from '../index.ts';
import { projectorGroup } from '../../runtime/source/kafkajs-source.ts';

export type OwnGeneration = { readonly store: Sink<ClickhouseOp> & CheckpointStore };

export function ownGeneration(options: { generation: number; db: pg.Client; admin: Admin; ch: ClickHouseClient; projector: () => ProjectorProcess | undefined }): OwnGeneration {
  const { generation, db, admin, ch, projector } = options;
  const { name } = clickhouseProjector;
  let store: (Sink<ClickhouseOp> & CheckpointStore) | undefined;
  before(async () => {
    await Promise.all([db.connect(), admin.connect()]);
    store = await clickhouseProjector.createSink({ generation, env: process.env, shadow: true });
    assert.deepEqual(await store.load(), [], `generation ${generation} is new`);
  });
  after(async () => {
    const running = projector();
    if (running) await stopProjector(running);
    await dropGeneration(ch, generation);
    await clearCheckpoints(ch, { projector: name, generation });
    await store?.close();
    await deleteConsumerGroup(admin, projectorGroup(name, generation));
    await Promise.all([db.end(), admin.disconnect(), ch.close()]);
  });
  return {
    get store() {
      if (!store) throw new Error('the generation is opened in before()');
      return store;
    },
  };
}
