import { insertObjects, type Store } from '../../../kernel/store.js';

/**
 * Demo-like rows for every table the dashboards read, for the integration test that runs every
 * panel's SQL (test/integration/dashboards-queries.test.ts). Two models: `fraud` (a binary
 * classifier with labels) and `demand` (a regression). 12 hours of history ending at `nowSec`,
 * so both the dashboard range (last 6 h) and its baseline (the 6 h before) hold data. Drift
 * starts on `amount` 3 hours ago, which makes `fraud` critical: its estimated performance falls
 * (labels arrive two hours late, so the newest windows have an estimate and no realized value),
 * the reconstruction error leaves its band and `amount` explains it.
 */

type Row = Record<string, unknown>;

/** DateTime columns take Unix seconds in JSONEachRow: no time zone involved. */
function insert(store: Store, table: string, rows: Row[]): Promise<void> {
  return insertObjects(store, table, rows);
}

const HOUR = 3600;
const range = (from: number, to: number, step: number): number[] => {
  const out: number[] = [];
  for (let t = from; t <= to; t += step) out.push(t);
  return out;
};

/** A deterministic pseudo-random sequence, so failures reproduce. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export async function seedDashboardData(store: Store, nowSec: number): Promise<void> {
  const random = rng(42);
  const start = nowSec - 12 * HOUR;
  const driftFrom = nowSec - 3 * HOUR;
  const predictions: Row[] = [];
  const outcomes: Row[] = [];
  for (const [i, ts] of range(start, nowSec - 60, 120).entries()) {
    const drifted = ts >= driftFrom;
    const amount = (drifted ? 180 : 100) + random() * 50;
    const p = Math.min(0.99, random() * (drifted ? 0.6 : 0.3));
    const label = p > 0.2 ? 'fraud' : 'ok';
    const ageMissing = i % 10 === 0;
    const base = { ts, ts_ms: ts * 1000, extra: '', source: 'demo', ingested_at: ts + 1 };
    predictions.push({
      ...base,
      version: '7',
      model: 'fraud',
      id: `f-${i}`,
      num_names: ageMissing ? ['amount'] : ['amount', 'age'],
      num_values: ageMissing ? [amount] : [amount, 20 + (i % 50)],
      cat_names: ['country'],
      cat_values: [['DE', 'FR', 'US'][i % 3]],
      missing_names: ageMissing ? ['age'] : [],
      prediction_number: p,
      prediction_label: label,
      score: p,
      score_classes: ['fraud', 'ok'],
      score_values: [p, 1 - p],
    });
    if (i % 3 !== 0) {
      const truth = random() < (label === 'fraud' ? 0.7 : 0.1) ? 'fraud' : 'ok';
      outcomes.push({
        ...base,
        model: 'fraud',
        id: `f-${i}`,
        label: truth,
        label_number: null,
        ts: ts + 600,
      });
    }
    const demand = 50 + 10 * Math.sin(i / 20) + (drifted ? 15 : 0);
    predictions.push({
      ...base,
      version: '3',
      model: 'demand',
      id: `d-${i}`,
      num_names: ['temperature', 'price'],
      num_values: [15 + random() * 10, 3 + random()],
      cat_names: ['store'],
      cat_values: [`s${i % 4}`],
      missing_names: [],
      prediction_number: demand,
      prediction_label: '',
      score: null,
      score_classes: [],
      score_values: [],
    });
    if (i % 2 === 0)
      outcomes.push({
        ...base,
        model: 'demand',
        id: `d-${i}`,
        label: '',
        label_number: demand + random() * 5,
      });
  }
  await insert(store, 'predictions', predictions);
  await insert(store, 'outcomes', outcomes);

  await insert(store, 'reference_profiles', [
    {
      model: 'fraud',
      created_at: start - HOUR,
      source: 'window:2026-11-01/2026-11-08',
      rows: 50_000,
      profile: '{}',
    },
    {
      model: 'demand',
      created_at: start - HOUR,
      source: 'window:2026-11-01/2026-11-08',
      rows: 20_000,
      profile: '{}',
    },
  ]);

  const drift: Row[] = [];
  const estimated: Row[] = [];
  const attribution: Row[] = [];
  const performance: Row[] = [];
  const quality: Row[] = [];
  const health: Row[] = [];
  for (const evaluatedAt of range(start + 1800, nowSec - 60, 1800)) {
    const window = { evaluated_at: evaluatedAt, window_start: evaluatedAt - HOUR, window_end: evaluatedAt };
    const drifted = evaluatedAt >= driftFrom;
    const features: Array<[string, string, string[]]> = [
      ['amount', 'numeric', ['ks', 'psi']],
      ['age', 'numeric', ['ks', 'psi']],
      ['country', 'categorical', ['chi2', 'psi']],
    ];
    for (const [feature, kind, detectors] of features) {
      for (const detector of detectors) {
        const shifted = drifted && feature === 'amount';
        const statistic =
          detector === 'psi' ? (shifted ? 0.4 : 0.02) : shifted ? 0.35 : 0.05 + random() * 0.03;
        drift.push({
          model: 'fraud',
          ...window,
          segment: '',
          feature,
          kind,
          detector,
          statistic,
          p_value: detector === 'psi' ? null : shifted ? 1e-6 : 0.3 + random() * 0.5,
          effect: null,
          threshold: detector === 'psi' ? 0.2 : 0.05,
          drifted: shifted ? 1 : 0,
          status: shifted ? 'drift' : 'ok',
          window_count: 30,
          reference_count: 50_000,
          details: '{}',
        });
      }
    }
    for (const [metric, value, threshold] of [
      ['accuracy', drifted ? 0.81 : 0.93, 0.85],
      ['roc_auc', drifted ? 0.84 : 0.95, 0.9],
    ] as const) {
      performance.push({
        model: 'fraud',
        ...window,
        segment: '',
        metric,
        value,
        threshold,
        breaching: value < threshold ? 1 : 0,
        labelled: 20,
        total: 30,
        coverage: 20 / 30,
      });
    }
    // Estimated performance: labels arrive after two hours, so the newest windows have none.
    const labelled = evaluatedAt < nowSec - 2 * HOUR;
    for (const [model, method, metric, value, realized] of [
      ['fraud', 'cbpe', 'accuracy', drifted ? 0.82 : 0.92, drifted ? 0.8 : 0.93],
      ['fraud', 'cbpe', 'roc_auc', drifted ? 0.86 : 0.95, drifted ? 0.84 : 0.95],
      ['demand', 'dle', 'mae', drifted ? 6.1 : 4.2, drifted ? 6.4 : 4.1],
    ] as const) {
      const loss = method === 'dle';
      const lower = value * 0.97;
      const upper = value * 1.03;
      const referenceValue = loss ? 4.2 : metric === 'accuracy' ? 0.92 : 0.95;
      estimated.push({
        model,
        ...window,
        segment: '',
        metric,
        method,
        estimated: value,
        estimated_lower: lower,
        estimated_upper: upper,
        reference_value: referenceValue,
        reference_lower: referenceValue * 0.96,
        reference_upper: referenceValue * 1.04,
        realized: labelled ? realized : null,
        labelled: labelled ? 30 : 0,
        total: 30,
        coverage: labelled ? 1 : 0,
        threshold: null,
        breaching: (loss ? value > referenceValue * 1.04 : value < referenceValue * 0.96) ? 1 : 0,
        details: '{}',
      });
    }
    // Multivariate drift: the reconstruction error leaves its band with the drift.
    drift.push({
      model: 'fraud',
      ...window,
      segment: '',
      feature: '__multivariate__',
      kind: 'multivariate',
      detector: 'pca_reconstruction',
      statistic: drifted ? 1.9 : 1.2 + random() * 0.05,
      p_value: null,
      effect: drifted ? 0.7 : 0.02,
      threshold: 1.35,
      drifted: drifted ? 1 : 0,
      status: drifted ? 'drifted' : 'ok',
      window_count: 30,
      reference_count: 50_000,
      details:
        '{"referenceValue":1.2,"lower":1.05,"upper":1.35,"components":2,"features":3,"contributions":[]}',
    });
    if (drifted) {
      for (const [rank, feature, score, effect, reconstruction] of [
        [1, 'amount', 0.71, 0.35, 0.5],
        [2, 'age', 0.19, 0.06, 0.12],
        [3, 'country', 0.1, 0.04, 0.05],
      ] as const) {
        attribution.push({
          model: 'fraud',
          ...window,
          status: 'critical',
          rank,
          feature,
          score,
          effect,
          reconstruction,
          performance: null,
          basis: 'effect,reconstruction',
        });
      }
    }
    quality.push(
      {
        model: 'fraud',
        ...window,
        feature: 'age',
        rule: 'missing_rate',
        value: 0.1,
        threshold: 0.2,
        breaching: 0,
        details: '{}',
      },
      {
        model: 'fraud',
        ...window,
        feature: 'amount',
        rule: 'out_of_range',
        value: drifted ? 0.3 : 0,
        threshold: 0.05,
        breaching: drifted ? 1 : 0,
        details: '{"min":0,"max":200}',
      },
    );
    for (const model of ['fraud', 'demand']) {
      const critical = drifted && model === 'fraud';
      health.push({
        model,
        ...window,
        status: critical ? 'critical' : 'ok',
        reasons: critical ? '["drift:amount","performance:accuracy"]' : '[]',
        window_count: 30,
        features: 3,
        drifted_features: critical ? 1 : 0,
        replica: 'r1',
      });
    }
  }
  await insert(store, 'drift_results', drift);
  await insert(store, 'estimation_results', estimated);
  await insert(store, 'feature_attribution', attribution);
  await insert(store, 'performance_results', performance);
  await insert(store, 'quality_results', quality);
  await insert(store, 'model_health', health);

  const alertAt = driftFrom + 600;
  const ms = (sec: number): number => sec * 1000;
  await insert(store, 'alert_notifications', [
    {
      notification_id: 'n1',
      kind: 'alert',
      group_key: 'fraud/drift',
      model: 'fraud',
      status: 'firing',
      created_at_ms: ms(alertAt),
      created_at: alertAt,
      body: '{}',
    },
  ]);
  await insert(store, 'alert_outbox', [
    {
      delivery_id: 'd1',
      notification_id: 'n1',
      sink: 'slack',
      model: 'fraud',
      seq: 1,
      created_at_ms: ms(alertAt),
      created_at: alertAt,
      message: '{}',
    },
  ]);
  await insert(
    store,
    'alert_deliveries',
    [
      { attempt: 1, status: 'failed', http_status: 503, error: 'Service Unavailable', at: alertAt + 1 },
      { attempt: 2, status: 'delivered', http_status: 200, error: '', at: alertAt + 31 },
    ].map((a) => ({
      delivery_id: 'd1',
      notification_id: 'n1',
      sink: 'slack',
      ...a,
      at_ms: ms(a.at),
      next_attempt_at_ms: 0,
    })),
  );
  await insert(store, 'alert_state', [
    { model: 'fraud', state: '{}', updated_at_ms: ms(alertAt), updated_at: alertAt },
  ]);

  // Retune: a finished study that promoted a challenger, later rolled back; one running study.
  const studyAt = driftFrom + 900;
  const studies: Row[] = [];
  const trials: Row[] = [];
  const study = (
    id: string,
    model: string,
    createdAt: number,
    trialCount: number,
    finished: boolean,
  ): void => {
    const common = {
      study_id: id,
      model,
      created_at: createdAt,
      trigger: 'drift',
      direction: 'maximize',
      objective: 'roc_auc',
      sampler: 'tpe',
      pruner: 'asha',
      seed: 7,
      max_trials: 20,
      snapshot: '{}',
    };
    // Two versions of the row: ReplacingMergeTree(updated_at) keeps the newer under FINAL.
    studies.push({ ...common, updated_at: createdAt, state: 'running', best_trial: -1, best_value: null });
    studies.push({
      ...common,
      updated_at: createdAt + 1200,
      state: finished ? 'completed' : 'running',
      best_trial: 3,
      best_value: 0.95,
    });
    for (let trial = 0; trial < trialCount; trial++) {
      const startedAt = createdAt + trial * 120;
      const state = trial === 4 ? 'pruned' : trial === 5 ? 'failed' : 'complete';
      trials.push({
        study_id: id,
        model,
        trial,
        state,
        params: JSON.stringify({ learning_rate: 0.01 * (trial + 1), depth: 3 + (trial % 4) }),
        value: state === 'complete' ? 0.88 + random() * 0.07 : null,
        intermediate: '[]',
        started_at: startedAt,
        finished_at: startedAt + 90,
        device: trial % 2 === 0 ? 'cpu' : 'gpu:0',
        updated_at: startedAt + 90,
      });
    }
  };
  study('s-fraud-1', 'fraud', studyAt, 8, true);
  study('s-fraud-2', 'fraud', nowSec - HOUR, 3, false);
  study('s-demand-1', 'demand', studyAt, 6, true);
  await insert(store, 'studies', studies);
  await insert(store, 'trials', trials);

  const promotedAt = studyAt + 1500;
  await insert(store, 'model_versions', [
    {
      model: 'fraud',
      version: '8',
      created_at: promotedAt - 60,
      study_id: 's-fraud-1',
      trial: 3,
      artifact_uri: 'file:///models/fraud/8',
      params: '{"learning_rate":0.04,"depth":6}',
      metrics: '{"roc_auc":0.95}',
    },
  ]);
  await insert(store, 'promotion_decisions', [
    {
      model: 'fraud',
      study_id: 's-fraud-1',
      decided_at: promotedAt,
      challenger_version: '8',
      champion_version: '7',
      promoted: 1,
      metric: 'roc_auc',
      champion_value: 0.84,
      challenger_value: 0.95,
      improvement: 0.11,
      p_value: 0.001,
      ci_low: 0.06,
      ci_high: 0.15,
      test: 'paired_bootstrap',
      reason: 'improvement 0.11 >= 0.01 and p < 0.05',
    },
    {
      model: 'demand',
      study_id: 's-demand-1',
      decided_at: promotedAt,
      challenger_version: '3',
      champion_version: '2',
      promoted: 0,
      metric: 'rmse',
      champion_value: 4.1,
      challenger_value: 4.05,
      improvement: 0.05,
      p_value: 0.4,
      ci_low: -0.1,
      ci_high: 0.2,
      test: 'paired_bootstrap',
      reason: 'not significant',
    },
  ]);
  await insert(store, 'alias_events', [
    {
      model: 'fraud',
      alias: 'champion',
      version: '8',
      previous_version: '7',
      at: promotedAt,
      actor: 'retune',
      action: 'promote',
      reason: 'study s-fraud-1',
      evidence: '{"p_value":0.001}',
    },
    {
      model: 'fraud',
      alias: 'champion',
      version: '7',
      previous_version: '8',
      at: promotedAt + 1800,
      actor: 'alice',
      action: 'rollback',
      reason: 'latency regression',
      evidence: '{}',
    },
  ]);
}
