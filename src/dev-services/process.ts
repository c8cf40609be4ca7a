import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile, rename, open } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../../kernel/retry.js';

/**
 * Starts `command` detached from this process: its own process group, stdin closed, stdout and
 * stderr written to `logFile` (the previous run's log is kept as `<logFile>.1`), not waited
 * for. The service outlives the CLI.
 */
export async function spawnDetached(
  command: string,
  args: string[],
  options: { logFile: string; cwd: string },
): Promise<number> {
  await mkdir(path.dirname(options.logFile), { recursive: true });
  await rename(options.logFile, `${options.logFile}.1`).catch((error: unknown) => {
    if (!isErrno(error, 'ENOENT')) throw error;
  });
  const fd = openSync(options.logFile, 'w');
  try {
    const child = spawn(command, args, { cwd: options.cwd, detached: true, stdio: ['ignore', fd, fd] });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        if (child.pid === undefined) reject(new Error(`${command} started without a pid`));
        else resolve(child.pid);
      });
    });
    child.unref();
    return pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether `pid` is a live process (not a zombie) whose command line contains `expectedCommand`.
 * The command check guards against a recycled pid after a reboot or a long pause. Without
 * /proc (not Linux) only the signal-0 probe is made.
 */
export function isProcessAlive(pid: number, expectedCommand?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else, so it is not ours.
    if (isErrno(error, 'ESRCH') || isErrno(error, 'EPERM')) return false;
    throw error;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return process.platform !== 'linux';
    throw error;
  }
  // Field 3, after the parenthesised command name (which may hold spaces), is the state.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return false;
  if (expectedCommand === undefined) return true;
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  return cmdline.some(
    (part) => part === expectedCommand || path.basename(part) === path.basename(expectedCommand),
  );
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone (or was already). */
export async function stopProcess(
  pid: number,
  options: { graceMs?: number; expectedCommand?: string } = {},
): Promise<void> {
  const graceMs = options.graceMs ?? 10_000;
  if (!isProcessAlive(pid, options.expectedCommand)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return;
    await sleep(100);
  }
  signal(pid, 'SIGKILL');
  while (isProcessAlive(pid)) await sleep(50);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if (!isErrno(error, 'ESRCH')) throw error;
  }
}

/** The last `maxLines` lines of a log file, for error messages; '' when it does not exist. */
export async function tailFile(file: string, maxLines = 30, maxBytes = 16_384): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return '';
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').split('\n').slice(-maxLines).join('\n').trimEnd();
  } finally {
    await handle.close();
  }
}

/** Writes through a temporary file and a rename, so that readers never see half a file. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}

export async function readJsonIfExists(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

export async function removeFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
