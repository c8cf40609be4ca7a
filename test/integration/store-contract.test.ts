import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../kernel/store.js';
import type { OutcomeEvent, PredictionEvent } from '../../src/events/types.js';
import { MonitorStore } from '../../src/monitor/monitor-store.js';
import { RowWindowReader } from '../../src/monitor/row-window-reader.js';
import type { ModelEvaluation } from '../../src/monitor/evaluate.js';
import { labelledEventsSql } from '../../retune/data/load.js';
import { outcomeRow, predictionRow } from '../../src/store/event-rows.js';
import { ALL_MIGRATIONS } from '../../src/store/schema.js';
import { ENGINES, migratedDatabase, type TestBackend } from '../support/index.js';

/**
 * The monitor's and the retune loader's queries that the other suites do not reach, on every
 * backend, seeded with the same rows: each answer is checked against what the rows imply, and the
 * backends must agree. (Window aggregates, segments, alert outbox joins, study persistence and
 * the dashboards' SQL have their own suites on every backend.)
 */

const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
const HORIZON_MS = 60_000;

function prediction(i: number, over: Partial<PredictionEvent> = {}): PredictionEvent {
  return {
    model: 'demand',
    version: i < 30 ? 'v1' : 'v2',
    id: `p${i}`,
    timestampMs: T0 + i * 1_000,
    features: { x: i, region: i % 2 === 0 ? 'north' : 'south' },
    prediction: 10 + i,
    scores: null,
    extra: '',
    ...over,
  };
}

function outcome(i: number, label: number, delayMs: number, over: Partial<OutcomeEvent> = {}): OutcomeEvent {
  return { model: 'demand', id: `p${i}`, timestampMs: T0 + i * 1_000 + delayMs, label, extra: '', ...over };
}

const lines = <T>(rows: readonly T[]): string[] => rows.map((row) => `${JSON.stringify(row)}\n`);

/** Seeds one database: 40 regression predictions (one replayed), labels with a late one and a correction. */
async function seed(store: Store): Promise<void> {
  // Each in an insert of its own, as a replay or a later outcome arrives: an engine may collapse
  // copies within one insert, but never across inserts before a merge.
  const first = Array.from({ length: 40 }, (_, i) => predictionRow(prediction(i), 'test', T0));
  await store.insert('predictions', lines(first));
  // A replay of p5, stored again later: FINAL must count it once.
  await store.insert('predictions', lines([predictionRow(prediction(5), 'test', T0 + 60_000)]));
  const labels = Array.from({ length: 20 }, (_, i) =>
    outcomeRow(outcome(i, 12 + i, 5_000), 'test', T0 + 10_000),
  );
  await store.insert('outcomes', lines(labels));
  await store.insert(
    'outcomes',
    lines([
      // p20 is labelled after the horizon: not part of the window's labelled rows.
      outcomeRow(outcome(20, 99, HORIZON_MS + 5_000), 'test', T0 + 90_000),
      // p3 is corrected by a later outcome: the latest received wins.
      outcomeRow(outcome(3, 100, 6_000), 'test', T0 + 70_000),
    ]),
  );
}

const backends = new Map<
  TestBackend,
  { store: Store; monitor: MonitorStore; rows: RowWindowReader; drop: () => Promise<void> }
>();
beforeAll(async () => {
  for (const engine of ENGINES) {
    const { store, drop } = await migratedDatabase('contract', ALL_MIGRATIONS, engine);
    await seed(store);
    backends.set(engine, { store, monitor: new MonitorStore(store), rows: new RowWindowReader(store), drop });
  }
});
afterAll(async () => {
  for (const { drop } of backends.values()) await drop();
});

function backend(engine: TestBackend): { store: Store; monitor: MonitorStore; rows: RowWindowReader } {
  const found = backends.get(engine);
  if (found === undefined) throw new Error(`no ${engine} backend`);
  return found;
}

/** Numbers to 12 significant digits: the engines may sum in another order. */
function comparable(value: unknown): unknown {
  if (typeof value === 'number') return Number(value.toPrecision(12));
  if (value instanceof Map) return comparable([...value.entries()]);
  if (Array.isArray(value)) return value.map(comparable);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v)]));
  return value;
}

