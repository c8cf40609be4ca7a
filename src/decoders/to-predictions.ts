import { MAX_FEATURES, MAX_ID_LENGTH } from '../events/limits.js';
import { rejection, type Decoded, type FeatureValue, type PredictionEvent } from '../events/types.js';
import { validatePrediction } from '../events/validate.js';
import type { InferenceRequest, InferenceResponse } from './inference-body.js';
import { EMPTY_MAPPING, type CompiledDecoderOptions, type CompiledModelMapping } from './options.js';
import type { Tensor, TensorValue } from './tensor.js';

/**
 * One side of an inference exchange as every envelope (CloudEvents, Seldon topics, bare bodies)
 * hands it to the pairer, and the join of a request with its response into PredictionEvents.
 */

interface HalfCommon {
  /** Correlation key: equal for a request and its response, distinct otherwise. */
  readonly pairKey: string;
  /** The exchange's id (CloudEvent id, Seldon key, OIP id); prediction ids derive from it. */
  readonly eventId: string;
  /** Model name from the envelope (attribute, topic) or the body; undefined when neither says. */
  readonly model: string | undefined;
  readonly version: string | undefined;
  /** Event time: the envelope's time, else the record (or HTTP receive) time. */
  readonly timestampMs: number;
  /** Serving context kept on the event's `extra` (namespace, endpoint, …), in a fixed order. */
  readonly context: Readonly<Record<string, string>>;
}

export type InferenceHalf =
  | (HalfCommon & { readonly side: 'request'; readonly request: InferenceRequest })
  | (HalfCommon & { readonly side: 'response'; readonly response: InferenceResponse });

type RequestHalf = Extract<InferenceHalf, { side: 'request' }>;
type ResponseHalf = Extract<InferenceHalf, { side: 'response' }>;

/**
 * Prediction ids: a single-row exchange keeps the exchange id, so outcomes join on the id the
 * caller already knows; row r of a batch of N > 1 becomes `<id>:<r>` (0-based).
 */
export function predictionId(eventId: string, row: number, rows: number): string {
  return rows === 1 ? eventId : `${eventId}:${row}`;
}

function columnNames(
  tensor: Tensor,
  configured: readonly string[] | undefined,
  side: 'inputs' | 'outputs',
  model: string,
  fallback: (c: number) => string,
): Decoded<readonly string[]> {
  if (configured !== undefined) {
    if (configured.length !== tensor.columns) {
      return rejection(
        'wrong_type',
        tensor.path,
        `model ${JSON.stringify(model)} names ${configured.length} columns for ${side} tensor ${JSON.stringify(tensor.name)} but it has ${tensor.columns}; fix decoders.models.${model}.${side}.${tensor.name}`,
      );
    }
    return { ok: true, value: configured };
  }
  return { ok: true, value: Array.from({ length: tensor.columns }, (_, c) => fallback(c)) };
}

function featureRows(
  request: InferenceRequest,
  mapping: CompiledModelMapping,
  model: string,
): Decoded<Record<string, unknown>[]> {
  if (request.kind === 'records') return { ok: true, value: request.records.map((r) => ({ ...r })) };
  // Refuse wide tensors (images, embeddings) before building per-row objects with that many keys.
  const width = request.tensors.reduce((sum, t) => sum + t.columns, 0);
  if (width > MAX_FEATURES) {
    return rejection(
      'oversized',
      '$',
      `model ${JSON.stringify(model)} sends ${width} input columns; at most ${MAX_FEATURES} features per event are monitored`,
    );
  }
  const rows: Record<string, unknown>[] = Array.from({ length: request.rows }, () => ({}));
  const owner = new Map<string, string>();
  for (const tensor of request.tensors) {
    const names = columnNames(
      tensor,
      mapping.inputs.get(tensor.name),
      'inputs',
      model,
      (c) => `${tensor.name}_${c}`,
    );
    if (!names.ok) return names;
    for (const name of names.value) {
      const other = owner.get(name);
      if (other !== undefined) {
        return rejection(
          'wrong_type',
          tensor.path,
          `feature ${JSON.stringify(name)} comes from both tensor ${JSON.stringify(other)} and ${JSON.stringify(tensor.name)}; give them distinct names in decoders.models.${model}.inputs`,
        );
      }
      owner.set(name, tensor.name);
    }
    for (let r = 0; r < request.rows; r++) {
      const row = rows[r] as Record<string, unknown>;
      for (let c = 0; c < tensor.columns; c++)
        row[names.value[c] as string] = tensor.values[r * tensor.columns + c];
    }
  }
  return { ok: true, value: rows };
}

function pickTensor(
  response: InferenceResponse,
  name: string | undefined,
  fallback: (t: Tensor) => boolean,
  what: string,
  model: string,
): Decoded<Tensor | undefined> {
  if (name === undefined) return { ok: true, value: response.tensors.find(fallback) };
  const found = response.tensors.find((t) => t.name === name);
  if (found === undefined) {
    return rejection(
      'missing_field',
      '$.outputs',
      `model ${JSON.stringify(model)} takes its ${what} from output ${JSON.stringify(name)}, which the response lacks (it has ${response.tensors.map((t) => JSON.stringify(t.name)).join(', ') || 'none'})`,
    );
  }
  return { ok: true, value: found };
}

