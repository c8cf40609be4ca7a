import { isModelName } from '../../kernel/names.js';
import { createDecoder, createDecoderRuntime, createHttpCloudEventIngest } from '../../src/decoders/index.js';
import { MAX_TIMESTAMP_MS } from '../../src/events/limits.js';
import type { OutcomeEvent, PredictionEvent, Rejection, RejectionCode } from '../../src/events/types.js';
import { parseJson, validateOutcome, validatePrediction } from '../../src/events/validate.js';
import { BodyItemSplitter, MalformedBody } from '../../src/http/body-items.js';
import type { DecodeOutput, RecordDecoder } from '../../src/ingest/decoder.js';
import { PlainRowWriter } from '../../src/ingest/plain-rows.js';
import type { InputRecord } from '../../src/ingest/record.js';
import { outcomeRow, predictionRow } from '../../src/store/event-rows.js';
import { RowBytes } from '../../src/store/row-bytes.js';
import { MAX_EVENT_BYTES } from './hostile.js';

/**
 * The property every decoder must hold on any input: "stored faithfully or rejected with a reason,
 * never a throw". Each check returns a verdict instead of asserting, so that the fuzz tests and
 * scripts/fuzz-decoders.ts share it: `violation` is the only failing verdict.
 */
export type Verdict =
  | { readonly kind: 'stored'; readonly rows: number }
  | { readonly kind: 'rejected'; readonly code: RejectionCode }
  | { readonly kind: 'held' }
  | { readonly kind: 'violation'; readonly why: string };

const CODES: ReadonlySet<string> = new Set<RejectionCode>([
  'not_json',
  'not_object',
  'missing_field',
  'wrong_type',
  'bad_model_name',
  'bad_id',
  'bad_timestamp',
  'non_finite_number',
  'oversized',
  'unsupported_format',
  'unpaired',
  'bad_text',
  'too_deep',
  'store_rejected',
  'decode_failed',
]);

// eslint-disable-next-line no-control-regex -- control characters are what names may not hold
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why a rejection is not a usable reason, or undefined. */
export function rejectionProblem(rejection: Rejection): string | undefined {
  if (!CODES.has(rejection.code)) return `unknown rejection code ${JSON.stringify(rejection.code)}`;
  if (typeof rejection.path !== 'string' || rejection.path === '') return 'a rejection without a path';
  if (typeof rejection.message !== 'string' || rejection.message.length < 10)
    return 'a rejection without a message';
  if (rejection.code === 'decode_failed') return `a decoder failed: ${rejection.message}`;
  return undefined;
}

/**
 * Why ClickHouse could not store `row` as it is, or undefined: an independent statement of what
 * the `predictions` / `outcomes` columns hold (well-formed text, DateTime seconds, finite floats),
 * text checked by a round trip through UTF-8 (which replaces lone surrogates) rather than by the
 * validator's own scanner.
 */
export function unstorable(row: Record<string, unknown>): string | undefined {
  let text: string;
  try {
    text = JSON.stringify(row);
  } catch (error) {
    return `the row cannot be serialised: ${String(error)}`;
  }
  if (Buffer.from(text, 'utf8').toString('utf8') !== text) return 'the row holds a lone surrogate';
  const ts = row['ts'];
  const tsMs = row['ts_ms'];
  if (typeof ts !== 'number' || typeof tsMs !== 'number') return 'ts or ts_ms is not a number';
  if (!Number.isInteger(tsMs) || tsMs < 0 || tsMs > MAX_TIMESTAMP_MS)
    return `ts_ms ${tsMs} is outside DateTime`;
  if (ts !== Math.floor(tsMs / 1000)) return `ts ${ts} disagrees with ts_ms ${tsMs}`;
  if (typeof row['model'] !== 'string' || !isModelName(row['model']))
    return `model ${String(row['model'])} breaks the rule`;
  for (const key of ['id', 'version'] as const) {
    const value = row[key];
    if (value !== undefined && (typeof value !== 'string' || CONTROL.test(value)))
      return `${key} holds a control character`;
  }
  for (const key of ['num_names', 'cat_names', 'missing_names', 'score_classes'] as const) {
    const names = row[key];
    if (names === undefined) continue;
    if (!Array.isArray(names)) return `${key} is not an array`;
    if (names.some((name) => typeof name !== 'string' || CONTROL.test(name)))
      return `${key} holds a control character`;
  }
  for (const key of ['num_values', 'score_values'] as const) {
    const values = row[key];
    if (
      values !== undefined &&
      (values as unknown[]).some((v) => typeof v !== 'number' || !Number.isFinite(v))
    )
      return `${key} holds a non-finite number`;
  }
  for (const key of ['prediction_number', 'score', 'label_number'] as const) {
    const value = row[key];
    if (value !== undefined && value !== null && (typeof value !== 'number' || !Number.isFinite(value)))
      return `${key} is not a finite number`;
  }
  return undefined;
}

