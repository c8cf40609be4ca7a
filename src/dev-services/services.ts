import { readFile } from 'node:fs/promises';
import { DriftguardError, errorMessage } from '../../kernel/errors.js';
import { createLogger, type Logger } from '../../kernel/logger.js';
import { ensureBinaries } from './apt-install.js';
import { clickhouseDriver } from './clickhouse.js';
import {
  clusterDown,
  clusterProcessAnswers,
  clusterUp,
  clusterEndpointsFromEnv,
  clusterLayout,
  readClusterRecords,
  type ClusterEndpoints,
  type ClusterInfo,
} from './cluster.js';
import { endpointsFromEnv, endpointsToEnv, envNames, type ServicesEndpoints } from './endpoints.js';
import { formatEnvFile, parseEnvFile } from './env-file.js';
import { kafkaDriver } from './kafka.js';
import {
  serviceNames,
  serviceRecordFile,
  servicesLayout,
  type ServiceName,
  type ServicesLayout,
} from './layout.js';
import { withLock } from './lock.js';
import {
  isErrno,
  isProcessAlive,
  readJsonIfExists,
  removeFile,
  stopProcess,
  writeFileAtomic,
} from './process.js';
import { prometheusDriver, prometheusRulesDir, prometheusTargetsDir } from './prometheus.js';
import { serviceRecordSchema, type ServiceDriver, type ServiceRecord } from './service.js';

const drivers: Record<ServiceName, ServiceDriver> = {
  clickhouse: clickhouseDriver,
  kafka: kafkaDriver,
  prometheus: prometheusDriver,
};

export interface ServicesOptions {
  /** Repository root; services live in `<rootDir>/.driftguard/`. @default this checkout */
  rootDir?: string;
  /** @default a `dev-services` child of the driftguard logger at `info` */
  logger?: Logger;
}

export interface ServicesUpOptions extends ServicesOptions {
  /** apt-get install missing binaries when running as root. @default true */
  install?: boolean;
  /** How long each service may take to answer once spawned. @default 60_000 */
  readyTimeoutMs?: number;
  /**
   * Also the local ClickHouse cluster (ZooKeeper + 2 shards × 2 replicas; ZooKeeper installed
   * from Debian when missing), described in `.driftguard/cluster.env`. @default false
   */
  cluster?: boolean;
}

export interface ServiceInfo extends ServiceRecord {
  /** True when `up` found it running and answering, false when it started it. */
  reused: boolean;
}

export interface ServicesInfo extends ServicesEndpoints {
  /** `.driftguard/services.env`, which holds {@link ServicesInfo.env}. */
  envFile: string;
  /** The variables written to the env file. */
  env: Record<string, string>;
  services: Record<ServiceName, ServiceInfo>;
  /** The local ClickHouse cluster, when `up` was asked for it. */
  cluster?: ClusterInfo;
}

export type ServiceState = 'up' | 'down' | 'unresponsive';

export interface ServiceStatus {
  /** A service, or a process of the local cluster (`zookeeper`, `clickhouse-<shard>-<replica>`). */
  name: string;
  /** `up`: alive and answering; `unresponsive`: alive, not answering; `down`: not running. */
  state: ServiceState;
  pid: number | null;
  ports: Record<string, number>;
  logFile: string | null;
}

function resolve(options: ServicesOptions): { layout: ServicesLayout; logger: Logger } {
  const logger = (options.logger ?? createLogger('info')).child({ component: 'dev-services' });
  return { layout: servicesLayout(options.rootDir), logger };
}

/**
 * Starts ClickHouse, the Kafka mock cluster and Prometheus (installing them when missing and
 * allowed), reusing each one that is already running and answering, then writes `services.env`.
 * Safe to call concurrently from several processes: they serialise on a lock file.
 */
export async function servicesUp(options: ServicesUpOptions = {}): Promise<ServicesInfo> {
  const { layout, logger } = resolve(options);
  return withLock(layout.lockFile, async () => {
    const started = await ensureServices(serviceNames, layout, logger, options);
    const { clickhouse, kafka, prometheus } = started.services;
    if (clickhouse === undefined || kafka === undefined || prometheus === undefined) {
      throw new DriftguardError('INTERNAL', 'a service result is missing', { retriable: false });
    }
    const endpoints: ServicesEndpoints = {
      kafkaBrokers: `127.0.0.1:${port(kafka, 'broker')}`,
      clickhouseUrl: `http://127.0.0.1:${port(clickhouse, 'http')}`,
      clickhouseTcpPort: port(clickhouse, 'tcp'),
      prometheusUrl: `http://127.0.0.1:${port(prometheus, 'http')}`,
      prometheusTargetsDir: prometheusTargetsDir(layout),
      prometheusRulesDir: prometheusRulesDir(layout),
    };
    const env = endpointsToEnv(endpoints);
    const header =
      'Local services of driftguard, written by `npx driftguard dev-services up`.\nLoad into a shell with: set -a; . .driftguard/services.env; set +a';
    await writeFileAtomic(layout.envFile, formatEnvFile(env, header));
    logger.info({ envFile: layout.envFile, ...endpoints }, 'local services are up');
    const services = { clickhouse, kafka, prometheus };
    if (options.cluster !== true) return { ...endpoints, envFile: layout.envFile, env, services };
    const cluster = await clusterUp({
      layout,
      clickhouseServer: started.binaries['clickhouse-server'],
      zookeeperJar: started.binaries.zookeeper,
      logger,
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    });
    logger.info({ envFile: cluster.envFile, nodes: cluster.nodeUrls }, 'local ClickHouse cluster is up');
    return { ...endpoints, envFile: layout.envFile, env, services, cluster };
  });
}

