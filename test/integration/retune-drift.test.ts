/**
 * End to end, on every storage backend, with a real training program: a model drifts, the
 * monitor's trigger carries the drift onset, the study waits for labelled rows after it, trains on
 * them only, and the challenger it promotes beats the champion on post-drift data; the decision
 * names the window it learnt from (issue 18).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  createDatasetProvider,
  readHoldout,
  readSplit,
  type PreparedDataset,
} from '../../retune/data/index.js';
import { Retuner } from '../../retune/orchestrator/index.js';
import { RETUNE_MIGRATIONS } from '../../retune/store/index.js';
import { CommandTrainer } from '../../retune/trainers/index.js';
import { createLogger } from '../../kernel/logger.js';
import { insertObjects } from '../../kernel/store.js';
import { MONITOR_MIGRATIONS } from '../../src/monitor/migrations.js';
import { EVENT_MIGRATIONS } from '../../src/store/event-migrations.js';
import { cleanupsAfterEach, ENGINES, migratedDatabase } from '../support/index.js';

const logger = createLogger('silent');
const cleanup = cleanupsAfterEach();
const script = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'trainers',
  'softmax-regression.js',
);

const MODEL = 'fraud';
const MINUTE = 60_000;

/** Before the drift fraud is a large amount; after it, any web checkout (amount no longer matters). */
function truth(amount: number, device: string, drifted: boolean): string {
  return (drifted ? device === 'web' : amount > 100) ? 'fraud' : 'ok';
}

function event(i: number, tsMs: number, drifted: boolean) {
  // Deterministic, well spread: amounts 0..199, devices in a fixed rotation.
  const amount = (i * 37) % 200;
  const device = ['ios', 'android', 'web'][(i * 7) % 3] as string;
  const id = `${drifted ? 'post' : 'pre'}-${i}`;
  const prediction = {
    model: MODEL,
    ts: Math.floor(tsMs / 1000),
    ts_ms: tsMs,
    id,
    version: 'v1',
    num_names: ['amount'],
    num_values: [amount],
    cat_names: ['device'],
    cat_values: [device],
    missing_names: [],
    prediction_number: null,
    prediction_label: 'ok',
    score: 0.5,
    score_classes: [],
    score_values: [],
    extra: '',
    source: 'test',
    ingested_at: Math.floor(tsMs / 1000),
  };
  const outcome = {
    model: MODEL,
    ts: Math.floor((tsMs + 1000) / 1000),
    ts_ms: tsMs + 1000,
    id,
    label: truth(amount, device, drifted),
    label_number: null,
    extra: '',
    source: 'test',
    ingested_at: Math.floor(tsMs / 1000) + 1,
  };
  return { prediction, outcome, amount, device };
}

