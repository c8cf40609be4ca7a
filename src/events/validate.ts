import {
  MAX_CATEGORY_LENGTH,
  MAX_FEATURE_NAME_LENGTH,
  MAX_FEATURES,
  MAX_ID_LENGTH,
  MAX_JSON_DEPTH,
  MAX_TIMESTAMP_MS,
  MODEL_NAME_PATTERN,
  MODEL_NAME_RULE,
} from './limits.js';
import { invalidUtf8Offset, jsonDepth, nameTextProblem, valueDepth, valueTextProblem } from './storable.js';
import {
  rejection,
  type Decoded,
  type FeatureValue,
  type OutcomeEvent,
  type PredictionEvent,
  type Scores,
} from './types.js';

/**
 * Validation of driftguard's native events. Pure: a parsed JSON value in, a typed event or a
 * rejection (code, JSON path, how to fix) out. Hand-written rather than schema-generated because
 * it runs on every ingested message and its messages are the user's first debugging aid.
 */

const PREDICTION_FIELDS = new Set([
  'model',
  'version',
  'id',
  'timestamp',
  'features',
  'prediction',
  'scores',
]);
const OUTCOME_FIELDS = new Set(['model', 'id', 'timestamp', 'label']);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function checkModel(value: unknown): Decoded<string> {
  if (value === undefined)
    return rejection('missing_field', '$.model', 'field "model" is required: the model name, e.g. "fraud"');
  if (typeof value !== 'string')
    return rejection('wrong_type', '$.model', `expected a string model name, got ${describe(value)}`);
  if (!MODEL_NAME_PATTERN.test(value)) {
    return rejection(
      'bad_model_name',
      '$.model',
      `model name ${JSON.stringify(value.slice(0, 140))} must match ${MODEL_NAME_PATTERN.source}: ${MODEL_NAME_RULE}`,
    );
  }
  return { ok: true, value };
}

function checkId(value: unknown): Decoded<string> {
  if (value === undefined)
    return rejection(
      'missing_field',
      '$.id',
      'field "id" is required: the request/prediction id that outcomes are joined on',
    );
  // Numeric ids are common in the wild; accept integers and keep their decimal text.
  if (typeof value === 'number' && Number.isSafeInteger(value)) return { ok: true, value: String(value) };
  if (typeof value !== 'string')
    return rejection('wrong_type', '$.id', `expected a string id, got ${describe(value)}`);
  if (value.length === 0 || value.length > MAX_ID_LENGTH) {
    return rejection('bad_id', '$.id', `id must be 1-${MAX_ID_LENGTH} characters, got ${value.length}`);
  }
  const problem = nameTextProblem(value);
  if (problem !== undefined) return rejection('bad_text', '$.id', `the id ${problem}`);
  return { ok: true, value };
}

/** The range of event times the store holds, in words. */
const TIMESTAMP_RANGE =
  "1970-01-01T00:00:00Z to 2106-02-06T23:59:59.999Z (the times the store's DateTime holds)";

/** Whether epoch milliseconds are a time the store holds (see MAX_TIMESTAMP_MS). */
export function isStorableTimestamp(ms: number): boolean {
  return ms >= 0 && ms <= MAX_TIMESTAMP_MS;
}

/**
 * ISO 8601 with a zone, or epoch milliseconds, within what the store holds. A missing timestamp
 * falls back to `fallbackMs` (the record's time), which must be storable too.
 */
export function checkTimestamp(value: unknown, fallbackMs: number, path = '$.timestamp'): Decoded<number> {
  if (value === undefined || value === null) {
    if (Number.isFinite(fallbackMs) && isStorableTimestamp(fallbackMs))
      return { ok: true, value: Math.trunc(fallbackMs) };
    return rejection(
      'bad_timestamp',
      path,
      `no timestamp, and the record's own time (${String(fallbackMs)} ms) is outside ${TIMESTAMP_RANGE}; send a timestamp`,
    );
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !isStorableTimestamp(value)) {
      return rejection(
        'bad_timestamp',
        path,
        `epoch milliseconds must be a finite number from ${TIMESTAMP_RANGE}, got ${describe(value)}`,
      );
    }
    return { ok: true, value: Math.trunc(value) };
  }
  if (typeof value === 'string') {
    // Require a date and a zone so that the same text means the same instant on every host.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
      return rejection(
        'bad_timestamp',
        path,
        `expected ISO 8601 with a time zone (e.g. "2026-11-23T02:00:00.123Z") or epoch milliseconds, got ${describe(value)}`,
      );
    }
    const ms = Date.parse(value);
    if (Number.isNaN(ms))
      return rejection('bad_timestamp', path, `${JSON.stringify(value)} is not a valid date`);
    if (!isStorableTimestamp(ms))
      return rejection('bad_timestamp', path, `${JSON.stringify(value)} is outside ${TIMESTAMP_RANGE}`);
    return { ok: true, value: ms };
  }
  return rejection(
    'bad_timestamp',
    path,
    `expected ISO 8601 text or epoch milliseconds, got ${describe(value)}`,
  );
}

