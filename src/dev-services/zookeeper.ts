import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { DriftguardError } from '../../kernel/errors.js';
import { findBinary } from './apt-install.js';
import { spawnDetached } from './process.js';
import { waitForReady, type ServiceRecord } from './service.js';

/**
 * A standalone ZooKeeper (Debian's `zookeeper` package: a jar run by java) for the local
 * ClickHouse cluster: replication logs, the ON CLUSTER DDL queue and insert quorums live in it.
 */
export interface ZookeeperConfigOptions {
  dataDir: string;
  clientPort: number;
  /**
   * ZooKeeper's time unit; sessions may last 2 to 20 ticks. 500 ms lets ClickHouse ask for a
   * 6 s session, so a killed replica's session (and its "active" flag) expires quickly.
   * @default 500
   */
  tickTimeMs?: number;
}

/** `zoo.cfg`: loopback only, no admin HTTP server, the `srvr` (and `ruok`) probes allowed. */
export function renderZookeeperConfig(options: ZookeeperConfigOptions): string {
  const tickTimeMs = options.tickTimeMs ?? 500;
  return [
    '# Written by `driftguard dev-services up --cluster`; rewritten on every start.',
    `tickTime=${tickTimeMs}`,
    `dataDir=${options.dataDir}`,
    `clientPort=${options.clientPort}`,
    'clientPortAddress=127.0.0.1',
    'admin.enableServer=false',
    '4lw.commands.whitelist=ruok,srvr',
    `maxSessionTimeout=${tickTimeMs * 20}`,
    // Snapshots and logs of a development cluster need not pile up.
    'autopurge.snapRetainCount=3',
    'autopurge.purgeInterval=1',
    '',
  ].join('\n');
}

export interface StartZookeeperOptions {
  /** Folder for zoo.cfg, data/ and the log. */
  dir: string;
  port: number;
  /** The ZooKeeper jar (see findZookeeper). */
  jar: string;
  readyTimeoutMs: number;
}

/** Starts ZooKeeper detached and resolves once it serves clients. */
export async function startZookeeper(options: StartZookeeperOptions): Promise<ServiceRecord> {
  const java = findBinary('java');
  if (java === undefined) {
    throw new DriftguardError(
      'SERVICE_START_FAILED',
      'java is not installed: apt-get install -y zookeeper brings it',
      {
        retriable: false,
      },
    );
  }
  const dataDir = path.join(options.dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const configFile = path.join(options.dir, 'zoo.cfg');
  await writeFile(configFile, renderZookeeperConfig({ dataDir, clientPort: options.port }));
  const logFile = path.join(options.dir, 'zookeeper.log');
  // slf4j-simple, when Debian has it, turns ZooKeeper's silence into warnings on stderr (the log).
  const logging = '/usr/share/java/slf4j-simple.jar';
  const classPath = existsSync(logging) ? `${options.jar}:${logging}` : options.jar;
  const pid = await spawnDetached(
    java,
    [
      '-Xms16m',
      '-Xmx128m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      classPath,
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      configFile,
    ],
    { logFile, cwd: options.dir },
  );
  await waitForReady({
    name: 'zookeeper',
    pid,
    command: java,
    logFiles: [logFile],
    timeoutMs: options.readyTimeoutMs,
    check: () => zookeeperAnswers(options.port),
  });
  return {
    name: 'zookeeper',
    pid,
    command: java,
    ports: { client: options.port },
    logFile,
    startedAt: new Date().toISOString(),
  };
}

/**
 * Whether ZooKeeper on `port` serves clients: its `srvr` four-letter command reports a mode.
 * (`ruok` is not enough: it answers `imok` while ZooKeeper is still loading its data and refuses
 * sessions, and a ClickHouse node that starts then cannot load its replicated tables.)
 */
export function zookeeperAnswers(port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('srvr'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
    });
    socket.once('end', () => done(/^Mode: /m.test(answer)));
  });
}
