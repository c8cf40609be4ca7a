import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Study } from '../../retune/engine/index.js';
import { DevicePool } from '../../retune/scheduler/index.js';
import { CommandTrainer, TrainerError, type CommandTrainerOptions } from '../../retune/trainers/index.js';
import type { DatasetRef, TrialRequest } from '../../retune/trainers/trainer.js';
import { writeSyntheticDataset } from '../fixtures/trainers/synthetic.js';

/**
 * The command trainer running a real training program (test/fixtures/trainers/
 * softmax-regression.js, a Node process per trial) under the engine's Study: ASHA stops poor
 * trials while they run, pruned processes are killed, GPU ids are pinned per concurrent trial.
 */

const script = fileURLToPath(new URL('../fixtures/trainers/softmax-regression.js', import.meta.url));
let work: string;
let dataset: DatasetRef;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'driftguard-command-trainer-'));
  dataset = await writeSyntheticDataset(path.join(work, 'data'), {
    rows: { train: 300, validation: 100, holdout: 100 },
  });
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function trainer(overrides: Partial<CommandTrainerOptions> = {}): CommandTrainer {
  return new CommandTrainer({
    kind: 'command',
    argv: [process.execPath, script, 'train', '{params_file}'],
    predictArgv: [process.execPath, script, 'predict', '{artifact_path}', '{split_file}', '{output_file}'],
    killGraceMs: 1_000,
    timeoutMs: 60_000,
    ...overrides,
  });
}