/** Built only for a rejection: feature checks run for every feature of every event. */
function featurePath(name: string): string {
  return `$.features[${JSON.stringify(name)}]`;
}

function checkFeatures(value: unknown): Decoded<Record<string, FeatureValue>> {
  if (value === undefined || value === null) return { ok: true, value: {} };
  if (!isObject(value))
    return rejection(
      'wrong_type',
      '$.features',
      `expected an object of feature name → number | string | null, got ${describe(value)}`,
    );
  const names = Object.keys(value);
  if (names.length > MAX_FEATURES)
    return rejection(
      'oversized',
      '$.features',
      `at most ${MAX_FEATURES} features per event, got ${names.length}`,
    );
  let hasBoolean = false;
  for (const name of names) {
    if (name.length === 0 || name.length > MAX_FEATURE_NAME_LENGTH) {
      return rejection(
        'wrong_type',
        featurePath(name),
        `feature names must be 1-${MAX_FEATURE_NAME_LENGTH} characters`,
      );
    }
    const nameProblem = nameTextProblem(name);
    if (nameProblem !== undefined)
      return rejection('bad_text', featurePath(name), `the feature name ${nameProblem}`);
    const v = value[name];
    if (v === null) continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v))
        return rejection(
          'non_finite_number',
          featurePath(name),
          'feature values must be finite numbers; send null for a missing value',
        );
      continue;
    }
    if (typeof v === 'string') {
      if (v.length > MAX_CATEGORY_LENGTH)
        return rejection(
          'oversized',
          featurePath(name),
          `categorical values are limited to ${MAX_CATEGORY_LENGTH} characters`,
        );
      const valueProblem = valueTextProblem(v);
      if (valueProblem !== undefined)
        return rejection('bad_text', featurePath(name), `the value ${valueProblem}`);
      continue;
    }
    if (typeof v === 'boolean') {
      hasBoolean = true; // normalised to a category below
      continue;
    }
    return rejection(
      'wrong_type',
      featurePath(name),
      `feature values must be a number (numeric), a string (categorical) or null (missing), got ${describe(v)}`,
    );
  }
  if (!hasBoolean) return { ok: true, value: value as Record<string, FeatureValue> };
  // Booleans are categories "true"/"false"; everything else is already in its final form.
  let normalised: Record<string, FeatureValue> | undefined;
  for (const name of names) {
    const v = value[name];
    if (typeof v === 'boolean') {
      normalised ??= { ...(value as Record<string, FeatureValue>) };
      normalised[name] = String(v);
    }
  }
  return { ok: true, value: normalised ?? (value as Record<string, FeatureValue>) };
}

function checkLabel(value: unknown, path: string, what: string): Decoded<number | string> {
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      return rejection('non_finite_number', path, `${what} must be a finite number or a label string`);
    return { ok: true, value };
  }
  if (typeof value === 'string') {
    if (value.length > MAX_CATEGORY_LENGTH)
      return rejection('oversized', path, `${what} labels are limited to ${MAX_CATEGORY_LENGTH} characters`);
    const problem = valueTextProblem(value);
    if (problem !== undefined) return rejection('bad_text', path, `the ${what} ${problem}`);
    return { ok: true, value };
  }
  if (typeof value === 'boolean') return { ok: true, value: String(value) };
  return rejection('wrong_type', path, `${what} must be a number or a label string, got ${describe(value)}`);
}

function checkScores(value: unknown): Decoded<Scores | null> {
  if (value === undefined || value === null) return { ok: true, value: null };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return rejection('non_finite_number', '$.scores', 'scores must be finite');
    return { ok: true, value };
  }
  if (!isObject(value))
    return rejection(
      'wrong_type',
      '$.scores',
      `expected a number or an object of class → probability, got ${describe(value)}`,
    );
  for (const cls of Object.keys(value)) {
    const p = value[cls];
    const problem = nameTextProblem(cls);
    if (problem !== undefined)
      return rejection('bad_text', `$.scores[${JSON.stringify(cls)}]`, `the class name ${problem}`);
    if (typeof p === 'number' && Number.isFinite(p)) continue;
    if (typeof p !== 'number')
      return rejection(
        'wrong_type',
        `$.scores[${JSON.stringify(cls)}]`,
        `class scores must be numbers, got ${describe(p)}`,
      );
    return rejection('non_finite_number', `$.scores[${JSON.stringify(cls)}]`, 'class scores must be finite');
  }
  return { ok: true, value: value as Record<string, number> };
}

