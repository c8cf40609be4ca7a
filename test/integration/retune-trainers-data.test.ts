import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatasetProvider,
  prepareDataset,
  readHoldout,
  readSplit,
  type DatasetMeta,
} from '../../retune/data/index.js';
import { retuneDataSchema } from '../../retune/options.js';
import { MONITOR_MIGRATIONS } from '../../src/monitor/migrations.js';
import { EVENT_MIGRATIONS } from '../../src/store/event-migrations.js';
import { insertObjects, type Store } from '../../kernel/store.js';
import { ENGINES, migratedDatabase } from '../support/index.js';

/**
 * retune/data on every backend (ClickHouse 18.16 and the current engine embedded): predictions FINAL inner-joined to outcomes,
 * split by time, encoded with the stored reference profile, written as JSONL.
 */

const MODEL = 'churn';
const N = 300;
const UNLABELLED = new Set(Array.from({ length: 20 }, (_, k) => 7 + k * 14));
const nowMs = Date.UTC(2026, 10, 20, 12, 0, 0);
const baseMs = nowMs - 10 * 3_600_000;
const tsOf = (i: number): number => baseMs + i * 60_000 + (i % 7) * 1_000;
const plans = ['basic', 'pro', 'enterprise', 'rare'];

function prediction(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const ts = tsOf(i);
  const ageMissing = i % 10 === 3;
  return {
    model: MODEL,
    ts: Math.floor(ts / 1000),
    ts_ms: ts,
    id: `e${i}`,
    version: 'v1',
    num_names: ageMissing ? ['income'] : ['age', 'income'],
    num_values: ageMissing ? [1000 + i] : [20 + (i % 50), 1000 + i],
    cat_names: ['plan'],
    cat_values: [plans[i % 4]],
    missing_names: ageMissing ? ['age'] : [],
    prediction_number: null,
    prediction_label: i % 2 === 0 ? 'yes' : 'no',
    score: 0.5,
    score_classes: [],
    score_values: [],
    extra: '',
    source: 'test',
    ingested_at: Math.floor(nowMs / 1000),
    ...extra,
  };
}

function outcome(i: number, label: string, ingestedAt: number): Record<string, unknown> {
  return {
    model: MODEL,
    ts: Math.floor((tsOf(i) + 30_000) / 1000),
    ts_ms: tsOf(i) + 30_000,
    id: `e${i}`,
    label,
    label_number: null,
    extra: '',
    source: 'test',
    ingested_at: ingestedAt,
  };
}