/** The Kafka broker and Prometheus, for a daemon that stores in its embedded engine. */
export interface BrokerServicesInfo {
  kafkaBrokers: string;
  prometheusUrl: string;
  prometheusTargetsDir: string;
  prometheusRulesDir: string;
  /** Their variables (no ClickHouse ones): what a daemon's environment needs. */
  env: Record<string, string>;
}

/**
 * Starts (or reuses) the Kafka mock cluster and Prometheus only: no ClickHouse server is
 * installed or started. `services.env` is left as it is (it describes the full set).
 */
export async function brokerServicesUp(options: ServicesUpOptions = {}): Promise<BrokerServicesInfo> {
  const { layout, logger } = resolve(options);
  return withLock(layout.lockFile, async () => {
    const { kafka, prometheus } = (await ensureServices(['kafka', 'prometheus'], layout, logger, options))
      .services;
    if (kafka === undefined || prometheus === undefined) {
      throw new DriftguardError('INTERNAL', 'a service result is missing', { retriable: false });
    }
    const info = {
      kafkaBrokers: `127.0.0.1:${port(kafka, 'broker')}`,
      prometheusUrl: `http://127.0.0.1:${port(prometheus, 'http')}`,
      prometheusTargetsDir: prometheusTargetsDir(layout),
      prometheusRulesDir: prometheusRulesDir(layout),
    };
    const env = {
      [envNames.kafkaBrokers]: info.kafkaBrokers,
      [envNames.prometheusUrl]: info.prometheusUrl,
      [envNames.prometheusTargetsDir]: info.prometheusTargetsDir,
      [envNames.prometheusRulesDir]: info.prometheusRulesDir,
    };
    logger.info(info, 'Kafka broker and Prometheus are up');
    return { ...info, env };
  });
}

/** Installs what `names` need, then starts or reuses each of them side by side. */
async function ensureServices(
  names: readonly ServiceName[],
  layout: ServicesLayout,
  logger: Logger,
  options: ServicesUpOptions,
): Promise<{
  services: Partial<Record<ServiceName, ServiceInfo>>;
  binaries: Awaited<ReturnType<typeof ensureBinaries>>;
}> {
  const binaries = await ensureBinaries({
    install: options.install ?? true,
    logger,
    services: names,
    cluster: options.cluster === true,
  });
  const context = { layout, binaries, logger, readyTimeoutMs: options.readyTimeoutMs ?? 60_000 };
  // Started side by side: ClickHouse's start-up dominates, the others hide behind it.
  const results = await Promise.allSettled(names.map((name) => ensureService(drivers[name], context)));
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [result.reason as unknown] : [],
  );
  if (failures.length > 0) {
    const [first] = failures;
    if (failures.length === 1 && first instanceof DriftguardError) throw first;
    throw new DriftguardError('SERVICE_START_FAILED', failures.map(errorMessage).join('\n\n'), {
      retriable: true,
      cause: first,
    });
  }
  return {
    services: Object.fromEntries(
      names.map((name, i) => [name, (results[i] as PromiseFulfilledResult<ServiceInfo>).value]),
    ),
    binaries,
  };
}

function port(record: ServiceRecord, role: string): number {
  const value = record.ports[role];
  if (value === undefined)
    throw new DriftguardError('INTERNAL', `${record.name} has no ${role} port`, { retriable: false });
  return value;
}

async function ensureService(
  driver: ServiceDriver,
  context: Parameters<ServiceDriver['start']>[0],
): Promise<ServiceInfo> {
  const { layout, logger } = context;
  const recordFile = serviceRecordFile(layout, driver.name);
  const record = await readRecord(layout, driver.name);
  if (record !== undefined) {
    if (isProcessAlive(record.pid, record.command)) {
      if (await driver.probe(record)) {
        logger.info(
          { devService: driver.name, pid: record.pid, ports: record.ports },
          'reusing running service',
        );
        return { ...record, reused: true };
      }
      logger.warn(
        { devService: driver.name, pid: record.pid },
        'service is running but does not answer; restarting it',
      );
      await stopProcess(record.pid, { expectedCommand: record.command });
    } else {
      logger.warn(
        { devService: driver.name, pid: record.pid },
        'recorded service is no longer running; restarting it',
      );
    }
    await removeFile(recordFile);
  }
  logger.info({ devService: driver.name }, 'starting service');
  const started = await driver.start(context);
  await writeFileAtomic(recordFile, `${JSON.stringify(started, null, 2)}\n`);
  logger.info({ devService: driver.name, pid: started.pid, ports: started.ports }, 'service is up');
  return { ...started, reused: false };
}

