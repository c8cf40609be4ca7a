import { describe, expect, it } from 'vitest';
import { DriftguardError } from '../../../kernel/errors.js';
import type { Store } from '../../../kernel/store.js';
import { storeError } from '../../../src/store/clickhouse-server.js';
import {
  clusterSettings,
  clusterTopology,
  waitingForQuorumTurns,
} from '../../../src/store/cluster-settings.js';
import { serverErrorCode } from '../../../src/store/server-error-codes.js';

describe('cluster settings', () => {
  const topology = { shards: 2, minReplicas: 2 };

  it('insert synchronously through Distributed tables with a quorum of every replica, below the request timeout', () => {
    expect(clusterSettings({ topology, requestTimeoutMs: 30_000 })).toEqual({
      insert_distributed_sync: '1',
      insert_quorum: '2',
      insert_quorum_timeout: '15000',
      distributed_product_mode: 'global',
      distributed_ddl_task_timeout: '15',
    });
    expect(clusterSettings({ topology, insertQuorum: 1, requestTimeoutMs: 1_000 })).toMatchObject({
      insert_quorum: '0',
      insert_quorum_timeout: '1000',
    });
  });

  it('refuses a quorum larger than a shard', () => {
    expect(() => clusterSettings({ topology, insertQuorum: 3, requestTimeoutMs: 30_000 })).toThrow(
      /insertQuorum = 3, but a shard of the cluster has only 2 replica\(s\).*lower it to at most 2/,
    );
  });

  it('reads the shape of the cluster, and names a cluster the node does not know', async () => {
    const rows = [
      { shard_num: 1, replicas: '3' },
      { shard_num: '2', replicas: 2 },
    ];
    const select = <Row>(): Promise<Row[]> => Promise.resolve(rows as Row[]);
    expect(await clusterTopology(select, 'events', 'http://ch:8123')).toEqual({ shards: 2, minReplicas: 2 });
    const none = <Row>(): Promise<Row[]> => Promise.resolve([] as Row[]);
    await expect(clusterTopology(none, 'events', 'http://ch:8123')).rejects.toThrow(
      'cluster events is not defined in remote_servers of the ClickHouse server at http://ch:8123',
    );
  });
});

describe('server errors on a cluster', () => {
  it('reads the code of an 18.16 error body and of a parsed current-release error', () => {
    expect(
      serverErrorCode(new Error('Code: 242, e.displayText() = DB::Exception: Table is in readonly mode')),
    ).toBe(242);
    expect(serverErrorCode(Object.assign(new Error('Table is in readonly mode'), { code: '242' }))).toBe(242);
    expect(serverErrorCode(new Error('ECONNREFUSED'))).toBeUndefined();
  });

  it('retries what passes (ZooKeeper away, a replica down, quorum pending) and says so', () => {
    const readOnly = storeError(
      'insert into predictions',
      new Error(
        'Code: 242, e.displayText() = DB::Exception: Table is in readonly mode: Insertion status:\nWrote 0 blocks',
      ),
    );
    expect(readOnly).toMatchObject({
      code: 'STORE_UNAVAILABLE',
      retriable: true,
      details: { serverCode: 242 },
    });
    expect(readOnly.message).toBe(
      'ClickHouse cannot complete insert into predictions right now (code 242: a replicated table is read-only: ZooKeeper/Keeper is unreachable (or the replica is starting)): Code: 242, e.displayText() = DB::Exception: Table is in readonly mode: Insertion status:',
    );
    // A quorum that timed out because ZooKeeper went away says so.
    const quorum = storeError(
      'insert into predictions',
      new Error(
        'Code: 319, e.displayText() = DB::Exception: Unknown status, client must retry. Reason: Code: 999, e.displayText() = Coordination::Exception: Session expired (Session expired)',
      ),
    );
    expect(quorum.message).toContain(
      '(code 319: the insert quorum was not reached in time (unknown status): a replica is down or lagging; cause: code 999: a ZooKeeper/Keeper error (its session expired, or it is unreachable))',
    );
    for (const code of [285, 286, 319, 225, 999]) {
      expect(
        storeError('insert', new Error(`Code: ${code}, e.displayText() = DB::Exception: x`)).retriable,
      ).toBe(true);
    }
    expect(
      storeError('select', new Error('Code: 47, e.displayText() = DB::Exception: Unknown identifier')),
    ).toMatchObject({
      code: 'STORE_QUERY_FAILED',
      retriable: false,
    });
  });

  it('lets an insert wait its quorum turn, but passes on other failures', async () => {
    let attempts = 0;
    const busy = (code: number): DriftguardError =>
      new DriftguardError('STORE_UNAVAILABLE', 'x', { retriable: true, details: { serverCode: code } });
    const base: Store = {
      engine: 'server',
      database: 'd',
      cluster: 'c',
      location: 'http://ch',
      select: () => Promise.resolve([]),
      selectText: () => Promise.resolve(''),
      command: () => Promise.reject(busy(285)),
      insert: () => (++attempts < 3 ? Promise.reject(busy(286)) : Promise.resolve()),
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const store = waitingForQuorumTurns(base);
    await store.insert('t', ['{}\n']);
    expect(attempts).toBe(3);
    await expect(store.command('c', 'INSERT')).rejects.toMatchObject({ details: { serverCode: 285 } });
    expect(store.cluster).toBe('c');
  });
});
