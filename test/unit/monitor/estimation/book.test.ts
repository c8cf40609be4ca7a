import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../kernel/logger.js';
import type { ModelPlan } from '../../../../src/monitor/cycle-plan.js';
import { EstimatorBook, type EstimatorStorePort } from '../../../../src/monitor/estimation/estimator-book.js';
import type { EstimationRow } from '../../../../src/monitor/estimation/reference-rows.js';
import type { FittedEstimators } from '../../../../src/monitor/estimation/types.js';
import { modelSettings, monitoringSchema, type MonitoringInput } from '../../../../src/monitor/options.js';
import type { LoadedReference } from '../../../../src/monitor/references.js';
import { buildReferenceProfile } from '../../../../src/monitor/reference.js';
import { binaryRows } from './rows.js';

const logger = createLogger('silent');

/** A store fake: reference rows by model, the estimators saved, and calls counted. */
function fakeStore(rows: Map<string, EstimationRow[]>) {
  const saved = new Map<string, FittedEstimators>();
  const calls = { rows: 0, load: 0, save: 0 };
  const store: EstimatorStorePort = {
    referenceRows: (model, limit) => {
      calls.rows++;
      return Promise.resolve((rows.get(model) ?? []).slice(0, limit));
    },
    loadEstimators: (refs) => {
      calls.load++;
      return Promise.resolve(
        new Map(
          refs.flatMap((r) => {
            const s = saved.get(r.model);
            return s !== undefined && s.referenceCreatedAtMs === r.referenceCreatedAtMs
              ? [[r.model, s] as const]
              : [];
          }),
        ),
      );
    },
    saveEstimators: (model, e) => {
      calls.save++;
      saved.set(model, e);
      return Promise.resolve();
    },
  };
  return { store, saved, calls };
}

function plan(
  model: string,
  rows: readonly EstimationRow[],
  createdAtMs: number,
  config: NonNullable<MonitoringInput['models']>[string] = {},
  source = 'first_events',
): ModelPlan {
  const profile = {
    ...buildReferenceProfile(
      rows.map((r) => ({ features: r.features, tsMs: r.tsMs })),
      {},
      source,
    ),
  };
  const reference = {
    profile,
    createdAtMs,
    grids: new Map(),
    cells: 0,
    grid: { id: createdAtMs, cells: 0, features: new Map() },
  } as LoadedReference;
  return {
    model,
    settings: modelSettings(
      monitoringSchema.parse({
        models: { [model]: { task: { type: 'classification', classes: ['fraud', 'ok'] }, ...config } },
      }),
      model,
    ),
    reference,
    window: { startMs: 0, endMs: 1 },
    task: 'classification',
  };
}

describe('the estimator book', () => {
  it('fits once per reference, stores the fit, and another replica loads it instead of fitting again', async () => {
    const rows = binaryRows(1_200);
    const { store, calls } = fakeStore(new Map([['m', rows]]));
    const book = new EstimatorBook(store, logger);
    const p = plan('m', rows, 1_000);
    const first = await book.entries([p], 10_000);
    expect(first.get('m')?.estimators?.cbpe).toBeDefined();
    expect(calls).toEqual({ rows: 1, load: 1, save: 1 });
    await book.entries([p], 20_000_000);
    expect(calls).toEqual({ rows: 1, load: 1, save: 1 });
    const other = new EstimatorBook(store, logger);
    expect((await other.entries([p], 30_000)).get('m')?.estimators?.fittedAtMs).toBe(10_000);
    expect(calls).toEqual({ rows: 1, load: 2, save: 1 });
    // A new reference is fitted at once.
    await book.entries([plan('m', rows, 2_000)], 40_000);
    expect(calls.save).toBe(2);
  });

  it('fits again every refitIntervalMs while labels are awaited, and stops once they arrived', async () => {
    const late = binaryRows(1_200, { labelled: 0.3 });
    const data = new Map([['m', late]]);
    const { store, calls } = fakeStore(data);
    const book = new EstimatorBook(store, logger);
    const p = plan('m', late, 1_000, { estimation: { refitIntervalMs: 60_000 } });
    const waiting = await book.entries([p], 0);
    expect(waiting.get('m')?.estimators?.waitingForLabels).toBe(true);
    await book.entries([p], 59_999);
    expect(calls.save).toBe(1);
    // The labels arrive; the next attempt after the interval fits CBPE and stops retrying.
    data.set(
      'm',
      late.map((r, i) => ({ ...r, label: r.label ?? (i % 2 === 0 ? 'fraud' : 'ok') })),
    );
    const done = await book.entries([p], 60_000);
    expect(done.get('m')?.estimators?.cbpe).toBeDefined();
    expect(calls.save).toBe(2);
    await book.entries([p], 600_000);
    expect(calls.save).toBe(2);
  });

  it('reports an uploaded reference, or reference rows gone from the event store, without fitting', async () => {
    const rows = binaryRows(1_200);
    const { store, calls } = fakeStore(new Map([['gone', rows.slice(0, 900)]]));
    const book = new EstimatorBook(store, logger);
    const entries = await book.entries(
      [plan('up', rows, 1_000, { reference: { type: 'upload' } }, 'upload'), plan('gone', rows, 1_000)],
      0,
    );
    expect(entries.get('up')?.unavailable?.cbpe).toMatch(/^the reference was uploaded/);
    expect(entries.get('up')?.unavailable?.reconstruction).toMatch(/^the reference was uploaded/);
    expect(entries.get('up')?.unavailable?.dle).toBeUndefined();
    expect(entries.get('gone')?.unavailable?.cbpe).toBe(
      "the reference's 1200 events are no longer all in the event store (found 900 of the first 1200; retention or a changed reference setting)",
    );
    expect(calls.save).toBe(0);
  });
});
