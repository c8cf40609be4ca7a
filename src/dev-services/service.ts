import { z } from 'zod';
import { DriftguardError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import { sleep } from '../../kernel/retry.js';
import type { BinaryName } from './apt-install.js';
import type { ServiceName, ServicesLayout } from './layout.js';
import { isProcessAlive, stopProcess, tailFile } from './process.js';

/** What is recorded about a running service in `.driftguard/services/<name>.pid.json`. */
export const serviceRecordSchema = z.object({
  /** A service name, or a process of the local cluster (`zookeeper`, `clickhouse-<shard>-<replica>`). */
  name: z.string().regex(/^[a-z0-9-]+$/),
  pid: z.number().int().positive(),
  /** The executable, to recognise the pid as ours (pids are recycled). */
  command: z.string(),
  /** Ports by role, e.g. `{ http, tcp, interserver }` for ClickHouse. */
  ports: z.record(z.string(), z.number().int().positive()),
  /** stdout/stderr of the process, where a failure explains itself. */
  logFile: z.string(),
  startedAt: z.string(),
});
export type ServiceRecord = z.infer<typeof serviceRecordSchema>;

export interface StartContext {
  layout: ServicesLayout;
  binaries: Record<BinaryName, string>;
  logger: Logger;
  /** How long one service may take to answer after it was spawned. */
  readyTimeoutMs: number;
}

/** One local service: how to start it and how to tell that it answers. */
export interface ServiceDriver {
  name: ServiceName;
  /** Spawns the service detached and resolves once it answers. */
  start(context: StartContext): Promise<ServiceRecord>;
  /** Whether the recorded service answers right now. Never throws. */
  probe(record: ServiceRecord): Promise<boolean>;
}

export interface WaitForReadyOptions {
  name: string;
  pid: number;
  command: string;
  /** Log files whose tails explain a failure. */
  logFiles: string[];
  timeoutMs: number;
  /** Resolves true once the service answers; a throw counts as "not yet". */
  check: () => Promise<boolean>;
  intervalMs?: number;
}

/**
 * Polls `check` until it answers true. Fails fast when the process exits, and on timeout stops
 * the process; either way the error carries the log tails, so it says why.
 */
export async function waitForReady(options: WaitForReadyOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await options.check().catch(() => false)) return;
    if (!isProcessAlive(options.pid, options.command)) {
      throw await startFailure(options, `exited before it answered`);
    }
    if (Date.now() > deadline) {
      await stopProcess(options.pid, { graceMs: 2_000, expectedCommand: options.command });
      throw await startFailure(options, `did not answer within ${options.timeoutMs} ms (stopped it)`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}

async function startFailure(options: WaitForReadyOptions, what: string): Promise<DriftguardError> {
  const tails = await Promise.all(
    options.logFiles.map(async (file) => {
      const tail = await tailFile(file);
      return tail === '' ? '' : `--- ${file} (tail) ---\n${tail}`;
    }),
  );
  const logs = tails.filter((tail) => tail !== '').join('\n');
  return new DriftguardError(
    'SERVICE_START_FAILED',
    `${options.name} (pid ${options.pid}) ${what}.\n${logs || '(no log output)'}`,
    {
      retriable: true,
      details: {
        service: options.name,
        pid: options.pid,
        addressInUse: /address already in use|EADDRINUSE/i.test(logs),
      },
    },
  );
}

/**
 * Runs `attempt` up to `attempts` times while it fails because a port it was given was taken
 * between finding it free and binding it.
 */
export async function retryOnPortClash<T>(
  attempt: () => Promise<T>,
  logger: Logger,
  attempts = 3,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      const clash = error instanceof DriftguardError && error.details['addressInUse'] === true;
      if (!clash || i >= attempts) throw error;
      logger.warn({ attempt: i }, 'a port was taken before the service bound it; retrying with fresh ports');
    }
  }
}
