import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { DriftguardError } from '../../kernel/errors.js';
import { sleep } from '../../kernel/retry.js';
import { isErrno, isProcessAlive } from './process.js';

/**
 * Runs `fn` while holding an exclusive lock file (which holds the owner's pid). Two test runs
 * in the same checkout then never start the services twice. A lock left by a dead process is
 * taken over.
 */
export async function withLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  options: { timeoutMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  await mkdir(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await tryAcquire(lockFile)) break;
    if (Date.now() > deadline) {
      throw new DriftguardError(
        'SERVICE_START_FAILED',
        `Timed out after ${timeoutMs} ms waiting for the lock ${lockFile}; if no other driftguard dev-services command runs, delete it.`,
        {
          retriable: true,
          details: { lockFile },
        },
      );
    }
    await sleep(200);
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

async function tryAcquire(lockFile: string): Promise<boolean> {
  try {
    const handle = await open(lockFile, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  }
  const owner = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
  // An empty file is a lock being written right now; only a dead owner's lock is stale.
  if (Number.isInteger(owner) && owner > 0 && !isProcessAlive(owner)) {
    await rm(lockFile, { force: true });
  }
  return false;
}
