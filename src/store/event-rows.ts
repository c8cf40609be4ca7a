import type { OutcomeEvent, PredictionEvent } from '../events/types.js';

/** Row shapes of the `predictions` and `outcomes` tables, as sent in JSONEachRow. */
export interface PredictionRow {
  model: string;
  ts: number;
  ts_ms: number;
  id: string;
  version: string;
  num_names: string[];
  num_values: number[];
  cat_names: string[];
  cat_values: string[];
  missing_names: string[];
  prediction_number: number | null;
  prediction_label: string;
  score: number | null;
  score_classes: string[];
  score_values: number[];
  extra: string;
  source: string;
  ingested_at: number;
}

export interface OutcomeRow {
  model: string;
  ts: number;
  ts_ms: number;
  id: string;
  label: string;
  label_number: number | null;
  extra: string;
  source: string;
  ingested_at: number;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

export function predictionRow(event: PredictionEvent, source: string, nowMs: number): PredictionRow {
  const numNames: string[] = [];
  const numValues: number[] = [];
  const catNames: string[] = [];
  const catValues: string[] = [];
  const missing: string[] = [];
  for (const name in event.features) {
    const value = event.features[name];
    if (typeof value === 'number') {
      numNames.push(name);
      numValues.push(value);
    } else if (typeof value === 'string') {
      catNames.push(name);
      catValues.push(value);
    } else {
      missing.push(name);
    }
  }
  let score: number | null = null;
  const scoreClasses: string[] = [];
  const scoreValues: number[] = [];
  if (typeof event.scores === 'number') score = event.scores;
  else if (event.scores !== null) {
    for (const cls in event.scores) {
      scoreClasses.push(cls);
      scoreValues.push(event.scores[cls] as number);
    }
  }
  return {
    model: event.model,
    ts: seconds(event.timestampMs),
    ts_ms: event.timestampMs,
    id: event.id,
    version: event.version,
    num_names: numNames,
    num_values: numValues,
    cat_names: catNames,
    cat_values: catValues,
    missing_names: missing,
    prediction_number: typeof event.prediction === 'number' ? event.prediction : null,
    prediction_label:
      typeof event.prediction === 'string'
        ? event.prediction
        : event.prediction === null
          ? ''
          : String(event.prediction),
    score,
    score_classes: scoreClasses,
    score_values: scoreValues,
    extra: event.extra,
    source,
    ingested_at: seconds(nowMs),
  };
}

export function outcomeRow(event: OutcomeEvent, source: string, nowMs: number): OutcomeRow {
  return {
    model: event.model,
    ts: seconds(event.timestampMs),
    ts_ms: event.timestampMs,
    id: event.id,
    label: String(event.label),
    label_number: typeof event.label === 'number' ? event.label : null,
    extra: event.extra,
    source,
    ingested_at: seconds(nowMs),
  };
}
