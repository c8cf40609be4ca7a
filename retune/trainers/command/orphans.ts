import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../../kernel/logger.js';

/**
 * Trial programs left running by a daemon that was killed (SIGKILL, OOM, power loss). They run in
 * their own process group, so nothing stops them with the daemon, and a GPU trial would hold its
 * device until it ends by itself. Each running trial therefore leaves a `trial.pid` file in its
 * artifact folder naming its process and the daemon that started it; a starting retuner kills
 * the trials whose daemon is gone.
 *
 * Processes are identified by pid and start time (Linux /proc), so a recycled pid is never taken
 * for a trial. Without /proc nothing is killed. A trial whose leader already exited while some of
 * its children live on is not found (the leader is how the group is recognised).
 */

export const TRIAL_PID_FILE = 'trial.pid';

interface TrialPidRecord {
  /** The trial's process, leader of its own process group. */
  readonly pid: number;
  readonly startTicks: string;
  /** The daemon that started it. */
  readonly ownerPid: number;
  readonly ownerStartTicks: string;
}

/**
 * The fields of /proc/PID/stat after the command name ("state ppid pgrp ..."), or undefined when
 * the process does not exist or this system has no /proc.
 */
function procStat(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ...": comm may hold spaces and parentheses, so split after the last ")".
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat). */
export function processStartTicks(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** A process's state letter (R, S, Z for an exited one its parent has not collected, ...). */
export function processState(pid: number): string | undefined {
  return procStat(pid)?.[0];
}

/** This daemon's start time: what its trials record as their owner's. */
let ownStartTicks: string | undefined;

function isRunning(pid: number, startTicks: string): boolean {
  return startTicks !== '' && processStartTicks(pid) === startTicks;
}

/** Records a just-started trial process in `dir`. */
export async function writeTrialPidFile(dir: string, pid: number): Promise<void> {
  const record: TrialPidRecord = {
    pid,
    startTicks: processStartTicks(pid) ?? '',
    ownerPid: process.pid,
    ownerStartTicks: (ownStartTicks ??= processStartTicks(process.pid) ?? ''),
  };
  await writeFile(path.join(dir, TRIAL_PID_FILE), `${JSON.stringify(record)}\n`);
}

export async function removeTrialPidFile(dir: string): Promise<void> {
  await rm(path.join(dir, TRIAL_PID_FILE), { force: true });
}

export interface ReapOptions {
  readonly logger: Logger;
  /** Between SIGTERM and SIGKILL. @default 5000 */
  readonly killGraceMs?: number;
}

/**
 * Kills the trial process groups under `workDir` (layout `<study>/<trial>/trial.pid`) whose
 * daemon no longer runs, and removes their pid files. Trials of a daemon that still runs (another
 * replica sharing the folder) are left alone. Returns the pids it killed.
 */
export async function reapOrphanedTrials(workDir: string, options: ReapOptions): Promise<number[]> {
  if (processStartTicks(process.pid) === undefined) return []; // no /proc: cannot tell safely
  const killed: number[] = [];
  for (const file of await trialPidFiles(workDir)) {
    let record: TrialPidRecord;
    try {
      record = JSON.parse(await readFile(file, 'utf8')) as TrialPidRecord;
    } catch {
      continue; // no such file (most trial folders), being written, or not ours
    }
    if (isRunning(record.ownerPid, record.ownerStartTicks)) continue;
    if (isRunning(record.pid, record.startTicks)) {
      options.logger.warn(
        { pid: record.pid, ownerPid: record.ownerPid, trialDir: path.dirname(file) },
        'killing a trial process left running by a daemon that died',
      );
      await killGroup(record.pid, record.startTicks, options.killGraceMs ?? 5_000);
      killed.push(record.pid);
    }
    await rm(file, { force: true });
  }
  return killed;
}

/** Where trial pid files may be: `<workDir>/<study>/<trial>/trial.pid`. */
async function trialPidFiles(workDir: string): Promise<string[]> {
  const files: string[] = [];
  const studies = await readdir(workDir, { withFileTypes: true }).catch(() => []);
  for (const study of studies) {
    if (!study.isDirectory()) continue;
    const studyDir = path.join(workDir, study.name);
    for (const trial of await readdir(studyDir, { withFileTypes: true }).catch(() => [])) {
      if (trial.isDirectory()) files.push(path.join(studyDir, trial.name, TRIAL_PID_FILE));
    }
  }
  return files;
}

/** SIGTERM to the group, SIGKILL after the grace if its leader is still the same process. */
async function killGroup(pid: number, startTicks: string, graceMs: number): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isRunning(pid, startTicks) && processState(pid) !== 'Z')
    await new Promise((resolve) => setTimeout(resolve, 50));
  if (isRunning(pid, startTicks)) signalGroup(pid, 'SIGKILL');
}

/**
 * Sends `signal` to the process group led by `pid` (a trial runs in its own); false when the
 * group is gone (ESRCH).
 */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