describe.each(ENGINES)('prepareDataset on the %s backend', (engine) => {
  let store: Store;
  let drop: () => Promise<void>;
  let work: string;
  const insert = (table: string, rows: Array<Record<string, unknown>>): Promise<void> =>
    insertObjects(store, table, rows);

  beforeAll(async () => {
    ({ store, drop } = await migratedDatabase(
      'retune_data',
      [...EVENT_MIGRATIONS, ...MONITOR_MIGRATIONS],
      engine,
    ));
    work = await mkdtemp(path.join(os.tmpdir(), 'driftguard-retune-data-'));

    const ingested = Math.floor(nowMs / 1000);
    const predictions = Array.from({ length: N }, (_, i) => prediction(i));
    // A replayed copy of some events (same key, later ingestion): FINAL must collapse it.
    const replays = [10, 11, 12].map((i) => prediction(i, { ingested_at: ingested + 5 }));
    // Another model, and events older than the lookback: both excluded.
    const other = Array.from({ length: 10 }, (_, i) => prediction(i, { model: 'other', id: `o${i}` }));
    const old = Array.from({ length: 10 }, (_, i) =>
      prediction(i, {
        id: `old${i}`,
        ts: Math.floor((nowMs - 3 * 86_400_000) / 1000),
        ts_ms: nowMs - 3 * 86_400_000,
      }),
    );
    await insert('predictions', [...predictions, ...replays, ...other, ...old]);
    const outcomes = Array.from({ length: N }, (_, i) => i)
      .filter((i) => !UNLABELLED.has(i))
      .map((i) => outcome(i, (20 + (i % 50)) % 3 === 0 ? 'yes' : 'no', ingested));
    // A later correction of e20's label wins over the first outcome.
    outcomes.push(outcome(20, 'corrected', ingested + 60));
    await insert('outcomes', [
      ...outcomes,
      ...old.map((_, k) => ({ ...outcome(k, 'yes', ingested), id: `old${k}` })),
    ]);
    await insert('reference_profiles', [
      {
        model: MODEL,
        created_at: Math.floor(nowMs / 1000) - 86_400,
        source: 'test',
        rows: 1000,
        // The monitor's layout (src/monitor/reference.ts).
        profile: JSON.stringify({
          version: 1,
          source: 'test',
          rows: 100,
          features: {
            age: {
              kind: 'numeric',
              profile: { kind: 'numeric', count: 100, missing: 0, mean: 40, m2: 100 * 100, min: 20, max: 69 },
            },
            plan: {
              kind: 'categorical',
              profile: {
                kind: 'categorical',
                count: 100,
                missing: 0,
                categories: ['basic', 'pro'],
                counts: [60, 40],
                other: 0,
              },
            },
          },
        }),
      },
    ]);
  });

  afterAll(async () => {
    await drop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('splits labelled events by time, holdout newest and private, encoded with the reference profile', async () => {
    const dir = path.join(work, 'ds1');
    const prepared = await prepareDataset(store, MODEL, {
      dir,
      holdoutDir: path.join(work, 'ds1-private'),
      lookbackMs: 86_400_000,
      untilMs: nowMs,
      clock: () => nowMs,
    });
    const ref = prepared.ref;
    const labelled = N - UNLABELLED.size;
    // Trainers get train and validation; the holdout is elsewhere, raw and labelled.
    expect(ref.rows).toEqual({ train: labelled - 42 - 42, validation: 42, holdout: 0 });
    expect(prepared.holdout).toEqual({ dir: path.join(work, 'ds1-private'), rows: 42 });
    expect(await readdir(dir)).toEqual(['meta.json', 'train.jsonl', 'validation.jsonl']);
    expect(prepared.scoring.inputColumns).toEqual(ref.inputColumns);
    expect(prepared.window).toEqual({ policy: 'lookback', sinceMs: nowMs - 86_400_000, untilMs: nowMs });
    expect(ref.task).toBe('classification');
    expect(ref.classes).toEqual(['corrected', 'no', 'yes']);
    expect(ref.inputColumns).toEqual([
      'age',
      'age:missing',
      'income',
      'income:missing',
      'plan=basic',
      'plan=pro',
      'plan=__other__',
    ]);

    const train = await readSplit(dir, 'train');
    const validation = await readSplit(dir, 'validation');
    const holdout = await readHoldout(prepared.holdout);
    expect([train.length, validation.length, holdout.length]).toEqual([ref.rows.train, 42, 42]);
    // The private holdout keeps raw features and the label as logged, for each version's own encoding.
    const last = holdout.at(-1);
    expect(last).toMatchObject({ id: `e${N - 1}`, tsMs: tsOf(N - 1) });
    expect(last?.features.categorical).toEqual({ plan: plans[(N - 1) % 4] });
    expect(typeof last?.label).toBe('string');
    const index = (id: string): number => Number(id.slice(1));
    const all = [...train, ...validation, ...holdout].map((r) => index(r.id));
    // Oldest first, no duplicates (the replays collapsed), no unlabelled, other-model or old rows.
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(new Set(all).size).toBe(labelled);
    expect(all.some((i) => UNLABELLED.has(i))).toBe(false);
    expect([...train, ...validation, ...holdout].every((r) => /^e\d+$/.test(r.id))).toBe(true);
    expect(Math.max(...train.map((r) => index(r.id)))).toBeLessThan(
      Math.min(...validation.map((r) => index(r.id))),
    );
    expect(Math.max(...validation.map((r) => index(r.id)))).toBeLessThan(
      Math.min(...holdout.map((r) => index(r.id))),
    );
    expect(holdout.map((r) => index(r.id))).toContain(N - 1);

    // e20: corrected label; age 40 → (40 - 40) / 10 = 0; plan 'basic' (20 % 4 = 0).
    const e20 = train.find((r) => r.id === 'e20');
    expect(e20?.y).toBe(0);
    expect(e20?.x[0]).toBe(0);
    expect(e20?.x.slice(4)).toEqual([1, 0, 0]);
    // e13: age missing → 0 and indicator 1; plan 'pro'. e14: age 34 → -0.6; 'enterprise' → other.
    expect(train.find((r) => r.id === 'e13')?.x.slice(0, 2)).toEqual([0, 1]);
    const e14 = train.find((r) => r.id === 'e14');
    expect(e14?.x[0]).toBeCloseTo(-0.6, 12);
    expect(e14?.x.slice(4)).toEqual([0, 0, 1]);

    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as DatasetMeta;
    expect(meta.format).toBe('driftguard.retune.dataset');
    expect(meta.encoding.numeric.map((f) => [f.name, f.source])).toEqual([
      ['age', 'reference'],
      ['income', 'train'],
    ]);
    expect(meta.ranges.train.lastTsMs).toBeLessThan(meta.ranges.validation.firstTsMs);
    expect(meta.ranges.validation.lastTsMs).toBeLessThan(holdout[0]?.tsMs ?? 0);
    expect(Object.keys(meta.ranges)).toEqual(['train', 'validation']);
    // income standardised with the train split only: train rows average to 0.
    const incomeMean = train.reduce((s, r) => s + (r.x[2] as number), 0) / train.length;
    expect(Math.abs(incomeMean)).toBeLessThan(1e-9);
  });

  it('honours fixed split sizes, maxRows (newest kept) and reference: none', async () => {
    const dir = path.join(work, 'ds2');
    const prepared = await prepareDataset(store, MODEL, {
      dir,
      lookbackMs: 86_400_000,
      untilMs: nowMs,
      maxRows: 100,
      split: { validationRows: 20, holdoutRows: 10 },
      reference: 'none',
      missingIndicators: false,
      maxCategories: 2,
    });
    expect(prepared.ref.rows).toEqual({ train: 70, validation: 20, holdout: 0 });
    expect(prepared.holdout.rows).toBe(10);
    expect(prepared.ref.inputColumns).toEqual([
      'age',
      'income',
      'plan=basic',
      'plan=enterprise',
      'plan=__other__',
    ]);
    const holdout = await readHoldout(prepared.holdout);
    expect(holdout[holdout.length - 1]?.id).toBe(`e${N - 1}`);
  });

  it('serves the orchestrator through createDatasetProvider with every retune.data key', async () => {
    const provider = createDatasetProvider(store, { taskOf: () => 'regression' });
    // Each key shown in docs/trainers.md, through the config schema as the daemon compiles it.
    const options = retuneDataSchema.parse({
      task: 'classification',
      maxRows: 100,
      lookbackMs: 86_400_000,
      split: { validationRows: 15, holdoutFraction: 0.25, minRows: 50 },
      reference: 'none',
      missingIndicators: false,
      maxCategories: 1,
      encoding: { numeric: ['age', { name: 'income', mean: 1000, std: 100 }], categorical: ['plan'] },
    });
    const prepared = await provider.prepare({
      model: MODEL,
      dir: path.join(work, 'ds4'),
      holdoutDir: path.join(work, 'ds4-holdout'),
      window: { policy: 'lookback', sinceMs: nowMs - 86_400_000, untilMs: nowMs },
      options,
      signal: new AbortController().signal,
    });
    // task wins over the monitor's; split sizes, minRows, maxRows; fixed features and statistics;
    // no missing indicators; one category learnt from train (reference: none).
    expect(prepared.ref.task).toBe('classification');
    expect(prepared.ref.rows).toEqual({ train: 60, validation: 15, holdout: 0 });
    expect(prepared.holdout.rows).toBe(25);
    expect(prepared.ref.inputColumns).toEqual(['age', 'income', 'plan=basic', 'plan=__other__']);
    expect(prepared.scoring.encoding.numeric.map((f) => [f.name, f.source, f.mean])).toEqual([
      ['age', 'train', expect.any(Number)],
      ['income', 'explicit', 1000],
    ]);
    await expect(
      provider.prepare({
        model: MODEL,
        dir: path.join(work, 'ds5'),
        holdoutDir: path.join(work, 'ds5-holdout'),
        window: { policy: 'lookback', sinceMs: nowMs - 86_400_000, untilMs: nowMs },
        options: retuneDataSchema.parse({ task: 'classification', maxRows: 40, split: { minRows: 50 } }),
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow(
      /cannot split the data of model "churn": only 40 labelled rows, fewer than split.minRows \(50\)/,
    );
  });

  it('counts labelled rows in a window, and reads only rows after a drift onset', async () => {
    const provider = createDatasetProvider(store);
    const onsetMs = tsOf(200);
    const labelledAfter = Array.from({ length: N - 200 }, (_, k) => 200 + k).filter(
      (i) => !UNLABELLED.has(i),
    ).length;
    expect(await provider.countLabelled(MODEL, { sinceMs: onsetMs - (onsetMs % 1000), untilMs: nowMs })).toBe(
      labelledAfter,
    );
    const prepared = await provider.prepare({
      model: MODEL,
      dir: path.join(work, 'ds6'),
      holdoutDir: path.join(work, 'ds6-holdout'),
      window: { policy: 'drift-onset', onsetMs, sinceMs: onsetMs - (onsetMs % 1000), untilMs: nowMs },
      options: retuneDataSchema.parse({ reference: 'none' }),
      signal: new AbortController().signal,
    });
    const train = await readSplit(path.join(work, 'ds6'), 'train');
    expect(Math.min(...train.map((r) => Number(r.id.slice(1))))).toBe(200);
    expect(prepared.ref.rows.train + prepared.ref.rows.validation + prepared.holdout.rows).toBe(
      labelledAfter,
    );
    expect(prepared.window).toMatchObject({ policy: 'drift-onset', onsetMs });
  });

  it('fails with the count and the remedy when too few rows are labelled', async () => {
    await expect(
      prepareDataset(store, 'nobody', {
        dir: path.join(work, 'ds3'),
        untilMs: nowMs,
        reference: 'none',
      }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/only 0 labelled rows/) as unknown,
    });
  });
});
