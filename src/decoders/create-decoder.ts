import { DriftguardError } from '../../kernel/errors.js';
import type { Decoded } from '../events/types.js';
import { rejected, type DecodeOutput, type ExpiredRecord, type RecordDecoder } from '../ingest/decoder.js';
import { createNativeDecoder } from '../ingest/native-decoder.js';
import { headerText, type InputRecord } from '../ingest/record.js';
import { bareBodyToHalf } from './bare-body.js';
import { cloudEventRecordToHalf, hasCloudEventHeaders, isStructuredContentType } from './cloudevents.js';
import { detectFormat, type Detection } from './detect.js';
import { compileDecoderOptions, type CompiledDecoderOptions, type DecoderOptionsInput } from './options.js';
import { Pairer, type UnpairedCause } from './pairer.js';
import { parseSeldonTopic, seldonRecordToHalf, seldonTopicPattern } from './seldon.js';
import { toPredictions, type InferenceHalf } from './to-predictions.js';

/**
 * The per-topic RecordDecoder: detect (or check the pinned) format, reduce envelopes to request /
 * response halves, pair them in the shared runtime, and emit native-shaped PredictionEvents.
 */

/** State shared by all decoders of one daemon (and its HTTP endpoint): the pairing buffer. */
export interface DecoderRuntime {
  readonly options: CompiledDecoderOptions;
  readonly pairer: Pairer;
  /** Halves that expired or were evicted without a partner since start: export as a counter. */
  unpairedTotal(): number;
  /** Halves waiting for a partner now, across all topics and HTTP: export as a gauge. */
  heldCount(): number;
}

export function isCompiled(
  options: CompiledDecoderOptions | DecoderOptionsInput | undefined,
): options is CompiledDecoderOptions {
  return options !== undefined && (options as { models?: unknown }).models instanceof Map;
}

export interface DecoderRuntimeHooks {
  /**
   * Called once per half that expired or was evicted without a partner (`model` when the half
   * names one). Increment a counter here; `unpairedTotal()` gives the same number on demand.
   */
  onUnpaired?: (info: {
    readonly model: string | undefined;
    readonly side: 'request' | 'response';
    readonly cause: UnpairedCause;
  }) => void;
}

/**
 * One runtime per daemon. Its options supply the pairing bounds (`pairTimeoutMs`, `maxHeld`);
 * everything else is read from each topic's own options.
 */
export function createDecoderRuntime(
  options: CompiledDecoderOptions | DecoderOptionsInput = {},
  hooks: DecoderRuntimeHooks = {},
): DecoderRuntime {
  const compiled = isCompiled(options) ? options : compileDecoderOptions(options);
  const onUnpaired = hooks.onUnpaired;
  const pairer = new Pairer(
    compiled.pairTimeoutMs,
    compiled.maxHeld,
    onUnpaired === undefined
      ? undefined
      : (half, cause) => onUnpaired({ model: half.model, side: half.side, cause }),
  );
  return {
    options: compiled,
    pairer,
    unpairedTotal: () => pairer.unpairedTotal(),
    heldCount: () => pairer.heldCount(),
  };
}

let nextOwner = 0;
/** Each decoder drains only the expired halves it held, so that it dead-letters its own records. */
export function newOwnerId(kind: string): string {
  nextOwner += 1;
  return `${kind}-${nextOwner}`;
}

const FORMAT_NAMES: Record<Exclude<Detection['format'], 'invalid'>, string> = {
  native: 'a native driftguard event',
  cloudevents: 'a CloudEvent',
  seldon: 'a Seldon Core 2 model topic record',
  oip: 'a bare Open Inference Protocol body',
  'kserve-v1': 'a bare KServe v1 body',
};

/** Offer a half to the pairer and turn the result into a DecodeOutput. Shared with the HTTP endpoint. */
export function offerHalf(
  runtime: DecoderRuntime,
  options: CompiledDecoderOptions,
  half: InferenceHalf,
  owner: string,
  record: InputRecord | undefined,
  nowMs: number,
): DecodeOutput {
  const result = runtime.pairer.offer(half, owner, record, nowMs);
  if (result.kind === 'held') {
    return result.released.length > 0
      ? { predictions: [], outcomes: [], held: true, released: result.released }
      : { predictions: [], outcomes: [], held: true };
  }
  const events = toPredictions(result.request, result.response, options);
  // A pair that fails to join is dead-lettered through the completing record; its partner has
  // nothing left to wait for, so it is released either way.
  if (!events.ok) return { ...rejected(events.rejection), released: result.released };
  return { predictions: events.value, outcomes: [], released: result.released };
}