describe.each(ENGINES)('a drift-triggered retune on the %s backend', (engine) => {
  it('waits for post-drift labels, learns the new world from them, and promotes a challenger that beats the champion there', async () => {
    const { store, drop } = await migratedDatabase(
      'retune_drift',
      [...EVENT_MIGRATIONS, ...MONITOR_MIGRATIONS, ...RETUNE_MIGRATIONS],
      engine,
    );
    cleanup.push(drop);
    const dir = await mkdtemp(path.join(tmpdir(), 'retune-drift-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const insert = (table: string, rows: Array<Record<string, unknown>>): Promise<void> =>
      insertObjects(store, table, rows);

    const now = Date.now();
    const onsetMs = now - 120 * MINUTE;
    // Four hours of the old world, labelled.
    const before = Array.from({ length: 1200 }, (_, i) =>
      event(i, now - 6 * 60 * MINUTE + i * 12_000, false),
    );
    await insert(
      'predictions',
      before.map((e) => e.prediction),
    );
    await insert(
      'outcomes',
      before.map((e) => e.outcome),
    );

    const retuner = new Retuner({
      store,
      config: {
        enabled: true,
        trainer: { kind: 'command' },
        objective: { metric: 'val_loss', direction: 'minimize' },
        space: { params: [{ name: 'learningRate', type: 'categorical', choices: [0.3, 0.1, 0.03] }] },
        sampler: { name: 'grid' },
        pruner: { name: 'none' },
        budget: { maxTrials: 3, maxConcurrentTrials: 1, maxWallTimeMs: 600_000 },
        triggers: { cooldownMs: 0 },
        promotion: { metric: 'accuracy', minImprovement: 0.05 },
        data: {
          lookbackMs: 7 * 24 * 60 * MINUTE,
          afterDrift: { minLabelledRows: 800, pollIntervalMs: 100, maxWaitMs: 120_000 },
        },
        modelStoreDir: path.join(dir, 'models'),
        workDir: path.join(dir, 'work'),
      },
      trainer: new CommandTrainer({
        kind: 'command',
        argv: [process.execPath, script, 'train', '{params_file}'],
        predictArgv: [
          process.execPath,
          script,
          'predict',
          '{artifact_path}',
          '{split_file}',
          '{output_file}',
        ],
      }),
      datasets: createDatasetProvider(store, { logger }),
      logger,
      registry: new Registry(),
    });
    await retuner.start();
    cleanup.push(() => retuner.stop());

    // The first champion, from a manual retune: the lookback holds only the old world.
    const first = await retuner.trigger(MODEL, { source: 'manual' });
    expect((await retuner.waitForStudy(first.studyId)).decision?.promoted).toBe(true);
    const champion = (await retuner.aliases(MODEL)).champion;

    // The drift begins: two hours of the new world, of which only the first 150 are labelled yet.
    const after = Array.from({ length: 1200 }, (_, i) => event(i, onsetMs + i * 5_000, true));
    await insert(
      'predictions',
      after.map((e) => e.prediction),
    );
    await insert(
      'outcomes',
      after.slice(0, 150).map((e) => e.outcome),
    );

    // The monitor calls the model critical and hands over the onset.
    const started = await retuner.onHealth(MODEL, 'critical', { driftOnsetMs: onsetMs });
    const studyId = started?.studyId ?? '';
    let view = await retuner.getStudy(studyId);
    for (let i = 0; i < 100 && !(view?.state === 'waiting' && view.window.includes('labelledRows')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      view = await retuner.getStudy(studyId);
    }
    expect(view?.state).toBe('waiting');
    expect(JSON.parse(view?.window ?? '{}')).toMatchObject({
      policy: 'drift-onset',
      onsetMs,
      neededRows: 800,
      labelledRows: 150,
    });
    expect(view?.trials).toEqual([]);

    // The labels arrive; the study trains on the new world and decides.
    await insert(
      'outcomes',
      after.slice(150).map((e) => e.outcome),
    );
    const outcome = await retuner.waitForStudy(studyId);
    expect(outcome.record.state).toBe('completed');

    // It learnt from rows after the onset only, and kept the newest of them back as the holdout.
    const prepared = JSON.parse(outcome.record.dataset) as PreparedDataset;
    const train = await readSplit(prepared.ref.dir, 'train');
    const validation = await readSplit(prepared.ref.dir, 'validation');
    const holdout = await readHoldout(prepared.holdout);
    for (const row of [...train, ...validation, ...holdout]) expect(row.id).toMatch(/^post-/);
    expect(train.length + validation.length + holdout.length).toBe(1200);

    // The challenger beats the champion on post-drift data, by the gate's rule.
    const decision = outcome.decision;
    expect(decision?.promoted).toBe(true);
    expect(decision?.championValue).toBeLessThan(0.8);
    expect(decision?.challengerValue).toBeGreaterThan(0.95);
    expect(decision?.ciLow).toBeGreaterThan(0.05);
    expect((await retuner.aliases(MODEL)).champion).toBe(`${studyId}-t${outcome.record.bestTrial}`);
    expect((await retuner.aliases(MODEL)).champion).not.toBe(champion);

    // The decision names the window it learnt from, in the stored evidence and the reason.
    const stored = (await retuner.decisions(MODEL)).find((d) => d.studyId === studyId);
    expect(stored?.evidence).toMatchObject({
      window: {
        policy: 'drift-onset',
        onsetMs,
        sinceMs: onsetMs,
        rows: { train: train.length, validation: validation.length, holdout: holdout.length },
      },
      testIndex: 1,
    });
    expect(stored?.reason).toMatch(
      new RegExp(`data: rows after the drift onset ${new Date(onsetMs).toISOString()}`),
    );
    // The new champion carries its own encoding, beside the model and in the registry.
    const version = await retuner.registry.getVersion(MODEL, `${studyId}-t${outcome.record.bestTrial}`);
    const beside = JSON.parse(
      await readFile(path.join(version?.artifactUri ?? '', 'driftguard-scoring.json'), 'utf8'),
    ) as { classes: string[] };
    expect(beside.classes).toEqual(['fraud', 'ok']);
    expect(version?.scoring).toEqual(beside);
  });
});
