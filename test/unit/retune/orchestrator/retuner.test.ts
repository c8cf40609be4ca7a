import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Retuner, type RetuneProgressEvent } from '../../../../retune/orchestrator/index.js';
import { ruleTriggers } from '../../../../retune/orchestrator/retuner.js';
import { compileRetuneOptions } from '../../../../retune/options.js';
import { MemoryRetuneStorage } from '../../../../retune/store/index.js';
import { createLogger } from '../../../../kernel/logger.js';
import {
  THRESHOLD_SPACE,
  ThresholdTrainer,
  thresholdDatasets,
  writeThresholdDataset,
} from '../../../fixtures/retune/threshold-trainer.js';
import type { DatasetProvider } from '../../../../retune/orchestrator/index.js';

const logger = createLogger('silent');
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function make(overrides: Record<string, unknown> = {}, now?: () => number) {
  const dir = await mkdtemp(path.join(tmpdir(), 'retuner-unit-'));
  dirs.push(dir);
  const storage = new MemoryRetuneStorage();
  const registry = new Registry();
  const retuner = new Retuner({
    storage,
    config: {
      enabled: true,
      space: THRESHOLD_SPACE,
      sampler: { name: 'random' },
      pruner: { name: 'none' },
      budget: { maxTrials: 3 },
      triggers: { cooldownMs: 60_000, maxConcurrentStudies: 1, states: ['critical'] },
      modelStoreDir: path.join(dir, 'models'),
      workDir: path.join(dir, 'work'),
      ...overrides,
    },
    trainer: new ThresholdTrainer({ epochs: 1 }),
    datasets: thresholdDatasets,
    logger,
    registry,
    ...(now === undefined ? {} : { now }),
  });
  return { retuner, storage, registry };
}