/**
 * A decoder for one input topic. `role` is the topic's role in the config: outcome topics accept
 * native outcome events only. Pass the same `runtime` to every topic's decoder and to the HTTP
 * endpoint so that halves arriving on different topics pair; without one the decoder gets its own.
 * A pair is joined with the `models` mapping of the decoder whose record completes it, so give
 * every topic the same `models` (only `inputFormat` and `model` are meant to differ per topic).
 *
 * @throws DriftguardError CONFIG_INVALID when an outcome topic is pinned to a prediction-log format.
 */
export function createDecoder(
  role: 'prediction' | 'outcome',
  options: CompiledDecoderOptions | DecoderOptionsInput,
  maxEventBytes: number,
  runtime?: DecoderRuntime,
): RecordDecoder {
  const compiled = isCompiled(options) ? options : compileDecoderOptions(options);
  const pinned = compiled.inputFormat;
  if (role === 'outcome' && pinned !== 'auto' && pinned !== 'native') {
    throw new DriftguardError(
      'CONFIG_INVALID',
      `outcome topics take native outcome events only, but inputFormat is ${JSON.stringify(pinned)}; use "native" or "auto"`,
      { retriable: false },
    );
  }
  const shared = runtime ?? createDecoderRuntime(compiled);
  const native = createNativeDecoder(role, maxEventBytes);
  const owner = newOwnerId('topic');
  // Auto and native topics may skip parsing bodies that can only be native (see detectFormat).
  const sniff = pinned === 'auto' || pinned === 'native';

  function toHalf(record: InputRecord, detection: Detection): Decoded<InferenceHalf> | undefined {
    switch (detection.format) {
      case 'cloudevents':
        return cloudEventRecordToHalf(record, detection.parsed, compiled, maxEventBytes);
      case 'seldon':
        return seldonRecordToHalf(record, detection.topic, compiled, maxEventBytes);
      case 'oip':
      case 'kserve-v1':
        return bareBodyToHalf(record, detection.parsed);
      case 'native':
      case 'invalid':
        return undefined;
    }
  }

  // Whether the last topic asked about is a Seldon topic (a decoder sees one topic, or a few).
  let lastTopic: string | undefined;
  let lastTopicIsSeldon = false;

  return {
    nativeKind(record: InputRecord): 'prediction' | 'outcome' | undefined {
      if (!sniff || hasCloudEventHeaders(record.headers)) return undefined;
      // An oversized body is rejected by the full decode, with its size in the reason.
      if (record.value === null || record.value.length > maxEventBytes) return undefined;
      if (record.topic !== lastTopic) {
        lastTopic = record.topic;
        lastTopicIsSeldon = parseSeldonTopic(record.topic, compiled.seldonTopicPrefix) !== undefined;
      }
      if (lastTopicIsSeldon) return undefined;
      // A body with a structured-CloudEvents content type is an envelope whatever its keys.
      const contentType = record.headers['content-type'];
      if (contentType !== undefined && isStructuredContentType(headerText(contentType))) return undefined;
      return role;
    },

    decode(record: InputRecord, nowMs: number): DecodeOutput {
      const detection = detectFormat(record, compiled.seldonTopicPrefix, maxEventBytes, sniff);
      if (detection.format === 'invalid') return rejected(detection.rejection);
      if (role === 'outcome' && detection.format !== 'native') {
        return rejected({
          code: 'unsupported_format',
          path: '$',
          message: `outcome topics take native outcome events only; this record is ${FORMAT_NAMES[detection.format]} (${detection.why}), which carries predictions`,
        });
      }
      if (pinned !== 'auto' && detection.format !== pinned) {
        const expected =
          pinned === 'seldon' ? ` (topic names ${seldonTopicPattern(compiled.seldonTopicPrefix)})` : '';
        return rejected({
          code: 'unsupported_format',
          path: '$',
          message: `topic ${record.topic} is pinned to inputFormat ${JSON.stringify(pinned)}${expected} but this record is ${FORMAT_NAMES[detection.format]} (${detection.why})`,
        });
      }
      const half = toHalf(record, detection);
      if (half === undefined)
        return detection.format === 'native' && detection.parsed !== undefined
          ? native.decodeParsed(record, detection.parsed)
          : native.decode(record, nowMs);
      if (!half.ok) return rejected(half.rejection);
      return offerHalf(shared, compiled, half.value, owner, record, nowMs);
    },

    expire(nowMs: number): readonly ExpiredRecord[] {
      shared.pairer.expireDue(nowMs);
      return shared.pairer.takeExpired(owner).map((e) => ({ record: e.record, rejection: e.rejection }));
    },

    dropPartitions(refs: ReadonlyArray<{ topic: string; partition: number }>): void {
      shared.pairer.dropPartitions(refs);
    },

    /** Halves this topic's records left waiting (the runtime's heldCount covers all topics). */
    heldCount(): number {
      return shared.pairer.heldCount(owner);
    },
  };
}