function request(
  trialNumber: number,
  params: TrialRequest['params'],
  extra: Partial<TrialRequest> = {},
): TrialRequest {
  return {
    studyId: 'study1',
    model: 'churn',
    trialNumber,
    params,
    dataset,
    objective: 'val_loss',
    artifactDir: path.join(work, `trial-${trialNumber}-${Math.random().toString(36).slice(2)}`),
    signal: new AbortController().signal,
    report: () => ({ prune: false }),
    ...extra,
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function envOf(
  artifactDir: string,
  attempt = 0,
): Promise<{ pid: number; cuda: string | null; trial: string; startedAt: number }> {
  return JSON.parse(await readFile(path.join(artifactDir, `env-${attempt}.json`), 'utf8')) as {
    pid: number;
    cuda: string | null;
    trial: string;
    startedAt: number;
  };
}

describe('command trainer', () => {
  it('runs a trial to completion, reads per-epoch metrics and the final line, and predicts', async () => {
    const t = trainer();
    const reports: Array<[number, number]> = [];
    const req = request(
      0,
      { learningRate: 0.2, epochs: 4 },
      {
        report: (step, value) => {
          reports.push([step, value]);
          return { prune: false };
        },
      },
    );
    const result = await t.train(req);
    expect(result.pruned).toBe(false);
    expect(reports.map(([s]) => s)).toEqual([1, 2, 3, 4]);
    expect(result.objective).toBeLessThan(0.35);
    expect(result.metrics['val_accuracy']).toBeGreaterThan(0.85);
    expect(result.artifactPath).toBe(req.artifactDir);
    const log = await readFile(path.join(req.artifactDir, 'trial.log'), 'utf8');
    expect(log).toContain('epoch=4 val_loss=');
    const env = await envOf(req.artifactDir);
    expect(env.trial).toBe('churn-study1-0');

    const predictions = await t.predict(req.artifactDir, dataset, 'holdout');
    expect(predictions).toHaveLength(dataset.rows.holdout);
    expect(new Set(predictions)).toEqual(new Set(['neg', 'pos']));
  });

  it('under ASHA, poor trials are pruned while running and their processes killed', async () => {
    const study = Study.create({
      name: 'asha-command',
      direction: 'minimize',
      space: { params: [{ name: 'learningRate', type: 'categorical', choices: [0.3, 0.001, 0.0003] }] },
      sampler: { name: 'random' },
      pruner: { name: 'asha', minResource: 1, reductionFactor: 3 },
      seed: 11,
      budget: { maxTrials: 6 },
    });
    const t = trainer();
    const runs: Array<{ number: number; pruned: boolean; steps: number; artifactDir: string }> = [];
    for (;;) {
      const next = study.ask();
      if (next.kind !== 'trial') break;
      const n = next.trial.number;
      let steps = 0;
      const req = request(
        n,
        { ...next.trial.params, epochs: 9, epochDelayMs: 100 },
        {
          report: (step, value) => {
            steps++;
            return study.report(n, step, value);
          },
        },
      );
      const result = await t.train(req);
      if (result.pruned) study.tell(n, 'pruned');
      else study.tell(n, 'complete', result.objective);
      runs.push({ number: n, pruned: result.pruned, steps, artifactDir: req.artifactDir });
    }
    const pruned = runs.filter((r) => r.pruned);
    expect(pruned.length).toBeGreaterThan(0);
    expect(runs.some((r) => !r.pruned)).toBe(true);
    for (const r of pruned) {
      expect(r.steps).toBeLessThan(9);
      expect(existsSync(path.join(r.artifactDir, 'finished'))).toBe(false);
      expect(alive((await envOf(r.artifactDir)).pid)).toBe(false);
    }
    const best = study.bestTrial();
    expect(best?.params['learningRate']).toBe(0.3);
  });

  it('escalates to SIGKILL when the program ignores SIGTERM', async () => {
    const t = trainer({ killGraceMs: 300 });
    const req = request(
      1,
      { learningRate: 0.2, epochs: 50, epochDelayMs: 100, ignoreSigterm: true },
      {
        report: (step) => ({ prune: step >= 2 }),
      },
    );
    const started = Date.now();
    const result = await t.train(req);
    expect(result.pruned).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(alive((await envOf(req.artifactDir)).pid)).toBe(false);
  });

  it('retries a crashed attempt, and fails with TRIAL_CRASHED when retries run out', async () => {
    const retried = request(2, { learningRate: 0.2, epochs: 2, crashOnAttempt: 0 });
    const result = await trainer({ maxRetries: 1 }).train(retried);
    expect(result.pruned).toBe(false);
    const log = await readFile(path.join(retried.artifactDir, 'trial.log'), 'utf8');
    expect(log).toContain('--- attempt 0');
    expect(log).toContain('simulated crash');
    expect(log).toContain('--- attempt 1');

    const failing = request(3, { learningRate: 0.2, epochs: 2, crashOnAttempt: 0 });
    const error = await trainer({ maxRetries: 0 })
      .train(failing)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainerError);
    expect((error as TrainerError).code).toBe('TRIAL_CRASHED');
    expect((error as TrainerError).details['exitCode']).toBe(3);
  });

  it('cancels on the abort signal and times out', async () => {
    const controller = new AbortController();
    const cancelled = request(
      4,
      { learningRate: 0.2, epochs: 100, epochDelayMs: 100 },
      {
        signal: controller.signal,
        report: () => {
          // While it runs, the trial names its process for a daemon that restarts after a crash.
          pidFileWhileRunning = readFileSync(path.join(cancelled.artifactDir, 'trial.pid'), 'utf8');
          controller.abort(new Error('daemon stopping'));
          return { prune: false };
        },
      },
    );
    let pidFileWhileRunning = '';
    const error = await trainer()
      .train(cancelled)
      .catch((e: unknown) => e);
    expect((error as TrainerError).code).toBe('TRIAL_CANCELLED');
    const { pid } = await envOf(cancelled.artifactDir);
    expect(alive(pid)).toBe(false);
    expect(JSON.parse(pidFileWhileRunning)).toMatchObject({ pid, ownerPid: process.pid });
    expect(existsSync(path.join(cancelled.artifactDir, 'trial.pid'))).toBe(false);

    const slow = request(5, { learningRate: 0.2, epochs: 100, epochDelayMs: 100 });
    const timeout = await trainer({ timeoutMs: 800 })
      .train(slow)
      .catch((e: unknown) => e);
    expect((timeout as TrainerError).code).toBe('TRIAL_TIMEOUT');
  });

  it('stops the program and rethrows when report() throws', async () => {
    const req = request(
      9,
      { learningRate: 0.2, epochs: 50, epochDelayMs: 100 },
      {
        report: () => {
          throw new Error('study state invalid');
        },
      },
    );
    await expect(trainer().train(req)).rejects.toThrow('study state invalid');
    expect(alive((await envOf(req.artifactDir)).pid)).toBe(false);
  });

  it('pins each concurrent trial to its own GPU and queues the third', async () => {
    const pool = new DevicePool({ devices: ['0', '1'] });
    const t = trainer();
    const waitingSeen: number[] = [];
    const trials = [6, 7, 8].map(async (n) => {
      const lease = await pool.acquire();
      try {
        const req = request(n, { learningRate: 0.2, epochs: 1, holdMs: 700 }, { device: lease.device });
        await t.train(req);
        const finishedAt = Date.now();
        return { n, device: lease.device, env: await envOf(req.artifactDir), finishedAt };
      } finally {
        waitingSeen.push(pool.waiting);
        lease.release();
      }
    });
    // Two slots for three trials: the third is queued at once.
    expect(pool.busy).toBe(2);
    expect(pool.waiting).toBe(1);
    const results = await Promise.all(trials);
    expect(results.map((r) => r.env.cuda)).toEqual(results.map((r) => r.device));
    const [a, b, c] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
    expect(new Set([a.env.cuda, b.env.cuda])).toEqual(new Set(['0', '1']));
    // The first two overlapped on distinct devices; the third started only after one of them ended.
    expect(Math.abs(a.env.startedAt - b.env.startedAt)).toBeLessThan(600);
    expect(c.env.startedAt).toBeGreaterThanOrEqual(Math.min(a.finishedAt, b.finishedAt) - 50);
    expect(waitingSeen[0]).toBe(1);
    expect(['0', '1']).toContain(c.env.cuda);
  });
});
