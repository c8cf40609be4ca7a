import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { LineSplitter } from '../metric-lines.js';
import { removeTrialPidFile, signalGroup, writeTrialPidFile } from './orphans.js';

/**
 * One run of a user program, without a shell, in its own process group so that stopping it
 * also stops what it spawned (data loaders, a Python interpreter behind a wrapper script).
 * Stop = SIGTERM to the group, SIGKILL after a grace period.
 */

export type StopReason = 'pruned' | 'timeout' | 'cancelled';

export interface RunProcessOptions {
  readonly argv: readonly string[];
  readonly cwd: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly signal?: AbortSignal;
  /** Output is appended here as well (the trial's `trial.log`). */
  readonly logFile?: string;
  readonly logTailChars: number;
  /** Called for each complete stdout line. */
  readonly onStdoutLine?: (line: string) => void;
  /**
   * Folder of a `trial.pid` file kept while the program runs, so that a daemon started after this
   * one died can stop it (see orphans.ts).
   */
  readonly pidFileDir?: string;
}

export interface ProcessOutcome {
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  /** Why we stopped it, when we did. */
  readonly stoppedBy: StopReason | undefined;
  /** The spawn itself failed (e.g. ENOENT). */
  readonly spawnError: Error | undefined;
  readonly pid: number | undefined;
  readonly logTail: string;
}

export class ProcessRun {
  private child: ChildProcess | undefined;
  private stoppedBy: StopReason | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private exited = false;
  private tail = '';
  private log: WriteStream | undefined;

  constructor(private readonly options: RunProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Asks the program to stop: SIGTERM now, SIGKILL after the grace. First reason wins. */
  stop(reason: StopReason): void {
    if (this.stoppedBy !== undefined || this.exited) return;
    this.stoppedBy = reason;
    this.signalGroup('SIGTERM');
    this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), this.options.killGraceMs);
  }

  run(): Promise<ProcessOutcome> {
    const { options } = this;
    if (options.logFile !== undefined) {
      const log = createWriteStream(options.logFile, { flags: 'a' });
      // A full disk must not crash the daemon or hang the trial: keep the in-memory tail only.
      log.on('error', () => {
        if (this.log === log) this.log = undefined;
      });
      this.log = log;
    }
    return new Promise<ProcessOutcome>((resolve) => {
      let spawnError: Error | undefined;
      let exitCode: number | null = null;
      let exitSignal: NodeJS.Signals | null = null;
      let settled = false;
      const [program, ...args] = options.argv as [string, ...string[]];
      const child = spawn(program, args, {
        cwd: options.cwd,
        env: options.env,
        shell: false,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
      this.child = child;
      const pidFileDir = options.pidFileDir;
      const pidFile =
        pidFileDir !== undefined && child.pid !== undefined
          ? writeTrialPidFile(pidFileDir, child.pid).catch(() => undefined)
          : undefined;
      const stdoutLines = new LineSplitter();
      child.stdout?.setEncoding('utf8');
      child.stderr?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        this.capture(chunk);
        for (const line of stdoutLines.push(chunk)) options.onStdoutLine?.(line);
      });
      child.stderr?.on('data', (chunk: string) => this.capture(chunk));

      const timeout = setTimeout(() => this.stop('timeout'), options.timeoutMs);
      const onAbort = (): void => this.stop('cancelled');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) onAbort();

      const finish = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        if (this.killTimer !== undefined) clearTimeout(this.killTimer);
        options.signal?.removeEventListener('abort', onAbort);
        for (const line of stdoutLines.flush()) options.onStdoutLine?.(line);
        const outcome: ProcessOutcome = {
          exitCode,
          exitSignal,
          stoppedBy: this.stoppedBy,
          spawnError,
          pid: child.pid,
          logTail: this.tail,
        };
        const settle = (): void => {
          if (pidFile === undefined || pidFileDir === undefined) resolve(outcome);
          else
            void pidFile
              .then(() => removeTrialPidFile(pidFileDir))
              .catch(() => undefined)
              .then(() => resolve(outcome));
        };
        const log = this.log;
        if (log === undefined) settle();
        else {
          log.once('error', settle);
          log.end(settle);
        }
      };
      child.once('error', (error) => {
        spawnError = error;
        this.exited = true;
        finish();
      });
      child.once('exit', (code, signal) => {
        exitCode = code;
        exitSignal = signal;
        this.exited = true;
        // Stragglers of a stopped trial must not outlive it; they would hold the GPU.
        if (this.stoppedBy !== undefined) this.signalGroup('SIGKILL', true);
        // Grandchildren can keep the pipes open: do not wait on them for long.
        setTimeout(finish, 2_000).unref();
      });
      child.once('close', finish);
    });
  }

  private capture(chunk: string): void {
    this.log?.write(chunk);
    this.tail = (this.tail + chunk).slice(-this.options.logTailChars);
  }

  private signalGroup(signal: NodeJS.Signals, evenIfExited = false): void {
    const pid = this.child?.pid;
    if (pid === undefined || (this.exited && !evenIfExited)) return;
    if (signalGroup(pid, signal)) return;
    // The group is gone (EPERM cannot happen for our own child's group): the leader alone, if any.
    try {
      if (!this.exited) this.child?.kill(signal);
    } catch {
      // The leader exited between the two calls; nothing left to signal.
    }
  }
}
