import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { DriftguardError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';

/** A binary the services need and the Debian package that ships it. */
export type BinaryName = 'clickhouse-server' | 'clickhouse-client' | 'kcat' | 'prometheus' | 'zookeeper';

export interface RequiredBinary {
  binary: BinaryName;
  aptPackage: string;
  /** The local service that needs it. */
  service: 'clickhouse' | 'kafka' | 'prometheus';
  /** `apt-get install --no-install-recommends` (Prometheus recommends a lot we do not need). */
  noRecommends?: boolean;
}

export const requiredBinaries: readonly RequiredBinary[] = Object.freeze([
  { binary: 'clickhouse-server', aptPackage: 'clickhouse-server', service: 'clickhouse' },
  { binary: 'clickhouse-client', aptPackage: 'clickhouse-client', service: 'clickhouse' },
  { binary: 'kcat', aptPackage: 'kcat', service: 'kafka' },
  { binary: 'prometheus', aptPackage: 'prometheus', noRecommends: true, service: 'prometheus' },
]);

/** What the local ClickHouse cluster needs besides: ZooKeeper (Debian's brings a Java runtime). */
export const clusterBinaries: readonly RequiredBinary[] = Object.freeze([
  { binary: 'zookeeper', aptPackage: 'zookeeper', service: 'clickhouse' },
]);

/** Debian's ZooKeeper is a jar run by java, not an executable on PATH. */
export const zookeeperJar = '/usr/share/java/zookeeper.jar';

/** The ZooKeeper jar when it and a `java` to run it are installed. */
export function findZookeeper(jar = zookeeperJar): string | undefined {
  return existsSync(jar) && findBinary('java') !== undefined ? jar : undefined;
}

// Debian puts clickhouse-server in /usr/sbin, which is not on a normal user's PATH.
const extraDirs = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin', '/usr/local/sbin'];

/** The absolute path of an executable named `binary`, searching PATH then the system dirs. */
export function findBinary(
  binary: string,
  searchPath: string = process.env['PATH'] ?? '',
): string | undefined {
  const dirs = [...searchPath.split(path.delimiter).filter((dir) => dir !== ''), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here (or not executable): look in the next dir.
    }
  }
  return undefined;
}

/** The `apt-get` invocations that install `missing`: one update, then one install per flavour. */
export function aptCommands(missing: readonly RequiredBinary[]): string[][] {
  if (missing.length === 0) return [];
  const plain = unique(missing.filter((item) => item.noRecommends !== true).map((item) => item.aptPackage));
  const lean = unique(missing.filter((item) => item.noRecommends === true).map((item) => item.aptPackage));
  const commands = [['apt-get', 'update']];
  if (plain.length > 0) commands.push(['apt-get', 'install', '-y', ...plain]);
  if (lean.length > 0) commands.push(['apt-get', 'install', '-y', '--no-install-recommends', ...lean]);
  return commands;
}

/** The system as {@link ensureBinaries} sees it; tests pass a fake. */
export interface PackageHost {
  findBinary: (binary: BinaryName) => string | undefined;
  isRoot: boolean;
  /** Runs one apt-get command; rejects with its output tail when it fails. */
  run: (command: string[]) => Promise<void>;
}

export const debianHost: PackageHost = {
  findBinary: (binary) => (binary === 'zookeeper' ? findZookeeper() : findBinary(binary)),
  isRoot: process.getuid?.() === 0,
  run: runApt,
};

export interface EnsureBinariesOptions {
  /** Install what is missing with apt-get when running as root. @default true */
  install: boolean;
  logger: Logger;
  /** Also ZooKeeper, for the local cluster. @default false */
  cluster?: boolean;
  /** @default debianHost */
  host?: PackageHost;
  /** Only the binaries these services need. @default every service */
  services?: ReadonlyArray<RequiredBinary['service']>;
}

/**
 * Returns the absolute path of every required binary, installing the missing ones from
 * Debian when allowed and running as root. Otherwise fails with the commands to run.
 */
export async function ensureBinaries(options: EnsureBinariesOptions): Promise<Record<BinaryName, string>> {
  const host = options.host ?? debianHost;
  const wanted = [
    ...requiredBinaries.filter(
      (item) => options.services === undefined || options.services.includes(item.service),
    ),
    ...(options.cluster === true ? clusterBinaries : []),
  ];
  const missingNow = (): RequiredBinary[] =>
    wanted.filter((item) => host.findBinary(item.binary) === undefined);
  let missing = missingNow();
  if (missing.length > 0) {
    const commands = aptCommands(missing);
    const names = missing.map((item) => item.binary);
    if (!options.install || !host.isRoot) {
      const howTo = commands
        .map((command) => `${host.isRoot ? '' : 'sudo '}${command.join(' ')}`)
        .join(' && ');
      const why = host.isRoot
        ? 'installing was turned off by --no-install'
        : 'not running as root, so they cannot be installed here';
      throw new DriftguardError(
        'SERVICE_START_FAILED',
        `Missing ${names.join(', ')} (${why}). Install them with: ${howTo}`,
        {
          retriable: false,
          details: { missing: names },
        },
      );
    }
    options.logger.info(
      { packages: missing.map((item) => item.aptPackage) },
      'installing missing packages with apt-get',
    );
    for (const command of commands) await host.run(command);
    missing = missingNow();
    if (missing.length > 0) {
      throw new DriftguardError(
        'SERVICE_START_FAILED',
        `apt-get finished but ${missing.map((item) => item.binary).join(', ')} is still not found on PATH or in /usr/sbin, /usr/bin`,
        { retriable: false },
      );
    }
  }
  const located = (binary: BinaryName): string => host.findBinary(binary) ?? binary;
  return {
    'clickhouse-server': located('clickhouse-server'),
    'clickhouse-client': located('clickhouse-client'),
    kcat: located('kcat'),
    prometheus: located('prometheus'),
    // Only started for the cluster; without it the name stands in for a path never used.
    zookeeper: located('zookeeper'),
  };
}

async function runApt(command: string[]): Promise<void> {
  const [file = 'apt-get', ...args] = command;
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    const tail = Buffer.concat(output).toString('utf8').split('\n').slice(-20).join('\n');
    throw new DriftguardError(
      'SERVICE_START_FAILED',
      `${command.join(' ')} exited with ${String(code)}:\n${tail}`,
      { retriable: false },
    );
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
