import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findFreePorts } from './ports.js';
import { serviceDir } from './layout.js';
import { spawnDetached } from './process.js';
import {
  retryOnPortClash,
  waitForReady,
  type ServiceDriver,
  type ServiceRecord,
  type StartContext,
} from './service.js';

export interface ClickhouseConfigOptions {
  /** Folder that holds data/, logs/ and the config files. */
  dir: string;
  httpPort: number;
  tcpPort: number;
  interserverPort: number;
  /** Per-query memory cap (users.xml profile). @default 4 GiB */
  maxMemoryUsageBytes?: number;
  /** Mark and uncompressed block caches. @default 256 MiB each */
  cacheBytes?: number;
}

/**
 * A minimal `config.xml` that ClickHouse 18.16 (Debian) accepts and current releases still read
 * (`<yandex>` root): loopback only, every path under `dir`, logs to files and not the console,
 * small caches, UTC. No MySQL/PostgreSQL protocol ports: they are only opened when configured.
 */
export function renderClickhouseConfig(options: ClickhouseConfigOptions): string {
  const dir = options.dir.replace(/\/+$/, '');
  const cacheBytes = options.cacheBytes ?? 256 * 1024 * 1024;
  if (/[<>&"']/.test(dir))
    throw new Error(
      `ClickHouse folder ${JSON.stringify(dir)} holds XML special characters; move the checkout`,
    );
  return `<?xml version="1.0"?>
<!-- Written by \`driftguard dev-services up\`; rewritten on every start. -->
<yandex>
    <logger>
        <level>information</level>
        <log>${dir}/logs/clickhouse-server.log</log>
        <errorlog>${dir}/logs/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
        <console>0</console>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>${options.httpPort}</http_port>
    <tcp_port>${options.tcpPort}</tcp_port>
    <interserver_http_port>${options.interserverPort}</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>${cacheBytes}</uncompressed_cache_size>
    <mark_cache_size>${cacheBytes}</mark_cache_size>
    <path>${dir}/data/</path>
    <tmp_path>${dir}/data/tmp/</tmp_path>
    <user_files_path>${dir}/data/user_files/</user_files_path>
    <format_schema_path>${dir}/data/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <query_log>
        <database>system</database>
        <table>query_log</table>
        <partition_by>toYYYYMM(event_date)</partition_by>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds>
    </query_log>
</yandex>
`;
}

/** `users.xml`: the `default` user without a password, reachable from loopback only. */
export function renderClickhouseUsers(
  options: Pick<ClickhouseConfigOptions, 'maxMemoryUsageBytes'> = {},
): string {
  const maxMemoryUsageBytes = options.maxMemoryUsageBytes ?? 4 * 1024 * 1024 * 1024;
  return `<?xml version="1.0"?>
<!-- Written by \`driftguard dev-services up\`. Local development only: no password, loopback only. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>${maxMemoryUsageBytes}</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
`;
}

export const clickhouseDriver: ServiceDriver = {
  name: 'clickhouse',
  start(context: StartContext): Promise<ServiceRecord> {
    return retryOnPortClash(() => startOnce(context), context.logger);
  },
  async probe(record: ServiceRecord): Promise<boolean> {
    const port = record.ports['http'];
    return port !== undefined && (await clickhouseVersion(port)) !== undefined;
  },
};

async function startOnce(context: StartContext): Promise<ServiceRecord> {
  const dir = serviceDir(context.layout, 'clickhouse');
  const [httpPort = 0, tcpPort = 0, interserverPort = 0] = await findFreePorts(3);
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  const configFile = path.join(dir, 'config.xml');
  await writeFile(configFile, renderClickhouseConfig({ dir, httpPort, tcpPort, interserverPort }));
  await writeFile(path.join(dir, 'users.xml'), renderClickhouseUsers());
  const logFile = path.join(dir, 'logs', 'stdout.log');
  const command = context.binaries['clickhouse-server'];
  const pid = await spawnDetached(command, [`--config-file=${configFile}`], { logFile, cwd: dir });
  await waitForReady({
    name: 'clickhouse',
    pid,
    command,
    logFiles: [logFile, path.join(dir, 'logs', 'clickhouse-server.err.log')],
    timeoutMs: context.readyTimeoutMs,
    check: async () => (await clickhouseVersion(httpPort)) !== undefined,
  });
  return {
    name: 'clickhouse',
    pid,
    command,
    ports: { http: httpPort, tcp: tcpPort, interserver: interserverPort },
    logFile,
    startedAt: new Date().toISOString(),
  };
}

/** The server's `SELECT version()` over HTTP, or undefined when it does not answer. */
export async function clickhouseVersion(httpPort: number, timeoutMs = 2_000): Promise<string | undefined> {
  try {
    const response = await fetch(
      `http://127.0.0.1:${httpPort}/?query=${encodeURIComponent('SELECT version()')}`,
      {
        signal: AbortSignal.timeout(timeoutMs),
      },
    );
    const body = (await response.text()).trim();
    return response.ok && body !== '' ? body : undefined;
  } catch {
    // Refused or timed out: not answering (yet).
    return undefined;
  }
}
