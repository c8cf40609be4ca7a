import { describe, expect, it } from 'vitest';
import {
  binnedAggregatesFromRows,
  cbpeAggregatesFromRows,
  dleAggregatesFromRows,
  labelledScoreAggregatesFromRows,
  momentsFromRows,
  type FeatureColumn,
} from '../../detectors/index.js';
import { sqlIdentifier } from '../../kernel/sql.js';
import { EstimationStore } from '../../src/monitor/estimation/estimation-store.js';
import { featureColumns, fitEstimators, scoreOf } from '../../src/monitor/estimation/fit.js';
import type { EstimationRow } from '../../src/monitor/estimation/reference-rows.js';
import { inTimeSample, SLICES_PER_WINDOW, timeSample } from '../../src/monitor/estimation/time-sample.js';
import type { FittedEstimators } from '../../src/monitor/estimation/types.js';
import { outputGrids, readEstimationAggregates } from '../../src/monitor/estimation/window-reads.js';
import { modelSettings, monitoringSchema } from '../../src/monitor/options.js';
import { buildReferenceProfile } from '../../src/monitor/reference.js';
import { ALL_MIGRATIONS } from '../../src/store/schema.js';
import { cleanupsAfterEach, ENGINES, migratedDatabase, rng } from '../support/index.js';
import {
  binaryEvent,
  emptyRows,
  multiclassEvent,
  regressionEvent,
  type StreamRows,
} from '../support/estimation-streams.js';

/**
 * The estimation step's SQL against its specification, on every backend: the aggregates
 * ClickHouse computes for a window (score histograms per class and prediction, labelled score
 * counts, per-bin counts and sums, moments of the encoded rows, the outputs' grid counts) equal
 * the detectors' `*FromRows` helpers over the same rows pulled back — counts exactly, sums to
 * 1e-9 relative — for a binary classifier (scores as maps and as single numbers), a multiclass
 * one (rows lacking a class's score), and a regression, read together in one query per kind.
 */

const cleanups = cleanupsAfterEach();
const MINUTE = 60_000;
const GRID_CELLS = 4_096;
const HORIZON_MS = 3_600_000;

function expectClose(actual: readonly number[], expected: readonly number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i] as number;
    expect(Math.abs(a - e), `${what}[${i}]: ${a} vs ${e}`).toBeLessThanOrEqual(
      1e-9 * Math.max(1, Math.abs(e)),
    );
  });
}