async function readRecord(layout: ServicesLayout, name: ServiceName): Promise<ServiceRecord | undefined> {
  const raw = await readJsonIfExists(serviceRecordFile(layout, name));
  if (raw === undefined) return undefined;
  const parsed = serviceRecordSchema.safeParse(raw);
  // A record this version cannot read is treated as absent: the service gets started afresh.
  return parsed.success && parsed.data.name === name ? parsed.data : undefined;
}

/**
 * Stops every recorded service and the local cluster, and removes the pid records,
 * `services.env` and `cluster.env`.
 */
export async function servicesDown(options: ServicesOptions = {}): Promise<ServiceStatus[]> {
  const { layout, logger } = resolve(options);
  return withLock(layout.lockFile, async () => {
    const stopped = await Promise.all(
      serviceNames.map(async (name): Promise<ServiceStatus> => {
        const record = await readRecord(layout, name);
        if (record !== undefined) {
          await stopProcess(record.pid, { expectedCommand: record.command });
          logger.info({ devService: name, pid: record.pid }, 'stopped service');
        }
        await removeFile(serviceRecordFile(layout, name));
        return { name, state: 'down', pid: null, ports: {}, logFile: record?.logFile ?? null };
      }),
    );
    await removeFile(layout.envFile);
    const cluster = await clusterDown(layout, logger);
    return [
      ...stopped,
      ...cluster.map((record): ServiceStatus => ({
        name: record.name,
        state: 'down',
        pid: null,
        ports: {},
        logFile: record.logFile,
      })),
    ];
  });
}

/** Each service's state, from its pid record, process table and a probe. Changes nothing. */
export async function servicesStatus(
  options: Pick<ServicesOptions, 'rootDir'> = {},
): Promise<ServiceStatus[]> {
  const layout = servicesLayout(options.rootDir);
  const cluster = await Promise.all(
    (await readClusterRecords(layout)).map(async (record): Promise<ServiceStatus> => {
      const alive = isProcessAlive(record.pid, record.command);
      const state: ServiceState = !alive
        ? 'down'
        : (await clusterProcessAnswers(record))
          ? 'up'
          : 'unresponsive';
      return {
        name: record.name,
        state,
        pid: alive ? record.pid : null,
        ports: record.ports,
        logFile: record.logFile,
      };
    }),
  );
  const services = await Promise.all(
    serviceNames.map(async (name): Promise<ServiceStatus> => {
      const record = await readRecord(layout, name);
      if (record === undefined) return { name, state: 'down', pid: null, ports: {}, logFile: null };
      const alive = isProcessAlive(record.pid, record.command);
      const state: ServiceState = !alive
        ? 'down'
        : (await drivers[name].probe(record))
          ? 'up'
          : 'unresponsive';
      return { name, state, pid: alive ? record.pid : null, ports: record.ports, logFile: record.logFile };
    }),
  );
  return [...services, ...cluster];
}

/**
 * The variables of `.driftguard/services.env` (written by `servicesUp`). Fails with the command
 * to run when the file does not exist.
 */
export async function readServicesEnv(
  options: Pick<ServicesOptions, 'rootDir'> = {},
): Promise<Record<string, string>> {
  const { envFile } = servicesLayout(options.rootDir);
  try {
    return parseEnvFile(await readFile(envFile, 'utf8'));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) {
      throw new DriftguardError(
        'SERVICE_START_FAILED',
        `${envFile} does not exist: start the services with \`npx driftguard dev-services up\``,
        {
          retriable: false,
          cause: error,
        },
      );
    }
    throw error;
  }
}

/** {@link readServicesEnv}, typed. */
export async function readServicesEndpoints(
  options: Pick<ServicesOptions, 'rootDir'> = {},
): Promise<ServicesEndpoints> {
  return endpointsFromEnv(await readServicesEnv(options));
}

/**
 * The local cluster's endpoints from `.driftguard/cluster.env` (written by
 * `servicesUp({ cluster: true })`). Fails with the command to run when it does not exist.
 */
export async function readClusterEndpoints(
  options: Pick<ServicesOptions, 'rootDir'> = {},
): Promise<ClusterEndpoints> {
  const { envFile } = clusterLayout(servicesLayout(options.rootDir));
  try {
    return clusterEndpointsFromEnv(parseEnvFile(await readFile(envFile, 'utf8')));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) {
      throw new DriftguardError(
        'SERVICE_START_FAILED',
        `${envFile} does not exist: start the cluster with \`npx driftguard dev-services up --cluster\``,
        { retriable: false, cause: error },
      );
    }
    throw error;
  }
}
