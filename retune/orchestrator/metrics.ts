import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Retune metrics on the daemon's registry. Labels: model names from config and bounded enums. */
export function createRetuneMetrics(registry: Registry) {
  const registers = [registry];
  return {
    studiesRunning: new Gauge({
      name: 'driftguard_retune_studies_running',
      help: 'Retune studies running now in this process.',
      registers,
    }),
    trials: new Counter({
      name: 'driftguard_retune_trials_total',
      help: 'Finished retune trials by model and final state (complete, pruned, failed).',
      labelNames: ['model', 'state'] as const,
      registers,
    }),
    trialSeconds: new Histogram({
      name: 'driftguard_retune_trial_seconds',
      help: 'Wall time of one retune trial, from device lease to result.',
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    }),
    promotions: new Counter({
      name: 'driftguard_promotions_total',
      help: 'Promotion gate decisions by model: promoted or rejected.',
      labelNames: ['model', 'decision'] as const,
      registers,
    }),
    studiesWaiting: new Gauge({
      name: 'driftguard_retune_studies_waiting',
      help: 'Drift-triggered retune studies in this process waiting for labelled rows after the drift onset.',
      registers,
    }),
    labelsMissing: new Gauge({
      name: 'driftguard_retune_waiting_for_labels',
      help: "Labelled rows after the drift onset a model's waiting study still needs before it trains.",
      labelNames: ['model'] as const,
      registers,
    }),
    bestValue: new Gauge({
      name: 'driftguard_retune_best_value',
      help: "Objective value of the best trial of the model's latest study.",
      labelNames: ['model'] as const,
      registers,
    }),
  };
}

export type RetuneMetrics = ReturnType<typeof createRetuneMetrics>;
