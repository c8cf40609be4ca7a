import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processState, TRIAL_PID_FILE } from '../../retune/trainers/command/orphans.js';
import { waitFor } from './wait.js';

const fixture = fileURLToPath(new URL('../fixtures/trainers/daemon-with-trial.ts', import.meta.url));

/** A stand-in daemon running one trial program in `trialDir`, as the command trainer runs them. */
export interface DaemonWithTrial {
  readonly trialPid: number;
  /** SIGKILLs the daemon (its trial program lives on) and waits for it to exit. */
  kill(): Promise<void>;
  /** Kills whatever is left: the daemon and the trial's process group. */
  cleanup(): Promise<void>;
}

export async function startDaemonWithTrial(trialDir: string): Promise<DaemonWithTrial> {
  await mkdir(trialDir, { recursive: true });
  const daemon = spawn(process.execPath, ['--import', 'tsx', fixture, trialDir], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  const pidFile = path.join(trialDir, TRIAL_PID_FILE);
  await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), {
    timeoutMs: 20_000,
    description: 'the trial program to start',
  });
  const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
  return {
    trialPid: pid,
    async kill() {
      daemon.kill('SIGKILL');
      await exited;
    },
    async cleanup() {
      daemon.kill('SIGKILL');
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** Whether `pid` runs nothing any more: gone, or a zombie waiting for its parent to collect it. */
export function processGone(pid: number): boolean {
  const state = processState(pid);
  return state === undefined || state === 'Z';
}
