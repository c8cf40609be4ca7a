import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSplit } from '../../retune/data/index.js';
import { Study } from '../../retune/engine/index.js';
import {
  createTrainer,
  retuneBackend,
  setRetuneBackendGauge,
  shuffledOrder,
  TfjsTrainer,
  type TrainerError,
} from '../../retune/trainers/index.js';
import type { DatasetRef, TrialRequest } from '../../retune/trainers/trainer.js';
import { writeSyntheticDataset } from '../fixtures/trainers/synthetic.js';

/**
 * The built-in TensorFlow.js trainer on small synthetic data (a linear boundary, a linear
 * target), on whatever backend this host has: here tfjs-node(-gpu) are absent, so wasm.
 */

let work: string;
let classification: DatasetRef;
let regression: DatasetRef;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'driftguard-tfjs-trainer-'));
  classification = await writeSyntheticDataset(path.join(work, 'cls'), { seed: 3 });
  regression = await writeSyntheticDataset(path.join(work, 'reg'), { seed: 4, task: 'regression' });
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function request(
  dataset: DatasetRef,
  params: TrialRequest['params'],
  extra: Partial<TrialRequest> = {},
): TrialRequest {
  return {
    studyId: 's',
    model: 'm',
    trialNumber: 0,
    params,
    dataset,
    objective: 'val_accuracy',
    artifactDir: path.join(work, `artifact-${Math.random().toString(36).slice(2)}`),
    signal: new AbortController().signal,
    report: () => ({ prune: false }),
    ...extra,
  };
}

