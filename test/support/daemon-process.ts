import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface DaemonProcessOptions {
  /** Working directory (the embedded store's default `./driftguard-data` is relative to it). @default the repo root */
  readonly cwd?: string;
  /** Variables of this process's environment NOT to pass on (e.g. the services' ClickHouse URL). */
  readonly unset?: readonly string[];
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * A real `driftguard start` process, as a user would run it, for tests that kill it or signal
 * it. The HTTP port is chosen by the OS (port 0) and read from the "http listening" log line.
 */
export class DaemonProcess {
  readonly logs: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private stderrTail = '';

  private constructor(env: Record<string, string>, args: string[], options: DaemonProcessOptions = {}) {
    const inherited: NodeJS.ProcessEnv = { ...process.env };
    for (const name of options.unset ?? []) delete inherited[name];
    this.child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'driftguard.js'), 'start', ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...inherited, DRIFTGUARD_HTTP_PORT: '0', DRIFTGUARD_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.stderrTail = `${this.stderrTail}${line}\n`.slice(-4000);
        }
      }
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  static async start(
    env: Record<string, string>,
    args: string[] = [],
    timeoutMs = 90_000,
    options: DaemonProcessOptions = {},
  ): Promise<DaemonProcess> {
    const daemon = new DaemonProcess(env, args, options);
    await daemon.waitForLog((line) => line.msg === 'state change' && line['to'] === 'running', timeoutMs);
    return daemon;
  }

  /** Starts the process without waiting for it to run (for a start that is meant to fail). */
  static spawn(
    env: Record<string, string>,
    args: string[] = [],
    options: DaemonProcessOptions = {},
  ): DaemonProcess {
    return new DaemonProcess(env, args, options);
  }

  /** What the process wrote that was not a JSON log line (the last 4 kB). */
  get stderr(): string {
    return this.stderrTail;
  }

  get port(): number {
    const line = this.logs.find((l) => l.msg === 'http listening');
    if (line === undefined) throw new Error('daemon has not logged its HTTP port yet');
    return line['port'] as number;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    for (;;) {
      const found = this.logs.find(predicate);
      if (found) return found;
      if (exited || Date.now() > deadline) {
        const tail = this.logs
          .slice(-15)
          .map((l) => JSON.stringify(l))
          .join('\n');
        throw new Error(
          `daemon ${exited ? 'exited' : 'timed out'} before the expected log line.\nlast lines:\n${tail}\n${this.stderrTail}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Stops the daemon if it still runs (test cleanup). */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
