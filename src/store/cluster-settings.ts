import { DriftguardError } from '../../kernel/errors.js';
import { retry } from '../../kernel/retry.js';
import { sqlString } from '../../kernel/sql.js';
import type { Store } from '../../kernel/store.js';

/**
 * The settings that make a cluster read its own writes, sent with every request of a server store
 * whose `clickhouse.cluster` is set (only those the server knows: 18.16 refuses unknown settings).
 *
 * The mechanism, chosen because it works the same on 18.16 and current releases:
 * - `insert_distributed_sync=1`: an insert into a Distributed table returns once every shard has
 *   stored its rows, instead of queueing them on the node it reached and sending them later (then
 *   a read right after sees part of the rows, and a Kafka offset would be committed for rows that
 *   are only in a local queue). Current releases call it `distributed_foreground_insert` and keep
 *   this name as an alias.
 * - `insert_quorum=<replicas>`: each shard's insert returns once that many replicas hold the
 *   part. With every replica of a shard (the default), a row whose offsets were committed is on
 *   every replica, so a monitor cycle, a retune's data load or the alert outbox sees it on
 *   whichever replica its read lands. Reads need no setting (`select_sequential_consistency`
 *   would make a lagging replica fail the read, not wait). The price: while a replica is down,
 *   quorum inserts fail (TOO_FEW_LIVE_REPLICAS, or a quorum timeout) and are retried with backoff
 *   until it is back; retried blocks are deduplicated by the replicated table.
 * - `insert_quorum_timeout`: below the client's request timeout, so that ClickHouse reports a
 *   missing replica before the HTTP request gives up.
 * - `distributed_product_mode=global`: an IN or JOIN subquery over a Distributed table inside a
 *   query over another runs once and is shipped to the shards, instead of being refused.
 * - `distributed_ddl_task_timeout`: ON CLUSTER DDL waits for every node at most this long (below
 *   the request timeout), then fails naming the hosts that did not answer.
 */
export interface ClusterTopology {
  readonly shards: number;
  /** Replicas of the smallest shard. */
  readonly minReplicas: number;
}

/** Reads the cluster's shape from the node's `system.clusters`; fails when it is not defined. */
export async function clusterTopology(
  select: <Row>(sql: string) => Promise<Row[]>,
  cluster: string,
  location: string,
): Promise<ClusterTopology> {
  const rows = await select<{ shard_num: number | string; replicas: number | string }>(
    `SELECT shard_num, count() AS replicas FROM system.clusters WHERE cluster = ${sqlString(cluster)} GROUP BY shard_num`,
  );
  if (rows.length === 0) {
    throw new DriftguardError(
      'CONFIG_INVALID',
      `cluster ${cluster} is not defined in remote_servers of the ClickHouse server at ${location}: check clickhouse.cluster (DRIFTGUARD_CLICKHOUSE_CLUSTER) against SELECT DISTINCT cluster FROM system.clusters`,
      { retriable: false },
    );
  }
  return { shards: rows.length, minReplicas: Math.min(...rows.map((row) => Number(row.replicas))) };
}

export interface ClusterSettingsOptions {
  readonly topology: ClusterTopology;
  /** Replicas that must hold an insert; @default topology.minReplicas */
  readonly insertQuorum?: number | undefined;
  readonly requestTimeoutMs: number;
}

/** The read-your-writes settings for a cluster (filter them by what the server knows). */
export function clusterSettings(options: ClusterSettingsOptions): Record<string, string> {
  const quorum = options.insertQuorum ?? options.topology.minReplicas;
  if (quorum > options.topology.minReplicas) {
    throw new DriftguardError(
      'CONFIG_INVALID',
      `clickhouse.insertQuorum = ${quorum}, but a shard of the cluster has only ${options.topology.minReplicas} replica(s), so no insert could ever be stored: lower it to at most ${options.topology.minReplicas}`,
      { retriable: false },
    );
  }
  const seconds = Math.max(1, Math.floor(options.requestTimeoutMs / 2_000));
  return {
    insert_distributed_sync: '1',
    // 0 turns the quorum off; 1 would wait for the one replica an insert goes to anyway.
    insert_quorum: quorum > 1 ? String(quorum) : '0',
    insert_quorum_timeout: String(seconds * 1_000),
    distributed_product_mode: 'global',
    distributed_ddl_task_timeout: String(seconds),
  };
}

/**
 * ClickHouse 18.16 runs one quorum insert into a table at a time (parallel quorum inserts came
 * later): an insert that arrives while the previous one is still reaching its replicas is refused
 * at once, before writing anything, with UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE (286). This wraps a
 * cluster store's inserts and commands so that such an insert waits its turn (briefly, with
 * backoff) instead of failing its caller; anything else, or a turn that never comes (a replica is
 * down), reaches the caller as before.
 */
export function waitingForQuorumTurns(store: Store): Store {
  const inTurn = <T>(operation: () => Promise<T>): Promise<T> =>
    retry(operation, {
      maxAttempts: 40,
      initialDelayMs: 10,
      factor: 1.5,
      maxDelayMs: 1_000,
      shouldRetry: (error) => error instanceof DriftguardError && error.details['serverCode'] === 286,
    });
  return {
    engine: store.engine,
    database: store.database,
    cluster: store.cluster,
    location: store.location,
    select: (operation, sql) => store.select(operation, sql),
    selectText: (operation, sql) => store.selectText(operation, sql),
    command: (operation, sql, options) => inTurn(() => store.command(operation, sql, options)),
    insert: (table, pieces, options) => inTurn(() => store.insert(table, pieces, options)),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