/**
 * Unknown top-level fields as JSON text, or a rejection when they nest deeper than the store path
 * can serialise (JSON.stringify recurses). Parsed input was depth-checked already (parseJson);
 * this guards values built in-process.
 */
function extraFields(input: JsonObject, known: ReadonlySet<string>): Decoded<string> {
  let extra: JsonObject | undefined;
  for (const key of Object.keys(input)) {
    if (known.has(key)) continue;
    extra ??= {};
    const value = input[key];
    if (
      typeof value === 'object' &&
      value !== null &&
      valueDepth(value, MAX_JSON_DEPTH - 1) >= MAX_JSON_DEPTH
    )
      return rejection(
        'too_deep',
        `$[${JSON.stringify(key)}]`,
        `unknown field ${JSON.stringify(key.slice(0, 60))} nests more than ${MAX_JSON_DEPTH - 1} levels deep; flatten it`,
      );
    extra[key] = value;
  }
  return { ok: true, value: extra === undefined ? '' : JSON.stringify(extra) };
}

/**
 * Whether every feature is already in its final form and valid: names of 1-MAX_FEATURE_NAME_LENGTH
 * characters, values null, finite numbers or strings of at most MAX_CATEGORY_LENGTH characters.
 */
function plainValidFeatures(features: JsonObject): boolean {
  // for-in rather than Object.keys: no array per event (a parsed object's keys are all its own).
  let count = 0;
  for (const name in features) {
    if (++count > MAX_FEATURES) return false;
    if (name.length === 0 || name.length > MAX_FEATURE_NAME_LENGTH || nameTextProblem(name) !== undefined)
      return false;
    const v = features[name];
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
    } else if (typeof v === 'string') {
      if (v.length > MAX_CATEGORY_LENGTH || valueTextProblem(v) !== undefined) return false;
    } else if (v !== null) return false;
  }
  return true;
}

/**
 * The common case of `validatePrediction`, without its intermediate results: a prediction whose
 * every field is valid and already in its final form (no boolean to normalise, no ISO timestamp to
 * parse). Anything else is `undefined`, and the full checks decide, so every rejection and its
 * message comes from one place.
 */
function plainValidPrediction(input: JsonObject, fallbackTimestampMs: number): PredictionEvent | undefined {
  const model = input.model;
  if (typeof model !== 'string' || !MODEL_NAME_PATTERN.test(model)) return undefined;
  const rawId = input.id;
  let id: string;
  if (
    typeof rawId === 'string' &&
    rawId.length > 0 &&
    rawId.length <= MAX_ID_LENGTH &&
    nameTextProblem(rawId) === undefined
  )
    id = rawId;
  else if (typeof rawId === 'number' && Number.isSafeInteger(rawId)) id = String(rawId);
  else return undefined;
  const version = input.version;
  if (typeof version === 'string') {
    if (nameTextProblem(version) !== undefined) return undefined;
  } else if (version !== undefined && version !== null && typeof version !== 'number') return undefined;
  let timestampMs: number;
  const timestamp = input.timestamp;
  if (typeof timestamp === 'number') {
    if (!isStorableTimestamp(timestamp)) return undefined;
    timestampMs = Math.trunc(timestamp);
  } else if (timestamp === undefined || timestamp === null) {
    if (!isStorableTimestamp(fallbackTimestampMs)) return undefined;
    timestampMs = Math.trunc(fallbackTimestampMs);
  } else return undefined;
  let features = input.features;
  if (features === undefined || features === null) features = {};
  else if (!isObject(features) || !plainValidFeatures(features)) return undefined;
  const rawPrediction = input.prediction;
  let prediction: number | string | null = null;
  if (typeof rawPrediction === 'number') {
    if (!Number.isFinite(rawPrediction)) return undefined;
    prediction = rawPrediction;
  } else if (typeof rawPrediction === 'string') {
    if (rawPrediction.length > MAX_CATEGORY_LENGTH || valueTextProblem(rawPrediction) !== undefined)
      return undefined;
    prediction = rawPrediction;
  } else if (rawPrediction !== undefined && rawPrediction !== null) return undefined;
  let scores = input.scores;
  if (scores === undefined) scores = null;
  else if (typeof scores === 'number') {
    if (!Number.isFinite(scores)) return undefined;
  } else if (isObject(scores)) {
    for (const cls in scores) {
      const p = scores[cls];
      if (typeof p !== 'number' || !Number.isFinite(p) || nameTextProblem(cls) !== undefined)
        return undefined;
    }
  } else if (scores !== null) return undefined;
  const extra = extraFields(input, PREDICTION_FIELDS);
  if (!extra.ok) return undefined;
  return {
    model,
    version: version === undefined || version === null ? '' : String(version),
    id,
    timestampMs,
    features: features as Record<string, FeatureValue>,
    prediction,
    scores: scores as Scores | null,
    extra: extra.value,
  };
}