describe('tfjs trainer', () => {
  it('learns a linear boundary (logistic, layers 0), saves, reloads and predicts the holdout', async () => {
    const trainer = createTrainer({ kind: 'tfjs' }) as TfjsTrainer;
    const steps: number[] = [];
    const req = request(
      classification,
      { layers: 0, learningRate: 0.1, epochs: 15, batchSize: 32 },
      {
        report: (step) => {
          steps.push(step);
          return { prune: false };
        },
      },
    );
    const started = performance.now();
    const result = await trainer.train(req);
    const trainMs = performance.now() - started;
    const backend = await trainer.backend();
    console.log(
      `tfjs logistic: backend=${backend.name} (${backend.tfBackend}, tfjs ${backend.tfVersion}); 400 rows x 15 epochs in ${trainMs.toFixed(0)} ms, val_accuracy ${result.objective.toFixed(3)}`,
    );
    expect(retuneBackend()).toBe(backend.name);
    expect(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).toContain(backend.name);
    expect(steps).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(result.pruned).toBe(false);
    expect(result.objective).toBeGreaterThan(0.9);
    expect(result.metrics['val_loss']).toBeLessThan(0.4);
    expect(result.artifactPath).toBe(req.artifactDir);
    for (const file of ['model.json', 'weights.bin', 'driftguard-model.json'])
      expect(existsSync(path.join(req.artifactDir, file))).toBe(true);

    // A fresh trainer (as at promotion time) loads the artifact and scores the holdout.
    const predictions = await new TfjsTrainer().predict(req.artifactDir, classification, 'holdout');
    const holdout = await readSplit(classification.dir, 'holdout');
    expect(predictions).toHaveLength(holdout.length);
    const accuracy =
      holdout.filter((row, i) => predictions[i] === classification.classes[row.y]).length / holdout.length;
    expect(accuracy).toBeGreaterThan(0.9);
    const modelJson = JSON.parse(await readFile(path.join(req.artifactDir, 'model.json'), 'utf8')) as {
      weightsManifest: Array<{ paths: string[] }>;
    };
    expect(modelJson.weightsManifest[0]?.paths).toEqual(['./weights.bin']);
  });

  it('repeats a trial exactly with the same seed, and differs with another', async () => {
    const trainer = new TfjsTrainer();
    const params = { layers: 1, units: 8, dropout: 0.1, learningRate: 0.05, epochs: 4, batchSize: 16 };
    const first = await trainer.train(request(classification, params));
    const again = await trainer.train(request(classification, params));
    const reseeded = await trainer.train(request(classification, { ...params, seed: 7 }));
    expect(again.metrics).toEqual(first.metrics);
    expect(reseeded.metrics['val_loss']).not.toBe(first.metrics['val_loss']);
  });

  it('orders the rows of an epoch by (seed, epoch): a permutation, stable across calls', () => {
    const order = shuffledOrder(100, 42, 1);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(shuffledOrder(100, 42, 1)).toEqual(order);
    expect(shuffledOrder(100, 42, 2)).not.toEqual(order);
    expect(shuffledOrder(100, 43, 1)).not.toEqual(order);
  });

  it('trains an MLP regressor with dropout and l2, reporting val_rmse', async () => {
    const trainer = new TfjsTrainer({ kind: 'tfjs', defaults: { units: 16 } });
    const started = performance.now();
    const result = await trainer.train(
      request(
        regression,
        { layers: 1, learningRate: 0.03, epochs: 25, dropout: 0.05, l2: 1e-4 },
        { objective: 'val_rmse' },
      ),
    );
    console.log(
      `tfjs MLP regression: 400 rows x 25 epochs in ${(performance.now() - started).toFixed(0)} ms, val_rmse ${result.objective.toFixed(3)}`,
    );
    expect(result.objective).toBeLessThan(0.6);
    expect(result.metrics['val_loss']).toBeCloseTo(result.objective ** 2, 6);
    const predictions = await trainer.predict(result.artifactPath as string, regression, 'validation');
    expect(predictions.every((p) => typeof p === 'number')).toBe(true);
  });

  it('stops when report says prune, and ASHA prunes poor trials of a study', async () => {
    const trainer = new TfjsTrainer();
    let reports = 0;
    const pruned = await trainer.train(
      request(
        classification,
        { layers: 0, epochs: 20 },
        { report: (step) => (reports++, { prune: step >= 3 }) },
      ),
    );
    expect(pruned.pruned).toBe(true);
    expect(reports).toBe(3);
    expect(pruned.artifactPath).toBeUndefined();

    const study = Study.create({
      name: 'tfjs-asha',
      direction: 'maximize',
      space: { params: [{ name: 'learningRate', type: 'categorical', choices: [0.1, 0.00001] }] },
      sampler: { name: 'grid' },
      pruner: { name: 'asha', minResource: 1, reductionFactor: 3 },
      seed: 5,
      budget: { maxTrials: 4 },
    });
    const outcomes: Array<{ lr: unknown; pruned: boolean; epochs: number }> = [];
    for (let next = study.ask(); next.kind === 'trial'; next = study.ask()) {
      const n = next.trial.number;
      let epochs = 0;
      const result = await trainer.train(
        request(
          classification,
          { ...next.trial.params, layers: 0, epochs: 9 },
          {
            trialNumber: n,
            report: (step, value) => (epochs++, study.report(n, step, value)),
          },
        ),
      );
      study.tell(n, result.pruned ? 'pruned' : 'complete', result.pruned ? undefined : result.objective);
      outcomes.push({ lr: next.trial.params['learningRate'], pruned: result.pruned, epochs });
    }
    expect(outcomes.some((o) => o.pruned && o.lr === 0.00001 && o.epochs < 9)).toBe(true);
    expect(study.bestTrial()?.params['learningRate']).toBe(0.1);
  });

  it('stops within an epoch when the signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(new Error('daemon stopping')), 150);
    const error = (await new TfjsTrainer()
      .train(
        request(
          classification,
          { layers: 2, units: 64, batchSize: 1, epochs: 50 },
          { signal: controller.signal },
        ),
      )
      .catch((e: unknown) => e)) as TrainerError;
    expect(error.code).toBe('TRIAL_CANCELLED');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('refuses objectives and params it does not have, naming the fix', async () => {
    const trainer = new TfjsTrainer();
    await expect(trainer.train(request(classification, {}, { objective: 'val_rmse' }))).rejects.toMatchObject(
      {
        code: 'TRAINER_CONFIG_INVALID',
      },
    );
    const error = (await trainer
      .train(request(classification, { hidden: 3 }))
      .catch((e: unknown) => e)) as TrainerError;
    expect(error.message).toMatch(/unknown tfjs param "hidden".*layers, units/);
    expect(() => createTrainer({ kind: 'tfjs', defaults: { dropout: 1 } })).toThrow(
      /dropout must be a number in \[0, 1\)/,
    );
  });

  it('exports the backend as driftguard_retune_backend_info', async () => {
    const registry = new Registry();
    const backend = (await new TfjsTrainer().backend()).name;
    setRetuneBackendGauge(registry, 'cpu');
    setRetuneBackendGauge(registry, backend);
    const text = await registry.metrics();
    expect(text).toContain(`driftguard_retune_backend_info{backend="${backend}"} 1`);
    if (backend !== 'cpu') expect(text).not.toContain('backend="cpu"');
  });
});
