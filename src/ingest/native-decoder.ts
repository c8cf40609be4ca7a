import type { Decoded } from '../events/types.js';
import { parseJson, validateOutcome, validatePrediction } from '../events/validate.js';
import { rejected, type DecodeOutput, type RecordDecoder } from './decoder.js';
import type { InputRecord } from './record.js';

/** A native decoder that can also take a body already parsed (by format detection), so none is parsed twice. */
export interface NativeDecoder extends RecordDecoder {
  /** Decodes `record` from `parsed`, the result of `parseJson(record.value, maxEventBytes)`. */
  decodeParsed(record: InputRecord, parsed: Decoded<unknown>): DecodeOutput;
}

/** Shared by every output without events of a kind (outputs are never mutated). */
const NONE: readonly never[] = Object.freeze([]);

/** driftguard's own JSON events, one per record: predictions or outcomes depending on the topic's role. */
export function createNativeDecoder(kind: 'prediction' | 'outcome', maxEventBytes: number): NativeDecoder {
  function decodeParsed(record: InputRecord, parsed: Decoded<unknown>): DecodeOutput {
    if (!parsed.ok) return rejected(parsed.rejection);
    if (kind === 'prediction') {
      const event = validatePrediction(parsed.value, record.timestampMs);
      return event.ok ? { predictions: [event.value], outcomes: NONE } : rejected(event.rejection);
    }
    const event = validateOutcome(parsed.value, record.timestampMs);
    return event.ok ? { predictions: NONE, outcomes: [event.value] } : rejected(event.rejection);
  }
  return {
    decode(record: InputRecord): DecodeOutput {
      if (record.value === null)
        return rejected({ code: 'not_json', path: '$', message: 'record has no value (tombstone)' });
      return decodeParsed(record, parseJson(record.value, maxEventBytes));
    },
    decodeParsed,
    nativeKind: (record) =>
      record.value !== null && record.value.length <= maxEventBytes ? kind : undefined,
  };
}