describe('Retuner triggers', () => {
  it('starts on configured health states only, and reports progress', async () => {
    const { retuner, registry } = await make();
    const events: RetuneProgressEvent['type'][] = [];
    retuner.onProgress((e) => events.push(e.type));
    await retuner.start();
    expect(await retuner.onHealth('churn', 'healthy')).toBeUndefined();
    const started = await retuner.onHealth('churn', 'critical');
    expect(started?.model).toBe('churn');
    const outcome = await retuner.waitForStudy(started?.studyId ?? '');
    expect(outcome.record.state).toBe('completed');
    expect(outcome.record.trigger).toBe('monitor');
    expect(events[0]).toBe('study.started');
    expect(events.filter((e) => e === 'trial.finished')).toHaveLength(3);
    expect(events.at(-1)).toBe('study.finished');
    const text = await registry.metrics();
    expect(text).toMatch(/driftguard_retune_trials_total\{model="churn",state="complete"\} 3/);
    expect(text).toMatch(/driftguard_promotions_total\{model="churn",decision="promoted"\} 1/);
    expect(text).toMatch(/driftguard_retune_studies_running 0/);
    await retuner.stop();
  });

  it('starts on a breaching rule named by triggers.rules whatever the health (estimated:*), exact or by prefix', async () => {
    const { retuner } = await make({
      triggers: {
        cooldownMs: 0,
        maxConcurrentStudies: 1,
        states: [],
        rules: ['estimated:*', 'model:multivariate_drift'],
      },
    });
    await retuner.start();
    // No state triggers, and rules that are not named do not either.
    expect(await retuner.onHealth('churn', 'critical', { breachingRules: ['model:drift'] })).toBeUndefined();
    expect(
      await retuner.onHealth('churn', 'warning', { breachingRules: ['estimate:accuracy'] }),
    ).toBeUndefined();
    const started = await retuner.onHealth('churn', 'warning', {
      breachingRules: ['drift:x:default', 'estimated:accuracy'],
      driftOnsetMs: 1_000,
    });
    expect(started?.model).toBe('churn');
    expect((await retuner.waitForStudy(started?.studyId ?? '')).record.trigger).toBe('monitor');
    const exact = await retuner.onHealth('other', 'ok', { breachingRules: ['model:multivariate_drift'] });
    expect(exact?.model).toBe('other');
    await retuner.waitForStudy(exact?.studyId ?? '');
    await retuner.stop();
  });

  it('matches rule patterns exactly or by a trailing * prefix', () => {
    expect(ruleTriggers(['estimated:*'], ['model:drift', 'estimated:roc_auc'])).toBe('estimated:roc_auc');
    expect(ruleTriggers(['estimated:accuracy'], ['estimated:accuracy:threshold'])).toBeUndefined();
    expect(ruleTriggers(['estimated:accuracy*'], ['estimated:accuracy:threshold'])).toBe(
      'estimated:accuracy:threshold',
    );
    expect(ruleTriggers([], ['estimated:accuracy'])).toBeUndefined();
  });

  it('refuses a rule pattern that is not a rule id, naming the form', () => {
    expect(() => compileRetuneOptions({ triggers: { rules: ['estimated:acc uracy'] } })).toThrow(
      /a rule id \(e\.g\. estimated:accuracy\), optionally ending in \* to match a prefix/,
    );
  });

  it('waits for consecutiveEvaluations in a trigger state, and a healthy one resets the count', async () => {
    const { retuner } = await make({
      triggers: { cooldownMs: 0, maxConcurrentStudies: 1, states: ['critical'], consecutiveEvaluations: 3 },
    });
    await retuner.start();
    expect(await retuner.onHealth('churn', 'critical')).toBeUndefined();
    expect(await retuner.onHealth('churn', 'critical')).toBeUndefined();
    expect(await retuner.onHealth('churn', 'ok')).toBeUndefined(); // the streak starts again
    expect(await retuner.onHealth('churn', 'critical')).toBeUndefined();
    expect(await retuner.onHealth('other', 'critical')).toBeUndefined(); // counted per model
    expect(await retuner.onHealth('churn', 'critical')).toBeUndefined();
    expect(await retuner.listStudies()).toEqual([]);
    const started = await retuner.onHealth('churn', 'critical');
    expect(started?.model).toBe('churn');
    await retuner.waitForStudy(started?.studyId ?? '');
    await retuner.stop();
  });

  it('on release, forgets the trigger streak and the best-value gauge of a model moved elsewhere', async () => {
    const { retuner, registry } = await make({
      triggers: { cooldownMs: 0, maxConcurrentStudies: 1, states: ['critical'], consecutiveEvaluations: 2 },
    });
    await retuner.start();
    const started = await retuner.trigger('churn', { source: 'manual' });
    await retuner.waitForStudy(started.studyId);
    expect(await registry.metrics()).toMatch(/driftguard_retune_best_value\{model="churn"\}/);
    expect(await retuner.onHealth('churn', 'critical')).toBeUndefined(); // 1 of 2
    retuner.release('churn');
    expect(await registry.metrics()).not.toMatch(/driftguard_retune_best_value\{model="churn"\}/);
    expect(await retuner.onHealth('churn', 'critical')).toBeUndefined(); // counting again: 1 of 2
    const next = await retuner.onHealth('churn', 'critical');
    expect(next?.model).toBe('churn');
    await retuner.waitForStudy(next?.studyId ?? '');
    await retuner.stop();
  });

  it('refuses during the cooldown unless forced; onHealth swallows the refusal', async () => {
    let t = 1_000_000;
    const { retuner } = await make({}, () => t);
    await retuner.start();
    const first = await retuner.trigger('churn', { source: 'manual' });
    await retuner.waitForStudy(first.studyId);
    t += 30_000;
    await expect(retuner.trigger('churn', { source: 'api' })).rejects.toMatchObject({
      code: 'RETUNE_REFUSED',
      message: expect.stringMatching(/cooldownMs \(60000 ms\).*next study allowed in 30 s/) as unknown,
    });
    expect(await retuner.onHealth('churn', 'critical')).toBeUndefined();
    const forced = await retuner.trigger('churn', { source: 'api', force: true });
    await retuner.waitForStudy(forced.studyId);
    t += 61_000;
    await retuner.waitForStudy((await retuner.trigger('churn', { source: 'api' })).studyId);
    await retuner.stop();
  });

  it('caps concurrent studies and refuses a second study of the same model', async () => {
    const { retuner } = await make({ triggers: { cooldownMs: 0, maxConcurrentStudies: 1 } });
    await retuner.start();
    const [a, b] = await Promise.allSettled([
      retuner.trigger('churn', { source: 'api' }),
      retuner.trigger('fraud', { source: 'api' }),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b).toMatchObject({ status: 'rejected', reason: { code: 'RETUNE_REFUSED' } });
    await expect(retuner.trigger('churn', { source: 'api' })).rejects.toMatchObject({
      code: 'RETUNE_REFUSED',
    });
    await retuner.stop();
  });

  it('refuses bad model names and triggers before start or after stop', async () => {
    const { retuner } = await make();
    await expect(retuner.trigger('churn', { source: 'api' })).rejects.toMatchObject({
      code: 'RETUNE_REFUSED',
    });
    await retuner.start();
    await expect(retuner.trigger('drop table;', { source: 'api' })).rejects.toMatchObject({
      code: 'RETUNE_INVALID',
    });
    await retuner.stop();
    await retuner.stop();
    await expect(retuner.trigger('churn', { source: 'api' })).rejects.toMatchObject({
      code: 'RETUNE_REFUSED',
    });
  });

  it('fails a study whose every trial fails, with the counts', async () => {
    const { retuner } = await make({ triggers: { cooldownMs: 0 } });
    const failing = new Retuner({
      storage: new MemoryRetuneStorage(),
      config: retuner.config,
      trainer: {
        name: 'broken',
        train: () => Promise.reject(new Error('CUDA out of memory')),
        predict: () => Promise.resolve([]),
      },
      datasets: thresholdDatasets,
      logger,
      registry: new Registry(),
    });
    await failing.start();
    const { studyId } = await failing.trigger('churn', { source: 'api' });
    const outcome = await failing.waitForStudy(studyId);
    expect(outcome.record.state).toBe('failed');
    expect(outcome.record.error).toMatch(/no trial completed \(\{"failed":3\}\)/);
    const view = await failing.getStudy(studyId);
    expect(view?.trials.map((t) => t.failReason)).toEqual(Array(3).fill('CUDA out of memory'));
    await failing.stop();
  });

  it('refuses every trigger when retune is disabled', async () => {
    const { retuner } = await make({ enabled: false });
    await retuner.start();
    await expect(retuner.trigger('churn', { source: 'api' })).rejects.toThrow(/retune.enabled: true/);
    expect(await retuner.onHealth('churn', 'critical')).toBeUndefined();
    await retuner.stop();
  });

  it('cancels a running study: its trials fail and it ends cancelled', async () => {
    const { retuner } = await make({ triggers: { cooldownMs: 0 } });
    await retuner.start();
    let started = 0;
    retuner.onProgress((e) => {
      if (e.type === 'trial.started') started++;
    });
    const { studyId } = await retuner.trigger('churn', { source: 'api' });
    while (started === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(retuner.cancel(studyId)).toBe(true);
    const outcome = await retuner.waitForStudy(studyId);
    expect(outcome.record.state).toBe('cancelled');
    expect(outcome.decision).toBeUndefined();
    expect(retuner.cancel(studyId)).toBe(false);
    await retuner.stop();
  });

  it('aborts trials still running when the wall-time budget runs out', async () => {
    const { retuner } = await make({
      triggers: { cooldownMs: 0 },
      budget: { maxTrials: 5, maxWallTimeMs: 100 },
    });
    const slow = new Retuner({
      storage: new MemoryRetuneStorage(),
      config: retuner.config,
      trainer: {
        name: 'slow',
        train: (request) =>
          new Promise((_resolve, reject) => {
            request.signal.addEventListener('abort', () => reject(new Error('aborted by signal')), {
              once: true,
            });
          }),
        predict: () => Promise.resolve([]),
      },
      datasets: thresholdDatasets,
      logger,
      registry: new Registry(),
    });
    await slow.start();
    const { studyId } = await slow.trigger('churn', { source: 'api' });
    const outcome = await slow.waitForStudy(studyId);
    expect(outcome.record.state).toBe('failed');
    const view = await slow.getStudy(studyId);
    expect(view?.trials.map((t) => [t.state, t.failReason])).toEqual([
      ['failed', 'wall-time budget exhausted'],
    ]);
    await slow.stop();
  });

  it('fails interrupted trials on resume when onRestoreRunning is fail', async () => {
    const storage = new MemoryRetuneStorage();
    const dir = await mkdtemp(path.join(tmpdir(), 'retuner-unit-'));
    dirs.push(dir);
    const config = {
      enabled: true,
      space: THRESHOLD_SPACE,
      sampler: { name: 'random' },
      pruner: { name: 'none' },
      budget: { maxTrials: 3 },
      onRestoreRunning: 'fail',
      triggers: { cooldownMs: 0 },
      modelStoreDir: path.join(dir, 'models'),
      workDir: path.join(dir, 'work'),
    };
    const calls = new Map<number, number>();
    const first = new Retuner({
      storage,
      config,
      trainer: new ThresholdTrainer({ epochs: 1, calls, hangOn: new Set([1]) }),
      datasets: thresholdDatasets,
      logger,
      registry: new Registry(),
    });
    await first.start();
    const { studyId } = await first.trigger('churn', { source: 'api' });
    while ((calls.get(1) ?? 0) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the writer store trial 1 as running
    // "killed": `first` is dropped without stop().
    const second = new Retuner({
      storage,
      config,
      trainer: new ThresholdTrainer({ epochs: 1, calls }),
      datasets: thresholdDatasets,
      logger,
      registry: new Registry(),
    });
    await second.start();
    const outcome = await second.waitForStudy(studyId);
    expect(outcome.record.state).toBe('completed');
    const trials = await storage.listTrials(studyId);
    expect(trials.map((t) => `${t.trial}:${t.state}:${t.failReason}`)).toEqual([
      '0:complete:',
      '1:failed:interrupted by a restart',
      '2:complete:',
    ]);
    expect([...calls.values()]).toEqual([1, 1, 1]);
    await second.stop();
  });

  it('rejects the challenger when the champion cannot be scored, and says so', async () => {
    const { retuner, storage } = await make({ triggers: { cooldownMs: 0 } });
    await retuner.start();
    await retuner.registry.registerVersion({
      model: 'churn',
      version: 'v0',
      createdAtMs: 0,
      studyId: '',
      trial: -1,
      artifactUri: '/nonexistent/model.json',
      params: {},
      metrics: {},
    });
    await retuner.registry.promote('churn', 'v0', { actor: 'test' });
    const { studyId } = await retuner.trigger('churn', { source: 'api' });
    const outcome = await retuner.waitForStudy(studyId);
    expect(outcome.record.state).toBe('completed');
    expect(outcome.decision?.promoted).toBe(false);
    expect(storage.decisions[0]?.reason).toMatch(/^rejected: the champion v0 could not be scored .*ENOENT/);
    expect((await retuner.aliases('churn')).champion).toBe('v0');
    await retuner.stop();
  });

  it('rejects a config whose search space is invalid, naming the fix', async () => {
    await expect(
      make({ space: { params: [{ name: 'x', type: 'float', low: 1, high: 0 }] } }),
    ).rejects.toThrow(/low \(1\) must be below high \(0\)/);
  });

  it('refuses model names that would write outside the model store, whatever the pattern allows', async () => {
    const { retuner, storage } = await make({ triggers: { cooldownMs: 0 } });
    await retuner.start();
    for (const name of ['..', '.'])
      await expect(retuner.trigger(name, { source: 'api' })).rejects.toMatchObject({
        code: 'RETUNE_INVALID',
        message: expect.stringMatching(/cannot name a folder of the model store/) as unknown,
      });
    expect(await retuner.onHealth('..', 'critical')).toBeUndefined();
    expect(storage.studyRows).toEqual([]);
    await retuner.stop();
  });

  it.each([
    ['the same data again', 3, 'completed'],
    ['different data', 4, 'failed'],
  ])('resumes a study whose dataset files were lost only on %s', async (_what, seed, state) => {
    const storage = new MemoryRetuneStorage();
    const dir = await mkdtemp(path.join(tmpdir(), 'retuner-unit-'));
    dirs.push(dir);
    const config = {
      enabled: true,
      space: THRESHOLD_SPACE,
      sampler: { name: 'random' },
      pruner: { name: 'none' },
      budget: { maxTrials: 3 },
      triggers: { cooldownMs: 0 },
      modelStoreDir: path.join(dir, 'models'),
      workDir: path.join(dir, 'work'),
    };
    const calls = new Map<number, number>();
    const first = new Retuner({
      storage,
      config,
      trainer: new ThresholdTrainer({ epochs: 1, calls, hangOn: new Set([1]) }),
      datasets: thresholdDatasets,
      logger,
      registry: new Registry(),
    });
    await first.start();
    const { studyId } = await first.trigger('churn', { source: 'api' });
    while ((calls.get(1) ?? 0) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // "killed", and its dataset files are gone (the trials' artifacts survived).
    await rm(path.join(dir, 'work', studyId, 'dataset'), { recursive: true, force: true });
    await rm(path.join(dir, 'work', studyId, 'holdout'), { recursive: true, force: true });
    const again: DatasetProvider = {
      prepare: (request) => writeThresholdDataset(request.dir, 400, seed, request.holdoutDir, request.window),
      countLabelled: () => Promise.resolve(0),
    };
    const second = new Retuner({
      storage,
      config,
      trainer: new ThresholdTrainer({ epochs: 1, calls }),
      datasets: again,
      logger,
      registry: new Registry(),
    });
    await second.start();
    const outcome = await second.waitForStudy(studyId);
    expect([outcome.record.state, outcome.record.error]).toEqual([state, expect.any(String)]);
    if (state === 'failed') {
      expect(outcome.record.error).toMatch(
        /dataset files were lost and the data read again differs from what its 1 finished trials were scored on/,
      );
      expect(storage.decisions).toEqual([]);
    } else {
      expect(calls.get(0)).toBe(1); // trial 0 kept its value: same validation set
      expect(await readdir(path.join(dir, 'work', studyId))).toEqual(
        expect.arrayContaining(['dataset', 'holdout']),
      );
    }
    await second.stop();
  });
});