function verdictOf(output: DecodeOutput): Verdict {
  if (output.rejection !== undefined) {
    const problem = rejectionProblem(output.rejection);
    return problem === undefined
      ? { kind: 'rejected', code: output.rejection.code }
      : { kind: 'violation', why: problem };
  }
  const rows = [
    ...output.predictions.map((event) => predictionRow(event, 'predictions/0/1', 0)),
    ...output.outcomes.map((event) => outcomeRow(event, 'outcomes/0/1', 0)),
  ];
  for (const row of rows) {
    const problem = unstorable(row as unknown as Record<string, unknown>);
    if (problem !== undefined) return { kind: 'violation', why: problem };
  }
  if (rows.length === 0)
    return output.held === true
      ? { kind: 'held' }
      : { kind: 'violation', why: 'neither stored nor rejected nor held' };
  return { kind: 'stored', rows: rows.length };
}

/** Calls `decode`, turning a throw into a violation. */
export function guarded(decode: () => Verdict): Verdict {
  try {
    return decode();
  } catch (error) {
    return {
      kind: 'violation',
      why: `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Faithfulness of a native prediction: what was stored is what was sent (booleans as categories,
 * numeric ids as text, unknown fields verbatim in `extra`).
 */
function unfaithfulPrediction(input: unknown, event: PredictionEvent): string | undefined {
  if (!isObject(input)) return 'an accepted prediction that is not an object';
  if (event.model !== input['model']) return 'model changed';
  if (event.id !== String(input['id'])) return 'id changed';
  const features = isObject(input['features']) ? input['features'] : {};
  const names = Object.keys(features);
  if (names.length !== Object.keys(event.features).length) return 'features lost or invented';
  for (const name of names) {
    const sent = features[name];
    const kept = event.features[name];
    const expected = typeof sent === 'boolean' ? String(sent) : sent;
    if (!Object.is(kept, expected) && !(typeof expected === 'number' && kept === expected))
      return `feature ${JSON.stringify(name)} changed`;
  }
  const known = new Set(['model', 'version', 'id', 'timestamp', 'features', 'prediction', 'scores']);
  const extra = Object.fromEntries(Object.entries(input).filter(([k]) => !known.has(k)));
  const keptExtra = event.extra === '' ? {} : (JSON.parse(event.extra) as unknown);
  if (JSON.stringify(keptExtra) !== JSON.stringify(extra)) return 'unknown fields not kept verbatim';
  return undefined;
}

function unfaithfulOutcome(input: unknown, event: OutcomeEvent): string | undefined {
  if (!isObject(input)) return 'an accepted outcome that is not an object';
  if (event.model !== input['model'] || event.id !== String(input['id'])) return 'model or id changed';
  const label = input['label'];
  if (event.label !== (typeof label === 'boolean' ? String(label) : label)) return 'label changed';
  return undefined;
}

/** The validators on a value built in-process (deep objects included, not only parsed JSON). */
export function checkValidator(kind: 'prediction' | 'outcome', input: unknown, fallbackMs: number): Verdict {
  return guarded(() => {
    if (kind === 'prediction') {
      const result = validatePrediction(input, fallbackMs);
      if (!result.ok) return verdictOf({ predictions: [], outcomes: [], rejection: result.rejection });
      const why = unfaithfulPrediction(input, result.value);
      return why === undefined
        ? verdictOf({ predictions: [result.value], outcomes: [] })
        : { kind: 'violation', why };
    }
    const result = validateOutcome(input, fallbackMs);
    if (!result.ok) return verdictOf({ predictions: [], outcomes: [], rejection: result.rejection });
    const why = unfaithfulOutcome(input, result.value);
    return why === undefined
      ? verdictOf({ predictions: [], outcomes: [result.value] })
      : { kind: 'violation', why };
  });
}

const writer = new PlainRowWriter();
const scratch = new RowBytes(1024);

/**
 * A topic decoder on a record; for native records also that the fast lane, where it writes,
 * writes exactly the full decoder's row, and that an accepted native event is faithful.
 */
export function checkRecord(decoder: RecordDecoder, record: InputRecord): Verdict {
  return guarded(() => {
    const output = decoder.decode(record, record.timestampMs);
    const verdict = verdictOf(output);
    if (verdict.kind === 'violation') return verdict;
    const kind = decoder.nativeKind?.(record);
    if (kind === undefined || record.value === null) return verdict;
    const source = { prefix: `${record.topic}/0/`, offset: '1', ingestedAt: '0' };
    const wrote =
      kind === 'prediction'
        ? writer.writePrediction(record.value, record.timestampMs, source, scratch)
        : writer.writeOutcome(record.value, record.timestampMs, source, scratch);
    const fast = scratch.take().toString('utf8');
    const event = kind === 'prediction' ? output.predictions[0] : output.outcomes[0];
    if (event !== undefined) {
      const parsed = parseJson(record.value, MAX_EVENT_BYTES);
      const why = !parsed.ok
        ? 'accepted bytes the parser refuses'
        : kind === 'prediction'
          ? unfaithfulPrediction(parsed.value, event as PredictionEvent)
          : unfaithfulOutcome(parsed.value, event as OutcomeEvent);
      if (why !== undefined) return { kind: 'violation', why };
    }
    if (!wrote) return verdict;
    if (event === undefined)
      return { kind: 'violation', why: 'the fast lane took a record the full decoder rejects' };
    const full =
      kind === 'prediction'
        ? `${JSON.stringify(predictionRow(event as PredictionEvent, `${record.topic}/0/1`, 0))}\n`
        : `${JSON.stringify(outcomeRow(event as OutcomeEvent, `${record.topic}/0/1`, 0))}\n`;
    return fast === full ? verdict : { kind: 'violation', why: 'the fast lane wrote a different row' };
  });
}

/** Fresh decoders for each kind of topic, as the daemon builds them. */
export function decoders() {
  const runtime = createDecoderRuntime({ pairTimeoutMs: 60_000, maxHeld: 10_000 });
  return {
    auto: createDecoder('prediction', { inputFormat: 'auto' }, MAX_EVENT_BYTES, runtime),
    cloudevents: createDecoder('prediction', { inputFormat: 'cloudevents' }, MAX_EVENT_BYTES, runtime),
    outcome: createDecoder('outcome', {}, MAX_EVENT_BYTES, runtime),
    seldon: createDecoder('prediction', { inputFormat: 'seldon' }, MAX_EVENT_BYTES, runtime),
    http: createHttpCloudEventIngest(runtime, MAX_EVENT_BYTES),
  };
}

/** The HTTP CloudEvents endpoint's decoding (headers as HTTP gives them: text). */
export function checkHttpCloudEvent(
  ingest: ReturnType<typeof decoders>['http'],
  headers: Record<string, string | Buffer>,
  body: Buffer,
): Verdict {
  return guarded(() => {
    const http: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers))
      http[name.replace(/^ce_/, 'ce-')] = value.toString('latin1');
    const result = ingest.submit(http, body, 1_795_399_200_000);
    if (result.status === 'rejected')
      return verdictOf({ predictions: [], outcomes: [], rejection: result.rejection });
    if (result.status === 'held') return { kind: 'held' };
    return verdictOf({ predictions: result.predictions, outcomes: [] });
  });
}

/** An HTTP ingest body through the splitter, the parser and the validator, as the route runs it. */
export function checkHttpBody(body: Buffer): Verdict {
  return guarded(() => {
    const splitter = new BodyItemSplitter(MAX_EVENT_BYTES);
    let rows = 0;
    let rejected: RejectionCode | undefined;
    try {
      const items = [...splitter.push(body), ...splitter.end()];
      for (const item of items) {
        if (item.rejection !== undefined) {
          const problem = rejectionProblem(item.rejection);
          if (problem !== undefined) return { kind: 'violation', why: problem };
          rejected = item.rejection.code;
          continue;
        }
        const parsed = parseJson(item.bytes as Buffer, MAX_EVENT_BYTES);
        const verdict = parsed.ok
          ? checkValidator('prediction', parsed.value, 1_795_399_200_000)
          : verdictOf({ predictions: [], outcomes: [], rejection: parsed.rejection });
        if (verdict.kind === 'violation') return verdict;
        if (verdict.kind === 'stored') rows += verdict.rows;
        if (verdict.kind === 'rejected') rejected = verdict.code;
      }
    } catch (error) {
      if (error instanceof MalformedBody) return { kind: 'rejected', code: 'not_json' };
      throw error;
    }
    if (rows > 0) return { kind: 'stored', rows };
    return { kind: 'rejected', code: rejected ?? 'missing_field' };
  });
}

/** Both halves of an exchange through one decoder: the first is held (or rejected), the second completes it. */
export function checkPair(
  decoder: RecordDecoder,
  [request, response]: readonly [InputRecord, InputRecord],
): Verdict {
  return guarded(() => {
    const first = verdictOf(decoder.decode(request, request.timestampMs));
    if (first.kind === 'violation' || first.kind === 'rejected') return first;
    if (first.kind !== 'held') return { kind: 'violation', why: 'a lone request was stored' };
    return verdictOf(decoder.decode(response, response.timestampMs));
  });
}