/** Runs `read` on every backend; all must give the same answer, which is returned. */
async function onEvery<T>(
  read: (b: { store: Store; monitor: MonitorStore; rows: RowWindowReader }) => Promise<T>,
): Promise<T> {
  const answers = [];
  for (const engine of ENGINES) answers.push(await read(backend(engine)));
  for (const answer of answers.slice(1)) expect(comparable(answer)).toEqual(comparable(answers[0]));
  return answers[0] as T;
}

const window = { startMs: T0, endMs: T0 + 40_000 };

describe(`store queries on ${ENGINES.join(' and ')}, with the same answers`, () => {
  it('joins regression labels within the horizon, latest correction first, each prediction once', async () => {
    const sums = await onEvery(async ({ rows }) => {
      const aggregates = await rows.aggregates('demand', window, new Map(), 64, [], 'regression', HORIZON_MS);
      return aggregates.labels;
    });
    // Labelled within the horizon: p0..p19; p3's label corrected to 100.
    const pairs = Array.from({ length: 20 }, (_, i) => ({ y: i === 3 ? 100 : 12 + i, yhat: 10 + i }));
    const expected = {
      count: 20,
      sumAbsError: pairs.reduce((s, p) => s + Math.abs(p.y - p.yhat), 0),
      sumSquaredError: pairs.reduce((s, p) => s + (p.y - p.yhat) ** 2, 0),
      sumY: pairs.reduce((s, p) => s + p.y, 0),
      sumYSquared: pairs.reduce((s, p) => s + p.y * p.y, 0),
    };
    expect(sums?.kind).toBe('regression');
    if (sums?.kind !== 'regression') return;
    expect(sums.sums).toMatchObject(expected);
    expect(sums.sums.sumAbsPercentageError).toBeCloseTo(
      pairs.reduce((s, p) => s + Math.abs(p.y - p.yhat) / Math.abs(p.y), 0),
      12,
    );
  });

  it('joins the labels of several models in one query, each to its own model although their ids are the same', async () => {
    // Twins: the same ids (one holding a `/`) under two models, and a third model's outcomes for
    // those ids that the group must not see.
    const ids = Array.from({ length: 10 }, (_, i) => (i === 7 ? 'shared/7' : `shared${i}`));
    const twin = (model: string, i: number, predicted: string | number): PredictionEvent => ({
      ...prediction(i, { model, id: ids[i] as string, prediction: predicted }),
    });
    const label = (model: string, i: number, value: string | number): OutcomeEvent =>
      outcome(i, 0, 2_000, { model, id: ids[i] as string, label: value });
    const predictions = ids.flatMap((_, i) => [
      twin('twin-a', i, 'x'),
      twin('twin.b', i, 'y'),
      twin('reg_a', i, 10),
      twin('reg_b', i, 20),
    ]);
    const outcomes = ids.flatMap((_, i) => [
      label('twin-a', i, 'x'),
      label('twin.b', i, i < 5 ? 'x' : 'y'),
      label('other', i, 'z'),
      label('reg_a', i, 11),
      label('reg_b', i, i < 5 ? 18 : 20),
    ]);
    const answers: unknown[] = [];
    for (const engine of ENGINES) {
      const { store, drop } = await migratedDatabase('twins', ALL_MIGRATIONS, engine);
      try {
        await store.insert('predictions', lines(predictions.map((e) => predictionRow(e, 'test', T0))));
        await store.insert('outcomes', lines(outcomes.map((e) => outcomeRow(e, 'test', T0))));
        const tasks = new Map<string, 'classification' | 'regression'>([
          ['twin-a', 'classification'],
          ['twin.b', 'classification'],
          ['reg_a', 'regression'],
          ['reg_b', 'regression'],
        ]);
        const labels = await new RowWindowReader(store).labelsOf(tasks, window, HORIZON_MS, true);
        answers.push(comparable(labels));
      } finally {
        await drop();
      }
    }
    for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
    const confusion = (rows: Record<string, Record<string, number>>) =>
      new Map(
        Object.entries(rows).map(([actual, byPredicted]) => [actual, new Map(Object.entries(byPredicted))]),
      );
    const sums = (pairs: Array<{ y: number; yhat: number }>) => ({
      count: pairs.length,
      sumAbsError: pairs.reduce((t, p) => t + Math.abs(p.y - p.yhat), 0),
      sumSquaredError: pairs.reduce((t, p) => t + (p.y - p.yhat) ** 2, 0),
      sumAbsPercentageError: pairs.reduce((t, p) => t + Math.abs(p.y - p.yhat) / Math.abs(p.y), 0),
      sumY: pairs.reduce((t, p) => t + p.y, 0),
      sumYSquared: pairs.reduce((t, p) => t + p.y * p.y, 0),
    });
    expect(answers[0]).toEqual(
      comparable(
        new Map<string, unknown>([
          ['twin-a', { kind: 'classification', confusion: confusion({ x: { x: 10 } }) }],
          ['twin.b', { kind: 'classification', confusion: confusion({ x: { y: 5 }, y: { y: 5 } }) }],
          ['reg_a', { kind: 'regression', sums: sums(ids.map(() => ({ y: 11, yhat: 10 }))) }],
          [
            'reg_b',
            { kind: 'regression', sums: sums(ids.map((_, i) => ({ y: i < 5 ? 18 : 20, yhat: 20 }))) },
          ],
        ]),
      ),
    );
  });

  it('loads labelled events for retune: predictions once each, outcomes reduced to the latest, newest rows kept', async () => {
    const rows = await onEvery(({ store }) =>
      store.select<{ id: string; o_label_number: number }>(
        'labelled events',
        labelledEventsSql(store.database, 'demand', { sinceMs: T0, untilMs: T0 + 3_600_000, maxRows: 10 }),
      ),
    );
    // 21 labelled predictions (p0..p20, horizon does not apply to retune), newest 10 first.
    expect(rows.map((r) => r.id)).toEqual([
      'p20',
      'p19',
      'p18',
      'p17',
      'p16',
      'p15',
      'p14',
      'p13',
      'p12',
      'p11',
    ]);
    expect(rows[0]?.o_label_number).toBe(99);
  });

  it('finds where the last N events start, and samples the first N once each', async () => {
    const last = await onEvery(({ monitor }) => monitor.lastEventsWindow('demand', 10, T0 + 40_000));
    expect(last).toEqual({ startMs: T0 + 30_000, endMs: T0 + 40_000 });
    const sample = await onEvery(({ monitor }) => monitor.sample('demand', 8));
    expect(sample.map((s) => s.features['x'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sample[5]).toEqual({
      features: { x: 5, region: 'south' },
      tags: { version: 'v1' },
      tsMs: T0 + 5_000,
    });
  });

  it('counts stored rows per model, in all and since a window start, and knows the task and tag values', async () => {
    // Plain counts: a replayed copy counts until a merge (the API says so). Merge first, so that
    // the answer does not depend on when the background merge happens. On the 18.16 cluster the
    // newest quorum-written part is never merged (OPTIMIZE fails on it), so there the replayed
    // copies (one prediction, one outcome) may still count.
    const merged = ENGINES.filter((engine) => engine !== 'cluster');
    const countsOn = (engine: TestBackend) =>
      backend(engine).monitor.storedCounts(new Map([['demand', T0 + 30_000]]), 0);
    for (const engine of merged) {
      const { store } = backend(engine);
      for (const table of ['predictions', 'outcomes'])
        await store.command('merge', `OPTIMIZE TABLE ${store.database}.${table} FINAL`);
    }
    const expected = { predictions: { total: 40, window: 10 }, outcomes: { total: 21, window: 1 } };
    for (const engine of merged)
      expect([...(await countsOn(engine)).entries()], engine).toEqual([['demand', expected]]);
    if (ENGINES.includes('cluster')) {
      const [[model, counts] = []] = [...(await countsOn('cluster')).entries()];
      expect(model).toBe('demand');
      expect([40, 41]).toContain(counts?.predictions.total);
      expect([21, 22]).toContain(counts?.outcomes.total);
      expect([counts?.predictions.window, counts?.outcomes.window]).toEqual([10, 1]);
    }
    expect(
      await onEvery(async ({ monitor }) =>
        (await monitor.inferTasks(['demand'], window.startMs)).get('demand'),
      ),
    ).toBe('regression');
    // Tag counts pick the segments worth evaluating: plain counts too (p5, replayed, is a v1).
    const versionsOn = async (engine: TestBackend) => [
      ...(await backend(engine).monitor.tagCounts('demand', window, 'version')).entries(),
    ];
    for (const engine of merged)
      expect(await versionsOn(engine), engine).toEqual([
        ['v1', 30],
        ['v2', 10],
      ]);
    if (ENGINES.includes('cluster')) {
      const [[, v1] = [], ...rest] = await versionsOn('cluster');
      expect([30, 31]).toContain(v1);
      expect(rest).toEqual([['v2', 10]]);
    }
  });

  it('writes an evaluation to every result table and reads back history and health', async () => {
    const evaluation = {
      model: 'demand',
      evaluatedAtMs: T0 + 45_000,
      windowStartMs: window.startMs,
      windowEndMs: window.endMs,
      events: 40,
      labelled: 20,
      coverage: 0.5,
      status: 'warning',
      reasons: ['x drifted'],
      features: 2,
      driftedFeatures: 1,
      segment: '',
      drift: [
        {
          feature: 'x',
          kind: 'numeric',
          detector: 'ks',
          statistic: 0.4,
          pValue: 0.001,
          effect: 0.3,
          threshold: 0.05,
          drifted: true,
          status: 'warning',
          windowCount: 40,
          referenceCount: 100,
          details: {},
        },
        {
          feature: 'x',
          kind: 'numeric',
          detector: 'wasserstein',
          statistic: 0.2,
          pValue: null,
          effect: null,
          threshold: 0.1,
          drifted: true,
          status: 'warning',
          windowCount: 40,
          referenceCount: 100,
          details: {},
        },
      ],
      performance: [{ metric: 'mae', value: 4.5, threshold: 5, breaching: false }],
      quality: [
        { feature: 'x', rule: 'missing_rate', value: 0, threshold: 0.1, breaching: false, details: {} },
      ],
      segments: [],
    } as unknown as ModelEvaluation; // the fields writeEvaluation reads; the rest of the type is the monitor's business
    for (const engine of ENGINES) await backend(engine).monitor.writeEvaluations([evaluation], 'replica-1');
    const history = await onEvery(({ monitor }) =>
      monitor.driftHistory({
        model: 'demand',
        fromMs: T0,
        toMs: T0 + 60_000,
        detector: 'ks',
        limit: 10,
        offset: 0,
      }),
    );
    expect(history).toEqual([
      expect.objectContaining({
        feature: 'x',
        detector: 'ks',
        statistic: 0.4,
        p_value: 0.001,
        drifted: 1,
        status: 'warning',
      }),
    ]);
    const [health] = await onEvery(({ monitor }) => monitor.latestHealth('demand'));
    expect(health).toMatchObject({
      model: 'demand',
      status: 'warning',
      reasons: '["x drifted"]',
      replica: 'replica-1',
    });
    expect(Number(health?.evaluated_at_ms)).toBe(T0 + 45_000);
    for (const table of ['performance_results', 'quality_results'])
      expect(
        await onEvery(async ({ store }) =>
          Number(
            (
              await store.select<{ n: string }>(
                'count',
                `SELECT count() AS n FROM ${store.database}.${table}`,
              )
            )[0]?.n,
          ),
        ),
      ).toBe(1);
  });

  it('saves a reference and loads the newest one back', async () => {
    const profile = { version: 1, source: 'upload', rows: 2, features: {} } as never; // an empty profile suffices here
    for (const engine of ENGINES) {
      await backend(engine).monitor.saveReference('demand', profile, T0);
      await backend(engine).monitor.saveReference(
        'demand',
        { ...(profile as object), rows: 3 } as never,
        T0 + 2_000,
      );
    }
    const loaded = await onEvery(({ monitor }) => monitor.loadReference('demand'));
    expect(loaded).toEqual({
      profile: { version: 1, source: 'upload', rows: 3, features: {} },
      createdAtMs: T0 + 2_000,
    });
  });
});
