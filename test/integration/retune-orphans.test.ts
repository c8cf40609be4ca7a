import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  processStartTicks,
  reapOrphanedTrials,
  TRIAL_PID_FILE,
} from '../../retune/trainers/command/orphans.js';
import { cleanupsAfterEach, processGone, startDaemonWithTrial, waitFor } from '../support/index.js';

/**
 * Trial programs outlive a daemon killed with SIGKILL (they run in their own process group). A
 * starting retuner kills those whose daemon is gone, and only those. Real processes throughout.
 */

const logger = pino({ level: 'silent' });
const cleanups = cleanupsAfterEach();

async function workDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'driftguard-orphans-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe.skipIf(processStartTicks(process.pid) === undefined)('orphaned trial processes', () => {
  it('are killed once the daemon that started them is dead, and not before', async () => {
    const work = await workDir();
    const trialDir = path.join(work, 'st-1', 'trial-0');
    const daemon = await startDaemonWithTrial(trialDir);
    cleanups.push(() => daemon.cleanup());

    // Its daemon runs (another replica, say): not an orphan.
    expect(await reapOrphanedTrials(work, { logger })).toEqual([]);
    expect(processGone(daemon.trialPid)).toBe(false);

    await daemon.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(processGone(daemon.trialPid)).toBe(false); // nothing stopped it with the daemon

    expect(await reapOrphanedTrials(work, { logger, killGraceMs: 2_000 })).toEqual([daemon.trialPid]);
    await waitFor(() => processGone(daemon.trialPid), {
      timeoutMs: 5_000,
      description: 'the orphan to exit',
    });
    expect(existsSync(path.join(trialDir, TRIAL_PID_FILE))).toBe(false);
  });

  it('never kills a process that only reuses a recorded pid, and forgets stale records', async () => {
    const work = await workDir();
    const trialDir = path.join(work, 'st-2', 'trial-3');
    await mkdir(trialDir, { recursive: true });
    // A live process of ours whose start time is not the recorded one: a recycled pid.
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    cleanups.push(async () => void bystander.kill('SIGKILL'));
    const pid = bystander.pid as number;
    await writeFile(
      path.join(trialDir, TRIAL_PID_FILE),
      JSON.stringify({ pid, startTicks: '1', ownerPid: 999_999_999, ownerStartTicks: '1' }),
    );
    expect(await reapOrphanedTrials(work, { logger })).toEqual([]);
    expect(processGone(pid)).toBe(false);
    expect(existsSync(path.join(trialDir, TRIAL_PID_FILE))).toBe(false);
  });
});
