import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DriftguardError, errorMessage } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import { clickhouseVersion, renderClickhouseConfig, renderClickhouseUsers } from './clickhouse.js';
import { formatEnvFile } from './env-file.js';
import type { ServicesLayout } from './layout.js';
import { findFreePorts } from './ports.js';
import {
  isProcessAlive,
  readJsonIfExists,
  removeFile,
  spawnDetached,
  stopProcess,
  writeFileAtomic,
} from './process.js';
import { serviceRecordSchema, waitForReady, type ServiceRecord } from './service.js';
import { startZookeeper, zookeeperAnswers } from './zookeeper.js';

/**
 * A local ClickHouse cluster for development and tests: one ZooKeeper and 2 shards × 2 replicas
 * of ClickHouse 18.16, each node a process of its own on free loopback ports, with its config,
 * data and logs under `.driftguard/services/cluster/<node>/`. `.driftguard/cluster.env` says how
 * to reach it. Data survives `down`/`up`; `up` reuses a cluster whose every process answers and
 * otherwise restarts all of it on fresh ports (the node configs name each other's ports).
 */
export const devCluster = Object.freeze({ name: 'driftguard', shards: 2, replicasPerShard: 2 });

export interface ClusterNodeSpec {
  /** `clickhouse-<shard>-<replica>`: also the node's `{replica}` macro. */
  name: string;
  shard: number;
  replica: number;
  httpPort: number;
  tcpPort: number;
  interserverPort: number;
}

export interface ClusterNodeConfigOptions {
  cluster: string;
  nodes: readonly ClusterNodeSpec[];
  self: ClusterNodeSpec;
  zookeeperPort: number;
  /** How long ZooKeeper keeps a dead node's session (and its "replica is active" flag). @default 6000 */
  sessionTimeoutMs?: number;
}

/**
 * `config.d/cluster.xml`, merged into the node's config.xml: the cluster in `remote_servers`
 * (each shard's replicas, `internal_replication` so a Distributed insert writes one replica and
 * the replicated table copies it), the node's `{shard}` / `{replica}` macros, ZooKeeper, and the
 * ON CLUSTER DDL queue.
 */
export function renderClusterNodeConfig(options: ClusterNodeConfigOptions): string {
  const shards = [...new Set(options.nodes.map((node) => node.shard))].sort((a, b) => a - b);
  const shardXml = shards
    .map((shard) => {
      const replicas = options.nodes
        .filter((node) => node.shard === shard)
        .map((node) => `<replica><host>127.0.0.1</host><port>${node.tcpPort}</port></replica>`)
        .join('');
      return `            <shard><internal_replication>true</internal_replication>${replicas}</shard>`;
    })
    .join('\n');
  return `<?xml version="1.0"?>
<!-- Written by driftguard dev-services (the local cluster); rewritten on every start. -->
<yandex>
    <remote_servers>
        <${options.cluster}>
${shardXml}
        </${options.cluster}>
    </remote_servers>
    <macros>
        <shard>${options.self.shard}</shard>
        <replica>${options.self.name}</replica>
    </macros>
    <zookeeper>
        <node><host>127.0.0.1</host><port>${options.zookeeperPort}</port></node>
        <session_timeout_ms>${options.sessionTimeoutMs ?? 6_000}</session_timeout_ms>
    </zookeeper>
    <distributed_ddl>
        <path>/clickhouse/task_queue/ddl</path>
    </distributed_ddl>
    <!-- A replica killed mid-insert can hold a part written locally but never committed to
         ZooKeeper. 18.16 counts such just-written parts as suspicious, and refuses to start
         (TOO_MANY_UNEXPECTED_DATA_PARTS) once they exceed this share of the table's rows (0.5 by
         default) — which one batch does on a small table. At 1 the check never refuses: the
         part is moved to detached/ (as ignored_<part>) and the replica fetches what ZooKeeper
         lists. The local cluster holds small test tables, where the check guards nothing. -->
    <merge_tree>
        <replicated_max_ratio_of_wrong_parts>1</replicated_max_ratio_of_wrong_parts>
    </merge_tree>
</yandex>
`;
}