function asLabel(v: TensorValue | undefined): number | string | null {
  if (v === undefined || v === null) return null;
  return typeof v === 'boolean' ? String(v) : v;
}

interface RowOutputs {
  readonly prediction: number | string | null;
  readonly scores: Record<string, number> | null;
}

function outputRows(
  response: InferenceResponse,
  mapping: CompiledModelMapping,
  model: string,
): Decoded<RowOutputs[]> {
  const predT = pickTensor(response, mapping.predictionOutput, (t) => t.columns === 1, 'prediction', model);
  if (!predT.ok) return predT;
  const scoresT = pickTensor(response, mapping.scoresOutput, (t) => t.columns > 1, 'scores', model);
  if (!scoresT.ok) return scoresT;
  let classes: readonly string[] = [];
  const scores = scoresT.value;
  if (scores !== undefined) {
    const names = columnNames(scores, mapping.outputs.get(scores.name), 'outputs', model, (c) => String(c));
    if (!names.ok) return names;
    classes = names.value;
    const bad = scores.values.findIndex((v) => typeof v !== 'number');
    if (bad >= 0)
      return rejection(
        'wrong_type',
        `${scores.path}.data[${bad}]`,
        `scores tensor ${JSON.stringify(scores.name)} must hold numbers (class probabilities)`,
      );
  }
  const out: RowOutputs[] = [];
  for (let r = 0; r < response.rows; r++) {
    let rowScores: Record<string, number> | null = null;
    let argmax: string | null = null;
    if (scores !== undefined) {
      rowScores = {};
      let best = -Infinity;
      for (let c = 0; c < scores.columns; c++) {
        const p = scores.values[r * scores.columns + c] as number;
        const cls = classes[c] as string;
        rowScores[cls] = p;
        if (p > best) {
          best = p;
          argmax = cls;
        }
      }
    }
    const pred = predT.value;
    const prediction =
      pred !== undefined && pred !== scores ? asLabel(pred.values[r * pred.columns]) : argmax;
    out.push({ prediction, scores: rowScores });
  }
  return { ok: true, value: out };
}

/** Join a request with its response into one PredictionEvent per row, shaped exactly like a native event. */
export function toPredictions(
  req: RequestHalf,
  res: ResponseHalf,
  options: CompiledDecoderOptions,
): Decoded<PredictionEvent[]> {
  const request = req.request;
  const response = res.response;
  const model = req.model ?? res.model ?? request.model ?? response.model ?? options.model;
  if (model === undefined) {
    return rejection(
      'missing_field',
      '$',
      `no model name: set the CloudEvents attribute "${options.modelNameAttribute}", OIP "model_name", or the topic's decoder option "model"`,
    );
  }
  if (request.rows !== response.rows) {
    return rejection(
      'wrong_type',
      '$',
      `request ${JSON.stringify(req.eventId)} has ${request.rows} rows but its response has ${response.rows}; a batch must be answered row for row`,
    );
  }
  if (request.rows === 0) {
    return rejection(
      'missing_field',
      '$',
      `request ${JSON.stringify(req.eventId)} has no rows: nothing to monitor`,
    );
  }
  const lastId = predictionId(req.eventId, request.rows - 1, request.rows);
  if (lastId.length > MAX_ID_LENGTH) {
    return rejection(
      'bad_id',
      '$',
      `prediction id ${JSON.stringify(lastId.slice(0, 60))}… is ${lastId.length} characters; the limit is ${MAX_ID_LENGTH}`,
    );
  }
  const mapping = options.models.get(model) ?? EMPTY_MAPPING;
  const features = featureRows(request, mapping, model);
  if (!features.ok) return features;
  const outputs = outputRows(response, mapping, model);
  if (!outputs.ok) return outputs;
  const version = res.version ?? req.version ?? response.version ?? request.version ?? '';
  // Serving context from the request (where the logger sets it), else from the response.
  const context = Object.keys(req.context).length > 0 ? req.context : res.context;
  const events: PredictionEvent[] = [];
  for (let r = 0; r < request.rows; r++) {
    const o = outputs.value[r] as RowOutputs;
    // Through the native validator so that limits, boolean normalisation and `extra` are identical.
    const event = validatePrediction(
      {
        model,
        version,
        id: predictionId(req.eventId, r, request.rows),
        timestamp: req.timestampMs,
        features: features.value[r] as Record<string, FeatureValue>,
        prediction: o.prediction,
        scores: o.scores,
        ...context,
      },
      req.timestampMs,
    );
    if (!event.ok) {
      const { code, path, message } = event.rejection;
      return rejection(code, path, request.rows === 1 ? message : `row ${r}: ${message}`);
    }
    events.push(event.value);
  }
  return { ok: true, value: events };
}
