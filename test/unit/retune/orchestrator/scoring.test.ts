/**
 * Each model version is scored on the holdout with its own encoding and class list, on a holdout
 * no program saw (issue 18, defects 1-3 and "the holdout stays unseen").
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Retuner } from '../../../../retune/orchestrator/index.js';
import { MemoryRetuneStorage } from '../../../../retune/store/index.js';
import { parseScoringSpec } from '../../../../retune/data/index.js';
import { createLogger } from '../../../../kernel/logger.js';
import {
  CENTROID_SPACE,
  CentroidTrainer,
  exists,
  worldDatasets,
  type World,
} from '../../../fixtures/retune/centroid-trainer.js';

const logger = createLogger('silent');
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const before: World = { rows: 1000, low: 0, high: 10, label: (x) => (x > 5 ? 'c' : 'b') };

async function retunerFor(worlds: World[], trainer = new CentroidTrainer()) {
  const dir = await mkdtemp(path.join(tmpdir(), 'retune-scoring-'));
  dirs.push(dir);
  const storage = new MemoryRetuneStorage();
  const datasets = worldDatasets(worlds);
  const retuner = new Retuner({
    storage,
    config: {
      enabled: true,
      space: CENTROID_SPACE,
      sampler: { name: 'random' },
      pruner: { name: 'none' },
      budget: { maxTrials: 2 },
      triggers: { cooldownMs: 0 },
      promotion: { metric: 'accuracy', minImprovement: 0.01 },
      modelStoreDir: path.join(dir, 'models'),
      workDir: path.join(dir, 'work'),
    },
    trainer,
    datasets,
    logger,
    registry: new Registry(),
  });
  await retuner.start();
  const study = async () => {
    const { studyId } = await retuner.trigger('churn', { source: 'api' });
    return retuner.waitForStudy(studyId);
  };
  return { retuner, storage, datasets, study, dir, trainer };
}

describe('scoring every version with its own encoding', () => {
  it('scores the champion with the scaling it was trained on, not the new study’s', async () => {
    // Same concept, shifted inputs: the train split's mean moves from 5 to 8. With the new
    // study's statistics the champion's boundary would move from x = 5 to x = 8 (accuracy ~0.7,
    // and any challenger would "win"); with its own it stays perfect.
    const after: World = { ...before, low: 3, high: 13, seed: 11 };
    const { retuner, study, storage } = await retunerFor([before, after]);
    const first = await study();
    expect(first.decision?.promoted).toBe(true);
    const champion = (await retuner.aliases('churn')).champion ?? '';
    const stored = await retuner.registry.getVersion('churn', champion);
    const spec = parseScoringSpec(stored?.scoring);
    expect(spec?.encoding.numeric[0]?.mean).toBeCloseTo(5, 0);

    const second = await study();
    expect(second.decision?.championValue).toBeGreaterThan(0.95);
    expect(second.decision?.challengerValue).toBeLessThan(0.9);
    expect(second.decision?.promoted).toBe(false);
    expect(storage.decisions.at(-1)?.evidence).toMatchObject({
      championEncoding: 'its own (stored with the version)',
    });
    await retuner.stop();
  });

  it('never blocks promotion on a schema change: new features and categories are ignored by the old model', async () => {
    // The new world logs two more features; the relation also changed, so the challenger is better.
    const after: World = {
      ...before,
      seed: 12,
      label: (x) => (x > 7 ? 'c' : 'b'),
      extra: (i) => ({ numeric: { tenure: i % 17 }, categorical: { plan: i % 3 === 0 ? 'pro' : 'basic' } }),
    };
    const { retuner, study } = await retunerFor([before, after]);
    await study();
    const second = await study();
    expect(second.decision?.reason).not.toMatch(/could not be scored/);
    expect(second.decision?.test).toBe('mcnemar');
    expect(second.decision?.championValue).toBeGreaterThan(0.75);
    expect(second.decision?.championValue).toBeLessThan(0.85);
    expect(second.decision?.promoted).toBe(true);
    await retuner.stop();
  });

  it('reads a champion’s class indices against its own class list', async () => {
    // Before: classes [b, c]. After: a new class `a` for x > 12 makes the list [a, b, c], so the
    // champion's index 1 (its `c`) would read as `b` against the new list.
    const after: World = {
      ...before,
      low: 0,
      high: 13,
      seed: 13,
      label: (x) => (x > 12 ? 'a' : x > 5 ? 'c' : 'b'),
    };
    const { retuner, study } = await retunerFor([before, after]);
    await study();
    const second = await study();
    // Right on every row but the few of the class it never saw.
    expect(second.decision?.championValue).toBeGreaterThan(0.85);
    await retuner.stop();
  });

  it('gives trainers train and validation only, scores label-free sets, and stores the encoding with the model', async () => {
    const { retuner, study, trainer, dir } = await retunerFor([before]);
    const outcome = await study();
    for (const files of trainer.log.trainFolders)
      expect(files).toEqual(['meta.json', 'train.jsonl', 'validation.jsonl']);
    expect(trainer.log.scoredLabels).toBe(false);
    const version = (await retuner.aliases('churn')).champion ?? '';
    const stored = path.join(dir, 'models', 'churn', version);
    expect(await exists(path.join(stored, 'centroids.json'))).toBe(true);
    const beside = parseScoringSpec(await readFile(path.join(stored, 'driftguard-scoring.json'), 'utf8'));
    expect(beside?.classes).toEqual(['b', 'c']);
    expect(beside?.inputColumns).toEqual(['x', 'x:missing']);
    expect(outcome.record.state).toBe('completed');
    await retuner.stop();
  });

  it('keeps a label only the holdout has, wrong for every model, and says so', async () => {
    // The newest 30 % are the holdout: a class `z` appears only there (x > 9.5 of its rows).
    const world: World = { ...before, label: (x, i) => (i >= 700 && x > 9.5 ? 'z' : x > 5 ? 'c' : 'b') };
    const { study, storage } = await retunerFor([before, world]);
    await study();
    const second = await study();
    const evidence = storage.decisions.at(-1)?.evidence as { holdoutOnlyLabels: Record<string, number> };
    expect(evidence.holdoutOnlyLabels['z']).toBeGreaterThan(5);
    expect(second.decision?.reason).toMatch(
      /holdout labels no training row had \(wrong for every model\): z ×\d+/,
    );
    expect(second.decision?.championValue).toBeLessThan(1);
  });

  it('counts the gate tests of one champion and spends alpha accordingly', async () => {
    const { study, storage } = await retunerFor([before, { ...before, seed: 21 }, { ...before, seed: 22 }]);
    await study();
    await study();
    await study();
    const decisions = storage.decisions.map((d) => d.evidence as { testIndex?: number; alphaSpent?: number });
    expect(decisions.map((d) => d.testIndex)).toEqual([undefined, 1, 2]);
    expect(decisions[2]?.alphaSpent).toBeCloseTo((0.05 * 6) / (Math.PI ** 2 * 4), 15);
  });
});