/** The nodes of a cluster of `shards` × `replicas`, given 3 ports per node in order. */
export function clusterNodes(shards: number, replicas: number, ports: readonly number[]): ClusterNodeSpec[] {
  const nodes: ClusterNodeSpec[] = [];
  for (let shard = 1; shard <= shards; shard++) {
    for (let replica = 1; replica <= replicas; replica++) {
      const at = nodes.length * 3;
      nodes.push({
        name: `clickhouse-${shard}-${replica}`,
        shard,
        replica,
        httpPort: ports[at] ?? 0,
        tcpPort: ports[at + 1] ?? 0,
        interserverPort: ports[at + 2] ?? 0,
      });
    }
  }
  return nodes;
}

/** How to reach the cluster: what `.driftguard/cluster.env` holds. */
export interface ClusterEndpoints {
  /** The `remote_servers` name, for `clickhouse.cluster`. */
  cluster: string;
  /** One node's HTTP URL (shard 1, replica 1), for `clickhouse.url`. */
  clickhouseUrl: string;
  /** Every node's HTTP URL, shard by shard. */
  nodeUrls: string[];
  /** `127.0.0.1:<port>` of ZooKeeper. */
  zookeeper: string;
}

export const clusterEnvNames = Object.freeze({
  clickhouseUrl: 'DRIFTGUARD_CLICKHOUSE_URL',
  cluster: 'DRIFTGUARD_CLICKHOUSE_CLUSTER',
  nodeUrls: 'DRIFTGUARD_CLICKHOUSE_NODES',
  zookeeper: 'DRIFTGUARD_ZOOKEEPER',
} satisfies Record<keyof ClusterEndpoints, string>);

export function clusterEndpointsToEnv(endpoints: ClusterEndpoints): Record<string, string> {
  return {
    [clusterEnvNames.clickhouseUrl]: endpoints.clickhouseUrl,
    [clusterEnvNames.cluster]: endpoints.cluster,
    [clusterEnvNames.nodeUrls]: endpoints.nodeUrls.join(','),
    DRIFTGUARD_CLICKHOUSE_USER: 'default',
    [clusterEnvNames.zookeeper]: endpoints.zookeeper,
  };
}

/** Reads {@link ClusterEndpoints} back from `cluster.env` variables; fails naming a missing one. */
export function clusterEndpointsFromEnv(env: Readonly<Record<string, string | undefined>>): ClusterEndpoints {
  const get = (key: keyof ClusterEndpoints): string => {
    const value = env[clusterEnvNames[key]];
    if (value === undefined || value === '') throw new Error(`${clusterEnvNames[key]} is not set`);
    return value;
  };
  return {
    cluster: get('cluster'),
    clickhouseUrl: get('clickhouseUrl'),
    nodeUrls: get('nodeUrls').split(','),
    zookeeper: get('zookeeper'),
  };
}

export interface ClusterLayout {
  /** `.driftguard/services/cluster`: every node's folder and every pid record. */
  dir: string;
  /** `.driftguard/cluster.env`. */
  envFile: string;
}

export function clusterLayout(layout: ServicesLayout): ClusterLayout {
  return {
    dir: path.join(layout.servicesDir, 'cluster'),
    envFile: path.join(layout.rootDir, '.driftguard', 'cluster.env'),
  };
}

export interface ClusterProcess extends ServiceRecord {
  /** True when `up` found it running and answering. */
  reused: boolean;
}

export interface ClusterInfo extends ClusterEndpoints {
  envFile: string;
  env: Record<string, string>;
  processes: ClusterProcess[];
}

export interface ClusterUpContext {
  layout: ServicesLayout;
  clickhouseServer: string;
  zookeeperJar: string;
  logger: Logger;
  readyTimeoutMs: number;
}

const recordFile = (cluster: ClusterLayout, name: string): string =>
  path.join(cluster.dir, `${name}.pid.json`);

