import { InvalidArgumentError, type Command } from 'commander';
import { createLogger } from '../../kernel/logger.js';
import {
  servicesDown,
  servicesStatus,
  servicesUp,
  type ServiceStatus,
  type ServicesInfo,
} from '../dev-services/index.js';

/**
 * `driftguard dev-services up|down|status`: the local ClickHouse, Kafka (mock cluster) and
 * Prometheus that development and integration tests use. Progress is logged (JSON) to stderr;
 * results go to stdout, as a table or as JSON with `--json`.
 */
export function registerDevServicesCommand(program: Command): void {
  const devServices = program
    .command('dev-services')
    .description(
      'Run the local ClickHouse, Kafka (librdkafka mock cluster) and Prometheus used in development and tests.',
    );

  devServices
    .command('up')
    .description(
      'Start the services that are not running (installing them with apt-get when root) and write .driftguard/services.env.',
    )
    .option('--json', 'print the result as JSON')
    .option(
      '--cluster',
      'also start a local ClickHouse cluster (ZooKeeper + 2 shards x 2 replicas) and write .driftguard/cluster.env',
    )
    .option('--no-install', 'fail instead of running apt-get when a binary is missing')
    .option('--timeout <seconds>', 'how long each service may take to answer', parsePositive, 60)
    .option('--log-level <level>', 'progress log level on stderr', 'info')
    .action(
      async (options: {
        json?: boolean;
        cluster?: boolean;
        install: boolean;
        timeout: number;
        logLevel: string;
      }) => {
        const info = await servicesUp({
          cluster: options.cluster === true,
          install: options.install,
          readyTimeoutMs: options.timeout * 1000,
          logger: createLogger(parseLevel(options.logLevel)),
        });
        process.stdout.write(options.json === true ? `${JSON.stringify(info, null, 2)}\n` : formatUp(info));
      },
    );

  devServices
    .command('status')
    .description(
      'Show each service (and each process of the local cluster), its pid, ports and whether it answers.',
    )
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const statuses = await servicesStatus();
      process.stdout.write(
        options.json === true ? `${JSON.stringify(statuses, null, 2)}\n` : formatStatusTable(statuses),
      );
    });

  devServices
    .command('down')
    .description(
      'Stop the services and the local cluster, and remove their pid records, services.env and cluster.env (data stays in .driftguard/services/).',
    )
    .option('--log-level <level>', 'progress log level on stderr', 'info')
    .action(async (options: { logLevel: string }) => {
      const statuses = await servicesDown({ logger: createLogger(parseLevel(options.logLevel)) });
      process.stdout.write(`Stopped ${statuses.map((status) => status.name).join(', ')}.\n`);
    });
}

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof levels)[number];

function parseLevel(value: string): Level {
  const level = levels.find((candidate) => candidate === value);
  if (level === undefined)
    throw new Error(`--log-level must be one of ${levels.join(', ')}, not ${JSON.stringify(value)}`);
  return level;
}

function parsePositive(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError('expected a positive number of seconds.');
  }
  return number;
}

function formatUp(info: ServicesInfo): string {
  const lines = Object.values(info.services).map(
    (service) =>
      `  ${service.name.padEnd(11)} pid ${String(service.pid).padEnd(8)} ${service.reused ? 'reused' : 'started'}`,
  );
  const env = Object.entries(info.env).map(([key, value]) => `  ${key}=${value}`);
  const up = `Services are up:\n${lines.join('\n')}\nWrote ${info.envFile}:\n${env.join('\n')}\n`;
  if (info.cluster === undefined) return up;
  const nodes = info.cluster.processes.map(
    (process) =>
      `  ${process.name.padEnd(16)} pid ${String(process.pid).padEnd(8)} ${process.reused ? 'reused' : 'started'}`,
  );
  const clusterEnv = Object.entries(info.cluster.env).map(([key, value]) => `  ${key}=${value}`);
  return `${up}Cluster ${info.cluster.cluster} is up:\n${nodes.join('\n')}\nWrote ${info.cluster.envFile}:\n${clusterEnv.join('\n')}\n`;
}

/** A plain-text table: service, state, pid, ports. */
export function formatStatusTable(statuses: readonly ServiceStatus[]): string {
  const rows = [
    ['SERVICE', 'STATE', 'PID', 'PORTS'],
    ...statuses.map((status) => [
      status.name,
      status.state,
      status.pid === null ? '-' : String(status.pid),
      Object.entries(status.ports)
        .map(([role, port]) => `${role}=${port}`)
        .join(' ') || '-',
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return `${rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
