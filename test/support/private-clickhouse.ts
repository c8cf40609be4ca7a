import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findBinary } from '../../src/dev-services/index.js';
import {
  clickhouseVersion,
  renderClickhouseConfig,
  renderClickhouseUsers,
} from '../../src/dev-services/clickhouse.js';
import { findFreePorts } from '../../src/dev-services/ports.js';
import { waitFor } from './wait.js';

/**
 * A ClickHouse server of a test's own, so the test can stop and restart it (a real outage)
 * without disturbing the shared one. Ports stay the same across restarts, as a restarted
 * production server's would.
 */
export class PrivateClickHouse {
  private child: ChildProcess | undefined;

  private constructor(
    private readonly dir: string,
    readonly httpPort: number,
  ) {}

  static async create(): Promise<PrivateClickHouse> {
    const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-ch-'));
    const [httpPort = 0, tcpPort = 0, interserverPort = 0] = await findFreePorts(3);
    await mkdir(path.join(dir, 'logs'), { recursive: true });
    await writeFile(
      path.join(dir, 'config.xml'),
      renderClickhouseConfig({
        dir,
        httpPort,
        tcpPort,
        interserverPort,
        maxMemoryUsageBytes: 1024 ** 3,
        cacheBytes: 64 * 1024 * 1024,
      }),
    );
    await writeFile(path.join(dir, 'users.xml'), renderClickhouseUsers());
    const server = new PrivateClickHouse(dir, httpPort);
    await server.start();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async start(): Promise<void> {
    const binary = findBinary('clickhouse-server');
    if (binary === undefined)
      throw new Error('clickhouse-server is not installed: run `npx driftguard dev-services up` as root');
    this.child = spawn(binary, [`--config-file=${path.join(this.dir, 'config.xml')}`], {
      cwd: this.dir,
      stdio: 'ignore',
    });
    await waitFor(() => clickhouseVersion(this.httpPort), {
      timeoutMs: 60_000,
      intervalMs: 200,
      description: 'private ClickHouse to answer',
    });
  }

  /** Kills the server outright, as a crash or an outage would. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** Freezes the server (SIGSTOP): connections are accepted and never answered, as a hung server's. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async dispose(): Promise<void> {
    this.thaw();
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