/** The recorded processes of the cluster (ZooKeeper first), whatever their state. */
export async function readClusterRecords(layout: ServicesLayout): Promise<ServiceRecord[]> {
  const cluster = clusterLayout(layout);
  let files: string[];
  try {
    files = await readdir(cluster.dir);
  } catch {
    return [];
  }
  const records: ServiceRecord[] = [];
  for (const file of files.filter((name) => name.endsWith('.pid.json')).sort()) {
    const parsed = serviceRecordSchema.safeParse(await readJsonIfExists(path.join(cluster.dir, file)));
    if (parsed.success) records.push(parsed.data);
  }
  return records.sort((a, b) => Number(b.name === 'zookeeper') - Number(a.name === 'zookeeper'));
}

/** Whether a recorded cluster process runs and answers. Never throws. */
export async function clusterProcessAnswers(record: ServiceRecord): Promise<boolean> {
  if (!isProcessAlive(record.pid, record.command)) return false;
  if (record.name === 'zookeeper') {
    const port = record.ports['client'];
    return port !== undefined && (await zookeeperAnswers(port));
  }
  const port = record.ports['http'];
  return port !== undefined && (await clickhouseVersion(port)) !== undefined;
}

/**
 * Starts the cluster, or reuses it when every recorded process answers, and writes
 * `cluster.env`. Call it under the services lock.
 */
export async function clusterUp(context: ClusterUpContext): Promise<ClusterInfo> {
  const cluster = clusterLayout(context.layout);
  const records = await readClusterRecords(context.layout);
  const expected = 1 + devCluster.shards * devCluster.replicasPerShard;
  const answering = await Promise.all(records.map(clusterProcessAnswers));
  let processes: ClusterProcess[];
  if (records.length === expected && answering.every(Boolean)) {
    context.logger.info({ cluster: devCluster.name }, 'reusing the running ClickHouse cluster');
    processes = records.map((record) => ({ ...record, reused: true }));
  } else {
    if (records.length > 0) {
      context.logger.warn(
        { cluster: devCluster.name, answering: answering.filter(Boolean).length, of: expected },
        'the cluster is partly down; restarting all of it on fresh ports',
      );
      await clusterDown(context.layout, context.logger);
    }
    processes = await startCluster(context, cluster);
  }
  const endpoints = endpointsOf(processes);
  const env = clusterEndpointsToEnv(endpoints);
  const header = `Local ClickHouse cluster (${devCluster.shards} shards x ${devCluster.replicasPerShard} replicas) of driftguard, written by \`npx driftguard dev-services up --cluster\`.\nLoad into a shell after services.env with: set -a; . .driftguard/cluster.env; set +a`;
  await writeFileAtomic(cluster.envFile, formatEnvFile(env, header));
  return { ...endpoints, envFile: cluster.envFile, env, processes };
}

async function startCluster(context: ClusterUpContext, cluster: ClusterLayout): Promise<ClusterProcess[]> {
  const started = Date.now();
  const count = devCluster.shards * devCluster.replicasPerShard;
  const [zookeeperPort = 0, ...ports] = await findFreePorts(1 + 3 * count);
  const nodes = clusterNodes(devCluster.shards, devCluster.replicasPerShard, ports);
  const records: ServiceRecord[] = [];
  const keep = async (record: ServiceRecord): Promise<void> => {
    records.push(record);
    await writeFileAtomic(recordFile(cluster, record.name), `${JSON.stringify(record, null, 2)}\n`);
  };
  try {
    await keep(
      await startZookeeper({
        dir: path.join(cluster.dir, 'zookeeper'),
        port: zookeeperPort,
        jar: context.zookeeperJar,
        readyTimeoutMs: context.readyTimeoutMs,
      }),
    );
    const results = await Promise.allSettled(
      nodes.map(async (node) => keep(await startNode(context, cluster, nodes, node, zookeeperPort))),
    );
    const failed = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    if (failed.length > 0) {
      throw new DriftguardError('SERVICE_START_FAILED', failed.map(errorMessage).join('\n\n'), {
        retriable: true,
        cause: failed[0],
      });
    }
  } catch (error) {
    // Half a cluster is no use: stop what started so the next `up` begins clean.
    await clusterDown(context.layout, context.logger);
    throw error;
  }
  context.logger.info(
    { cluster: devCluster.name, nodes: nodes.length, startupMs: Date.now() - started },
    'ClickHouse cluster is up',
  );
  return records.map((record) => ({ ...record, reused: false }));
}