export function validatePrediction(input: unknown, fallbackTimestampMs: number): Decoded<PredictionEvent> {
  if (isObject(input)) {
    const event = plainValidPrediction(input, fallbackTimestampMs);
    if (event !== undefined) return { ok: true, value: event };
  }
  return validatePredictionFully(input, fallbackTimestampMs);
}

/** `validatePrediction` without its fast path: every check, with the rejection of the first that fails. */
export function validatePredictionFully(
  input: unknown,
  fallbackTimestampMs: number,
): Decoded<PredictionEvent> {
  if (!isObject(input))
    return rejection('not_object', '$', `a prediction must be a JSON object, got ${describe(input)}`);
  const model = checkModel(input.model);
  if (!model.ok) return model;
  const id = checkId(input.id);
  if (!id.ok) return id;
  const version = input.version;
  if (
    version !== undefined &&
    version !== null &&
    typeof version !== 'string' &&
    typeof version !== 'number'
  ) {
    return rejection(
      'wrong_type',
      '$.version',
      `expected a version string or number, got ${describe(version)}`,
    );
  }
  if (typeof version === 'string') {
    const problem = nameTextProblem(version);
    if (problem !== undefined) return rejection('bad_text', '$.version', `the version ${problem}`);
  }
  const timestamp = checkTimestamp(input.timestamp, fallbackTimestampMs);
  if (!timestamp.ok) return timestamp;
  const features = checkFeatures(input.features);
  if (!features.ok) return features;
  let prediction: number | string | null = null;
  if (input.prediction !== undefined && input.prediction !== null) {
    const checked = checkLabel(input.prediction, '$.prediction', 'prediction');
    if (!checked.ok) return checked;
    prediction = checked.value;
  }
  const scores = checkScores(input.scores);
  if (!scores.ok) return scores;
  const extra = extraFields(input, PREDICTION_FIELDS);
  if (!extra.ok) return extra;
  return {
    ok: true,
    value: {
      model: model.value,
      version: version === undefined || version === null ? '' : String(version),
      id: id.value,
      timestampMs: timestamp.value,
      features: features.value,
      prediction,
      scores: scores.value,
      extra: extra.value,
    },
  };
}

export function validateOutcome(input: unknown, fallbackTimestampMs: number): Decoded<OutcomeEvent> {
  if (!isObject(input))
    return rejection('not_object', '$', `an outcome must be a JSON object, got ${describe(input)}`);
  const model = checkModel(input.model);
  if (!model.ok) return model;
  const id = checkId(input.id);
  if (!id.ok) return id;
  const timestamp = checkTimestamp(input.timestamp, fallbackTimestampMs);
  if (!timestamp.ok) return timestamp;
  if (input.label === undefined || input.label === null) {
    return rejection(
      'missing_field',
      '$.label',
      'field "label" is required: the observed outcome (a number or a class label)',
    );
  }
  const label = checkLabel(input.label, '$.label', 'label');
  if (!label.ok) return label;
  const extra = extraFields(input, OUTCOME_FIELDS);
  if (!extra.ok) return extra;
  return {
    ok: true,
    value: {
      model: model.value,
      id: id.value,
      timestampMs: timestamp.value,
      label: label.value,
      extra: extra.value,
    },
  };
}

const BOM = '\ufeff';

/**
 * Parses an event's bytes as JSON, mapping every failure to a rejection rather than an exception:
 * more than `maxBytes`, bytes that are not UTF-8 (refused, not replaced), nesting deeper than
 * MAX_JSON_DEPTH (refused before JSON.parse builds it), invalid JSON. A leading byte-order mark is
 * skipped, as RFC 8259 allows.
 */
export function parseJson(bytes: Buffer | string, maxBytes: number): Decoded<unknown> {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (size > maxBytes)
    return rejection(
      'oversized',
      '$',
      `event is ${size} bytes; the limit is ${maxBytes} (ingest.maxEventBytes)`,
    );
  if (typeof bytes !== 'string') {
    const invalid = invalidUtf8Offset(bytes);
    if (invalid >= 0)
      return rejection(
        'bad_text',
        '$',
        `byte ${invalid} (0x${(bytes[invalid] ?? 0).toString(16).padStart(2, '0')}) is not valid UTF-8; send UTF-8 text`,
      );
  }
  const deep = jsonDepth(bytes);
  if (deep.at >= 0)
    return rejection(
      'too_deep',
      '$',
      `arrays and objects nest more than ${MAX_JSON_DEPTH} levels deep (at byte ${deep.at}); flatten the event`,
    );
  let text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  if (text.startsWith(BOM)) text = text.slice(1);
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return rejection(
      'not_json',
      '$',
      `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}