describe.each(ENGINES)('estimation aggregates on the %s backend', (engine) => {
  it('equal the detectors’ specification for binary, multiclass and regression models in one read', async () => {
    const { store, drop } = await migratedDatabase('estagg', ALL_MIGRATIONS, engine);
    cleanups.push(drop);
    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const r = rng(11);
    const rows: StreamRows = emptyRows();
    const refStart = nowMs - 5 * 3_600_000;
    const windowStart = nowMs - 30 * MINUTE;
    for (let i = 0; i < 1_500; i++) {
      const ts = refStart + i * 1_000;
      binaryEvent(rows, r, 'bin', `b${i}`, ts, nowMs, { labelled: 0.9, singleScore: 0.2 });
      multiclassEvent(rows, r, 'multi', `m${i}`, ts, nowMs);
      regressionEvent(rows, r, 'reg', `r${i}`, ts, nowMs);
    }
    for (let i = 0; i < 1_200; i++) {
      const ts = windowStart + i * 1_000;
      binaryEvent(rows, r, 'bin', `bw${i}`, ts, nowMs, { shift: 0.7, labelled: 0.5, singleScore: 0.2 });
      multiclassEvent(rows, r, 'multi', `mw${i}`, ts, nowMs, { shift: 0.5, labelled: 0.5 });
      regressionEvent(rows, r, 'reg', `rw${i}`, ts, nowMs, { shift: 0.8, labelled: 0.5 });
    }
    await store.insert('predictions', rows.predictions);
    await store.insert('outcomes', rows.outcomes);

    const config = monitoringSchema.parse({
      models: {
        bin: { task: { type: 'classification', classes: ['fraud', 'ok'] } },
        multi: { task: { type: 'classification' } },
        reg: { task: { type: 'regression' } },
      },
    });
    const estimation = new EstimationStore(store);
    const fitted = new Map<string, FittedEstimators>();
    for (const [model, task] of [
      ['bin', 'classification'],
      ['multi', 'classification'],
      ['reg', 'regression'],
    ] as const) {
      const reference = await estimation.referenceRows(model, 1_500, {
        startMs: refStart,
        endMs: windowStart,
      });
      expect(reference).toHaveLength(1_500);
      const profile = buildReferenceProfile(
        reference.map((row) => ({ features: row.features })),
        {},
        'first_events',
      );
      const estimators = fitEstimators({
        rows: reference,
        profile,
        settings: modelSettings(config, model),
        task,
        referenceCreatedAtMs: nowMs,
        nowMs,
      });
      expect(estimators.reconstruction, `${model}: ${JSON.stringify(estimators.unavailable)}`).toBeDefined();
      if (task === 'classification') {
        expect(estimators.cbpe, `${model}: ${JSON.stringify(estimators.unavailable)}`).toBeDefined();
        expect(estimators.errorModel).toBeDefined();
      } else expect(estimators.dle, `${model}: ${JSON.stringify(estimators.unavailable)}`).toBeDefined();
      fitted.set(model, estimators);
    }
    expect(fitted.get('bin')?.cbpe?.scores).toEqual({ classes: ['fraud'], singleScore: true });
    expect(fitted.get('multi')?.cbpe?.scores).toEqual({ classes: ['a', 'b', 'c'], singleScore: false });

    const window = { startMs: windowStart, endMs: nowMs };
    const read = await readEstimationAggregates(
      store,
      window,
      HORIZON_MS,
      GRID_CELLS,
      [...fitted].map(([model, estimators]) => ({ model, estimators })),
    );
    const windowRows = async (model: string): Promise<EstimationRow[]> => {
      const got = await estimation.referenceRows(model, 100_000, window);
      expect(got).toHaveLength(1_200);
      return got;
    };

    // Classifiers: score histograms, labelled counts, error-model bins, moments.
    for (const model of ['bin', 'multi']) {
      const estimators = fitted.get(model) as FittedEstimators;
      const cbpe = estimators.cbpe;
      if (cbpe === undefined) throw new Error('no cbpe');
      const all = await windowRows(model);
      const scored = all.filter((row) =>
        cbpe.scores.classes.every((c) => scoreOf(row, c, cbpe.scores) !== undefined),
      );
      const scores = cbpe.scores.classes.map((c) =>
        Float64Array.from(scored, (row) => scoreOf(row, c, cbpe.scores) as number),
      );
      const classIndex = (label: string | null): number =>
        label === null ? -1 : cbpe.model.classes.indexOf(label);
      const expected = cbpeAggregatesFromRows(cbpe.model, {
        scores,
        predicted: Int32Array.from(scored, (row) => classIndex(row.predictionLabel)),
      });
      const got = read.get(model)?.cbpe;
      expect(got?.count, model).toBe(expected.count);
      expect(expected.count).toBeLessThan(all.length + 1);
      if (model === 'multi') expect(expected.count).toBeLessThan(all.length);
      expected.classes.forEach((h, t) => {
        expect(got?.classes[t]?.predicted.counts, `${model} class ${t} predicted`).toEqual(
          h.predicted.counts,
        );
        expect(got?.classes[t]?.other.counts).toEqual(h.other.counts);
        expectClose(got?.classes[t]?.predicted.sumScores ?? [], h.predicted.sumScores, `${model} Σ score`);
        expectClose(got?.classes[t]?.other.sumScores ?? [], h.other.sumScores, `${model} Σ score other`);
      });
      const labelled = scored.filter((row) => row.label !== null);
      expect(labelled.length).toBeGreaterThan(400);
      const expectedLabelled = labelledScoreAggregatesFromRows(cbpe.model, {
        scores: cbpe.scores.classes.map((c) =>
          Float64Array.from(labelled, (row) => scoreOf(row, c, cbpe.scores) as number),
        ),
        actual: Int32Array.from(labelled, (row) => classIndex(row.label)),
      });
      expect(read.get(model)?.labelled).toEqual(expectedLabelled);

      const errorModel = estimators.errorModel;
      if (errorModel === undefined) throw new Error('no error model');
      const kinds = new Map(errorModel.inputs.map((i) => [i.name, i.kind] as const));
      const expectedBins = binnedAggregatesFromRows(
        errorModel.inputs,
        featureColumns(
          all,
          errorModel.inputs.map((i) => i.name),
          kinds,
        ),
      );
      const bins = read.get(model)?.binned;
      expect(bins?.count).toBe(1_200);
      expect(bins?.binCounts).toEqual(expectedBins.binCounts);
      expectedBins.binSums.forEach((s, j) =>
        expectClose(bins?.binSums[j] ?? [], s, `${model} bin sums ${j}`),
      );
      checkMoments(read.get(model)?.moments, estimators, all);
    }

    // Regression: DLE's bins (features, then the prediction) and moments.
    const reg = fitted.get('reg') as FittedEstimators;
    const dle = reg.dle;
    if (dle === undefined) throw new Error('no dle');
    const regRows = await windowRows('reg');
    const features = dle.inputs.slice(0, -1);
    const expectedDle = dleAggregatesFromRows(dle, {
      features: featureColumns(
        regRows,
        features.map((i) => i.name),
        new Map(features.map((i) => [i.name, i.kind] as const)),
      ),
      predictions: Float64Array.from(regRows, (row) => row.predictionNumber ?? Number.NaN),
    });
    const regBins = read.get('reg')?.binned;
    expect(regBins?.binCounts).toEqual(expectedDle.binCounts);
    expectedDle.binSums.forEach((s, j) => expectClose(regBins?.binSums[j] ?? [], s, `reg bin sums ${j}`));
    checkMoments(read.get('reg')?.moments, reg, regRows);

    // Outputs: the scores' and predicted numbers' grid counts and moments, the predicted labels.
    for (const [model, estimators] of fitted) {
      const all = await windowRows(model);
      const outputs = read.get(model)?.outputs;
      const { grids, cells } = outputGrids(estimators.outputs, GRID_CELLS);
      for (const spec of estimators.outputs) {
        if (spec.source === 'label') {
          const counts = new Map<string, number>();
          for (const row of all)
            if (row.predictionLabel !== '')
              counts.set(row.predictionLabel, (counts.get(row.predictionLabel) ?? 0) + 1);
          expect(outputs?.labels, `${model} labels`).toEqual(counts);
          continue;
        }
        const grid = grids.get(spec.name);
        if (grid === undefined) throw new Error(`no grid for ${spec.name}`);
        const values = all.flatMap((row) => {
          const v =
            spec.source === 'number'
              ? row.predictionNumber
              : spec.source === 'score'
                ? row.score
                : (row.scores[spec.cls ?? ''] ?? null);
          return v === null ? [] : [v];
        });
        const expectedCells = new Map<number, number>();
        for (const v of values) {
          const cell = Math.max(-1, Math.min(cells, Math.floor((v - grid.lo) * grid.inverseWidth))) + 1;
          expectedCells.set(cell, (expectedCells.get(cell) ?? 0) + 1);
        }
        expect(outputs?.cells.get(spec.name), `${model} ${spec.name} cells`).toEqual(expectedCells);
        const m = outputs?.moments.get(spec.name);
        expect(m?.count).toBe(values.length);
        expectClose(
          [m?.sum ?? 0, m?.sumSquares ?? 0],
          [values.reduce((a, b) => a + b, 0), values.reduce((a, b) => a + b * b, 0)],
          `${model} ${spec.name} moments`,
        );
        expect(m?.min).toBe(Math.min(...values));
        expect(m?.max).toBe(Math.max(...values));
      }
    }
    // A window larger than maxWindowRows is read on one row in k by time slices: the same
    // aggregates over exactly the rows the sample's definition (inTimeSample) picks.
    const sampled = await readEstimationAggregates(store, window, HORIZON_MS, GRID_CELLS, [
      { model: 'bin', estimators: fitted.get('bin') as FittedEstimators, sampleEvery: 3 },
    ]);
    const slices = timeSample(window, 3);
    expect(slices.slices.length).toBeGreaterThanOrEqual(SLICES_PER_WINDOW);
    const ids = new Set(
      Array.from({ length: 1_200 }, (_, i) => i)
        .filter((i) => inTimeSample(windowStart + i * 1_000, slices))
        .map((i) => `bw${i}`),
    );
    expect(ids.size).toBeGreaterThan(300);
    expect(ids.size).toBeLessThan(500);
    const sample = (await windowRows('bin')).filter((row) => ids.has(row.id));
    const bin = fitted.get('bin') as FittedEstimators;
    const pca = bin.reconstruction;
    if (pca === undefined || bin.cbpe === undefined) throw new Error('no estimators');
    expect(sampled.get('bin')?.moments?.count).toBe(sample.length);
    checkMoments(sampled.get('bin')?.moments, bin, sample);
    expect(sampled.get('bin')?.outputs?.rows).toBe(sample.length);
    expect(sampled.get('bin')?.cbpe?.count).toBe(sample.length);
    // Realized ROC AUC reads every labelled row, sampled or not.
    expect(sampled.get('bin')?.labelled).toEqual(read.get('bin')?.labelled);

    // Only the expected outputs: the binary model's map holds both classes, some rows one number.
    expect(fitted.get('bin')?.outputs.map((o) => o.name)).toEqual([
      '__prediction__',
      '__score__',
      '__score__:fraud',
      '__score__:ok',
    ]);
    expect(fitted.get('reg')?.outputs.map((o) => o.name)).toEqual(['__prediction__']);
    // Sanity: the data really is in this database.
    const [count] = await store.select<{ n: string }>(
      'check',
      `SELECT count() AS n FROM ${sqlIdentifier(store.database)}.predictions`,
    );
    expect(Number(count?.n)).toBe(3 * 2_700);
  });
});

function checkMoments(
  got: { count: number; sum: readonly number[]; sumOfProducts: readonly number[] } | undefined,
  estimators: FittedEstimators,
  rows: readonly EstimationRow[],
): void {
  const pca = estimators.reconstruction;
  if (pca === undefined) throw new Error('no reconstruction');
  const columns: FeatureColumn[] = featureColumns(
    rows,
    pca.columns.map((c) => c.name),
    new Map(pca.columns.map((c) => [c.name, c.kind] as const)),
  );
  const expected = momentsFromRows(pca, columns);
  expect(got?.count).toBe(expected.count);
  expectClose(got?.sum ?? [], expected.sum, 'Σz');
  expectClose(got?.sumOfProducts ?? [], expected.sumOfProducts, 'Σzz');
}