async function startNode(
  context: ClusterUpContext,
  cluster: ClusterLayout,
  nodes: readonly ClusterNodeSpec[],
  node: ClusterNodeSpec,
  zookeeperPort: number,
): Promise<ServiceRecord> {
  const dir = path.join(cluster.dir, node.name);
  await writeClusterNodeFiles(dir, nodes, node, zookeeperPort);
  const logFile = path.join(dir, 'logs', 'stdout.log');
  const command = context.clickhouseServer;
  const pid = await spawnDetached(command, [`--config-file=${path.join(dir, 'config.xml')}`], {
    logFile,
    cwd: dir,
  });
  await waitForReady({
    name: node.name,
    pid,
    command,
    logFiles: [logFile, path.join(dir, 'logs', 'clickhouse-server.err.log')],
    timeoutMs: context.readyTimeoutMs,
    check: async () => (await clickhouseVersion(node.httpPort)) !== undefined,
  });
  return {
    name: node.name,
    pid,
    command,
    ports: { http: node.httpPort, tcp: node.tcpPort, interserver: node.interserverPort },
    logFile,
    startedAt: new Date().toISOString(),
  };
}

/** Writes a node's config.xml, users.xml and config.d/cluster.xml into `dir`. */
export async function writeClusterNodeFiles(
  dir: string,
  nodes: readonly ClusterNodeSpec[],
  node: ClusterNodeSpec,
  zookeeperPort: number,
  cluster: string = devCluster.name,
): Promise<void> {
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  await mkdir(path.join(dir, 'config.d'), { recursive: true });
  await writeFile(
    path.join(dir, 'config.xml'),
    renderClickhouseConfig({
      dir,
      httpPort: node.httpPort,
      tcpPort: node.tcpPort,
      interserverPort: node.interserverPort,
      // Four servers on one small machine: small caches and a per-query cap.
      cacheBytes: 64 * 1024 * 1024,
      maxMemoryUsageBytes: 2 * 1024 ** 3,
    }),
  );
  await writeFile(path.join(dir, 'users.xml'), renderClickhouseUsers({ maxMemoryUsageBytes: 2 * 1024 ** 3 }));
  await writeFile(
    path.join(dir, 'config.d', 'cluster.xml'),
    renderClusterNodeConfig({ cluster, nodes, self: node, zookeeperPort }),
  );
}

function endpointsOf(processes: readonly ServiceRecord[]): ClusterEndpoints {
  const zookeeper = processes.find((record) => record.name === 'zookeeper');
  const nodes = processes
    .filter((record) => record.name !== 'zookeeper')
    .sort((a, b) => a.name.localeCompare(b.name));
  const nodeUrls = nodes.map((record) => `http://127.0.0.1:${record.ports['http'] ?? 0}`);
  const [first] = nodeUrls;
  if (zookeeper === undefined || first === undefined) {
    throw new DriftguardError('INTERNAL', 'the cluster has no ZooKeeper or no node recorded', {
      retriable: false,
    });
  }
  return {
    cluster: devCluster.name,
    clickhouseUrl: first,
    nodeUrls,
    zookeeper: `127.0.0.1:${zookeeper.ports['client'] ?? 0}`,
  };
}

/** Stops every cluster process (nodes first, ZooKeeper last) and removes their records and cluster.env. */
export async function clusterDown(layout: ServicesLayout, logger: Logger): Promise<ServiceRecord[]> {
  const cluster = clusterLayout(layout);
  const records = await readClusterRecords(layout);
  const nodes = records.filter((record) => record.name !== 'zookeeper');
  await Promise.all(nodes.map((record) => stopRecorded(cluster, record, logger)));
  for (const record of records.filter((r) => r.name === 'zookeeper'))
    await stopRecorded(cluster, record, logger);
  await removeFile(cluster.envFile);
  return records;
}

async function stopRecorded(cluster: ClusterLayout, record: ServiceRecord, logger: Logger): Promise<void> {
  await stopProcess(record.pid, { expectedCommand: record.command });
  await removeFile(recordFile(cluster, record.name));
  logger.info({ devService: record.name, pid: record.pid }, 'stopped service');
}
