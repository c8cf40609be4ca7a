import { isModelNameByte } from '../../kernel/names.js';
import {
  MAX_CATEGORY_LENGTH,
  MAX_FEATURE_NAME_LENGTH,
  MAX_FEATURES,
  MAX_ID_LENGTH,
  MAX_TIMESTAMP_MS,
} from '../events/limits.js';
import { checkTimestamp, isStorableTimestamp } from '../events/validate.js';
import type { RowBytes } from '../store/row-bytes.js';

/**
 * The ingest fast lane: a plain native event's bytes straight to its JSONEachRow row bytes, with
 * no JSON.parse, no event object and no JSON.stringify. At the rates ingest runs, those three and
 * the garbage they leave were most of the daemon's CPU.
 *
 * "Plain" is the common case, narrowed until the row is exactly the one the full path
 * (`validatePrediction` + `predictionRow` + `JSON.stringify`) writes, byte for byte:
 *  - only the event's known top-level fields, each once;
 *  - strings of printable ASCII without escapes (so their JSON text is the same in and out);
 *  - feature and class names that do not start with a digit (JavaScript objects list integer-like
 *    keys first, so the full path would reorder them), and no name twice;
 *  - features that are numbers, strings or null; scores a number, null or class → number;
 *  - timestamps as integer epoch milliseconds or ISO text, ids as strings or integers.
 * Anything else (escapes, non-ASCII text, booleans, nesting, extra fields, invalid JSON, a value
 * the full path rejects) writes nothing and returns false: the full decoder then decides, so
 * every rejection and its message still come from one place. Differential tests hold the two
 * paths to the same bytes.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** The first letter of `null`. */
const LETTER_N = 0x6e;

/** Kinds of scanned scalar values; FAIL ends the fast lane for the event. */
const FAIL = 0;
const STRING = 1;
/** A number whose JSON text is exactly what JSON.stringify writes for its value. */
const NUMBER = 2;
/** A number written differently (exponent, trailing zeros, many digits): its text is converted. */
const NUMBER_CONVERTED = 3;
const NULL = 4;
/** The scores field only: an object of class scores, kept in `PlainRowWriter.scores`. */
const CLASS_SCORES = 5;

/** Decimal digits a number may have and still be written back unchanged (DBL_DIG). */
const EXACT_DIGITS = 15;
/** Leading zeros after "0." below which JavaScript writes a number in exponent form (1e-7). */
const MAX_FIXED_LEADING_ZEROS = 5;
/** Larger objects take the full path, whose duplicate handling needs no quadratic check. */
const MAX_PAIRWISE_NAMES = 64;
const MAX_SCORE_CLASSES = 1_024;

/** Top-level fields of native events; an event kind allows a set of them (bits by index). */
const FIELDS = ['model', 'version', 'id', 'timestamp', 'features', 'prediction', 'scores', 'label'];
const FIELD_MODEL = 0;
const FIELD_VERSION = 1;
const FIELD_ID = 2;
const FIELD_TIMESTAMP = 3;
const FIELD_FEATURES = 4;
const FIELD_PREDICTION = 5;
const FIELD_SCORES = 6;
const FIELD_LABEL = 7;
const bits = (...fields: number[]): number => fields.reduce((mask, field) => mask | (1 << field), 0);
const PREDICTION_FIELDS = bits(
  FIELD_MODEL,
  FIELD_VERSION,
  FIELD_ID,
  FIELD_TIMESTAMP,
  FIELD_FEATURES,
  FIELD_PREDICTION,
  FIELD_SCORES,
);
const PREDICTION_REQUIRED = bits(FIELD_MODEL, FIELD_ID);
const OUTCOME_FIELDS = bits(FIELD_MODEL, FIELD_ID, FIELD_TIMESTAMP, FIELD_LABEL);
const OUTCOME_REQUIRED = bits(FIELD_MODEL, FIELD_ID, FIELD_LABEL);

const ascii = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const ROW_MODEL = ascii('{"model":"');
const ROW_TS = ascii('","ts":');
const ROW_TS_MS = ascii(',"ts_ms":');
const ROW_ID = ascii(',"id":"');
const ROW_VERSION = ascii('","version":"');
const ROW_NUM_NAMES = ascii('","num_names":[');
const ROW_NUM_VALUES = ascii('],"num_values":[');
const ROW_CAT_NAMES = ascii('],"cat_names":[');
const ROW_CAT_VALUES = ascii('],"cat_values":[');
const ROW_MISSING = ascii('],"missing_names":[');
const ROW_PREDICTION_NUMBER = ascii('],"prediction_number":');
const ROW_PREDICTION_LABEL = ascii(',"prediction_label":"');
const ROW_SCORE = ascii('","score":');
const ROW_SCORE_CLASSES = ascii(',"score_classes":[');
const ROW_SCORE_VALUES = ascii('],"score_values":[');
const ROW_EXTRA_SOURCE = ascii('],"extra":"","source":"');
const ROW_OUTCOME_LABEL = ascii('","label":"');
const ROW_LABEL_NUMBER = ascii('","label_number":');
const ROW_OUTCOME_EXTRA_SOURCE = ascii(',"extra":"","source":"');
const ROW_INGESTED_AT = ascii('","ingested_at":');
const ROW_END = ascii('}\n');
const NULL_TEXT = ascii('null');

const isDigit = (byte: number): boolean => byte >= DIGIT_0 && byte <= DIGIT_9;
/** Printable ASCII other than the quote and backslash: JSON text that means itself. */
const isPlainByte = (byte: number): boolean =>
  byte >= 0x20 && byte < 0x7f && byte !== QUOTE && byte !== BACKSLASH;

/** Name/value pairs of one JSON object (features or scores), as spans of the event's bytes. */
class Entries {
  count = 0;
  readonly nameStart: Int32Array;
  readonly nameEnd: Int32Array;
  readonly nameHash: Int32Array;
  readonly kind: Uint8Array;
  readonly valueStart: Int32Array;
  readonly valueEnd: Int32Array;
  /** The JSON text of NUMBER_CONVERTED values, by entry. */
  readonly converted: string[] = [];

  constructor(readonly capacity: number) {
    this.nameStart = new Int32Array(capacity);
    this.nameEnd = new Int32Array(capacity);
    this.nameHash = new Int32Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.valueStart = new Int32Array(capacity);
    this.valueEnd = new Int32Array(capacity);
  }
}

/** One scanned scalar field of the current event: its kind, its text's span, converted text. */
class Scalar {
  kind = NULL;
  start = 0;
  end = 0;
  converted = '';
}

/** Where a row's event time comes from. */
interface EventTime {
  /** Epoch milliseconds. */
  ms: number;
  /** Its text in the event when that is exactly the number's JSON text, else -1. */
  start: number;
  end: number;
}

/** A row's `source` (`prefix` + `offset`, e.g. "predictions/3/1234") and `ingested_at` text. */
export interface RowSource {
  /** "topic/partition/": plain text (see `isPlainText`). */
  prefix: string;
  offset: string;
  /** Epoch seconds, as text. */
  ingestedAt: string;
}

/**
 * Writes plain native events as rows. One per pipeline: it keeps scratch space between events,
 * so it is not reentrant (nothing in it awaits).
 */
export class PlainRowWriter {
  private source: Buffer = Buffer.alloc(0);
  private at = 0;
  private end = 0;
  /** The last scanned scalar: its span (strings without quotes) and converted text. */
  private valueStart = 0;
  private valueEnd = 0;
  private convertedText = '';
  /** Integer value of the last scanned number when it had no fraction or exponent, else NaN. */
  private integerValue = Number.NaN;
  /** The current event's fields, as scanned (reset per event). */
  private readonly model = new Scalar();
  private readonly id = new Scalar();
  private readonly version = new Scalar();
  private readonly prediction = new Scalar();
  /** A number or null, or kind CLASS_SCORES when the scores are in `this.scores`. */
  private readonly score = new Scalar();
  private readonly label = new Scalar();
  private readonly features = new Entries(MAX_FEATURES);
  private readonly scores = new Entries(MAX_SCORE_CLASSES);
  private readonly time: EventTime = { ms: 0, start: -1, end: -1 };

  /**
   * Writes the row of a plain native prediction and returns true, or writes nothing and returns
   * false. `fallbackTimestampMs`: the record time, for events without one.
   */
  writePrediction(value: Buffer, fallbackTimestampMs: number, source: RowSource, rows: RowBytes): boolean {
    if (!this.scanEvent(value, PREDICTION_FIELDS, PREDICTION_REQUIRED, fallbackTimestampMs)) return false;
    // The event is plain: write its row, in predictionRow's field order.
    this.writeHead(rows);
    rows.append(ROW_VERSION);
    if (this.version.kind !== NULL) this.writeScalarText(rows, this.version);
    const features = this.features;
    rows.append(ROW_NUM_NAMES);
    this.writeNames(rows, features, NUMBER);
    rows.append(ROW_NUM_VALUES);
    this.writeNumbers(rows, features);
    rows.append(ROW_CAT_NAMES);
    this.writeNames(rows, features, STRING);
    rows.append(ROW_CAT_VALUES);
    this.writeStrings(rows, features);
    rows.append(ROW_MISSING);
    this.writeNames(rows, features, NULL);
    rows.append(ROW_PREDICTION_NUMBER);
    this.writeNumberOrNull(rows, this.prediction);
    rows.append(ROW_PREDICTION_LABEL);
    if (this.prediction.kind !== NULL) this.writeScalarText(rows, this.prediction);
    rows.append(ROW_SCORE);
    this.writeNumberOrNull(rows, this.score);
    const classScores = this.score.kind === CLASS_SCORES;
    rows.append(ROW_SCORE_CLASSES);
    if (classScores) this.writeNames(rows, this.scores, NUMBER);
    rows.append(ROW_SCORE_VALUES);
    if (classScores) this.writeNumbers(rows, this.scores);
    rows.append(ROW_EXTRA_SOURCE);
    this.writeTail(rows, source);
    return true;
  }

  /** Like `writePrediction`, for a plain native outcome (`outcomeRow`'s fields). */
  writeOutcome(value: Buffer, fallbackTimestampMs: number, source: RowSource, rows: RowBytes): boolean {
    if (!this.scanEvent(value, OUTCOME_FIELDS, OUTCOME_REQUIRED, fallbackTimestampMs)) return false;
    this.writeHead(rows);
    rows.append(ROW_OUTCOME_LABEL);
    this.writeScalarText(rows, this.label);
    rows.append(ROW_LABEL_NUMBER);
    this.writeNumberOrNull(rows, this.label);
    rows.append(ROW_OUTCOME_EXTRA_SOURCE);
    this.writeTail(rows, source);
    return true;
  }

  // ---- scanning ----

  /**
   * Scans a whole event whose top-level fields must be among `allowed` (FIELD bits), each once,
   * and include `required`; true when every field is plain.
   */
  private scanEvent(value: Buffer, allowed: number, required: number, fallbackTimestampMs: number): boolean {
    this.source = value;
    this.at = 0;
    this.end = value.length;
    this.time.start = -1;
    this.version.kind = NULL;
    this.prediction.kind = NULL;
    this.score.kind = NULL;
    this.features.count = 0;
    this.scores.count = 0;
    let seen = 0;
    if (!this.consume(OPEN_BRACE)) return false;
    if (!this.consume(CLOSE_BRACE)) {
      do {
        const field = this.fieldIndex();
        if (field < 0 || (allowed & (1 << field)) === 0 || (seen & (1 << field)) !== 0) return false;
        seen |= 1 << field;
        if (!this.scanField(field, fallbackTimestampMs)) return false;
      } while (this.consume(COMMA));
    }
    if (!this.closeObject() || (seen & required) !== required) return false;
    return (seen & (1 << FIELD_TIMESTAMP)) !== 0 || this.fallbackTime(fallbackTimestampMs);
  }

  /** The value of top-level field `field` (an index into FIELDS). */
  private scanField(field: number, fallbackTimestampMs: number): boolean {
    switch (field) {
      case FIELD_MODEL:
        return this.scalar() === STRING && this.isModelName() && this.take(this.model, STRING);
      case FIELD_VERSION: // a string, a number (written as its text) or null
        return this.take(this.version, this.scalar());
      case FIELD_ID:
        return this.take(this.id, this.idValue());
      case FIELD_TIMESTAMP:
        return this.timestamp(fallbackTimestampMs);
      case FIELD_FEATURES:
        return this.peek() === LETTER_N
          ? this.scalar() === NULL
          : this.object(this.features, MAX_FEATURE_NAME_LENGTH, true);
      case FIELD_PREDICTION:
        return this.take(this.prediction, this.labelValue());
      case FIELD_SCORES: {
        if (this.peek() === OPEN_BRACE) {
          this.score.kind = CLASS_SCORES;
          return this.object(this.scores, Number.MAX_SAFE_INTEGER, false);
        }
        const kind = this.scalar();
        return (kind === NULL || kind === NUMBER || kind === NUMBER_CONVERTED) && this.take(this.score, kind);
      }
      case FIELD_LABEL: {
        // A missing label is a rejection: the full path writes its message.
        const kind = this.labelValue();
        return kind !== NULL && this.take(this.label, kind);
      }
      default:
        return false;
    }
  }

  /** Keeps the last scanned scalar of `kind` in `target`; false (and nothing kept) for FAIL. */
  private take(target: Scalar, kind: number): boolean {
    if (kind === FAIL) return false;
    target.kind = kind;
    target.start = this.valueStart;
    target.end = this.valueEnd;
    target.converted = this.convertedText;
    return true;
  }

  private skipWhitespace(): void {
    const source = this.source;
    while (this.at < this.end) {
      const byte = source[this.at] as number;
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return;
      this.at++;
    }
  }

  /** The next byte after whitespace, or -1 at the end. */
  private peek(): number {
    this.skipWhitespace();
    return this.at < this.end ? (this.source[this.at] as number) : -1;
  }

  /** Consumes `byte` (after whitespace) when it is next. */
  private consume(byte: number): boolean {
    if (this.peek() !== byte) return false;
    this.at++;
    return true;
  }

  /** The closing brace of the event and nothing but whitespace after it. */
  private closeObject(): boolean {
    if (!this.consume(CLOSE_BRACE)) return false;
    this.skipWhitespace();
    return this.at === this.end;
  }

  /** A plain string's span into valueStart/valueEnd (without quotes); false if not plain. */
  private plainString(): boolean {
    if (this.peek() !== QUOTE) return false;
    const source = this.source;
    const start = ++this.at;
    while (this.at < this.end && isPlainByte(source[this.at] as number)) this.at++;
    if (this.at >= this.end || source[this.at] !== QUOTE) return false;
    this.valueStart = start;
    this.valueEnd = this.at++;
    return true;
  }

  /** A top-level key and its colon: its index in FIELDS, or -1 (unknown, or not plain). */
  private fieldIndex(): number {
    if (!this.plainString() || !this.consume(COLON)) return -1;
    const length = this.valueEnd - this.valueStart;
    for (let i = 0; i < FIELDS.length; i++) {
      const field = FIELDS[i] as string;
      if (field.length !== length) continue;
      let same = true;
      for (let j = 0; j < length && same; j++)
        same = this.source[this.valueStart + j] === field.charCodeAt(j);
      if (same) return i;
    }
    return -1;
  }

  /**
   * A string, number or null into the value span (and `convertedText` for converted numbers);
   * FAIL for anything else (booleans, objects, arrays, non-plain strings, non-finite numbers).
   */
  private scalar(): number {
    const byte = this.peek();
    if (byte === QUOTE) return this.plainString() ? STRING : FAIL;
    if (byte === MINUS || isDigit(byte)) return this.number();
    if (byte === LETTER_N) {
      const source = this.source;
      const at = this.at;
      if (
        at + 4 <= this.end &&
        source[at + 1] === 0x75 &&
        source[at + 2] === 0x6c &&
        source[at + 3] === 0x6c
      ) {
        this.at += 4;
        return NULL;
      }
    }
    return FAIL;
  }

  /** A JSON number (RFC 8259 grammar). NUMBER when its text is its canonical JSON text. */
  private number(): number {
    const source = this.source;
    const start = this.at;
    const end = this.end;
    let at = start;
    const negative = source[at] === MINUS;
    if (negative) at++;
    let digits = 0;
    let integer = 0;
    let zeroInteger = false;
    if (source[at] === DIGIT_0) {
      zeroInteger = true;
      at++;
    } else if (at < end && isDigit(source[at] as number)) {
      while (at < end && isDigit(source[at] as number)) {
        integer = integer * 10 + ((source[at] as number) - DIGIT_0);
        digits++;
        at++;
      }
    } else return FAIL;
    let canonical = true;
    let fraction = false;
    if (source[at] === DOT) {
      at++;
      fraction = true;
      const fractionStart = at;
      let leadingZeros = 0;
      let significant = false;
      while (at < end && isDigit(source[at] as number)) {
        if (source[at] !== DIGIT_0) significant = true;
        else if (!significant) leadingZeros++;
        at++;
      }
      if (at === fractionStart) return FAIL;
      digits += at - fractionStart;
      // Trailing zeros ("1.50"), or a small number JavaScript writes as 1e-7: not canonical.
      if (source[at - 1] === DIGIT_0) canonical = false;
      if (zeroInteger && leadingZeros > MAX_FIXED_LEADING_ZEROS) canonical = false;
    }
    const exponentByte = source[at];
    if (exponentByte === 0x65 || exponentByte === 0x45) {
      canonical = false;
      fraction = true;
      at++;
      if (source[at] === PLUS || source[at] === MINUS) at++;
      const exponentStart = at;
      while (at < end && isDigit(source[at] as number)) at++;
      if (at === exponentStart) return FAIL;
    }
    if (digits > EXACT_DIGITS) canonical = false;
    // "-0" is written "0".
    if (negative && zeroInteger && !fraction) canonical = false;
    this.at = at;
    this.valueStart = start;
    this.valueEnd = at;
    this.integerValue = fraction ? Number.NaN : negative ? -integer : integer;
    if (canonical) return NUMBER;
    const value = Number(source.toString('latin1', start, at));
    if (!Number.isFinite(value)) return FAIL;
    this.convertedText = String(value);
    this.integerValue = Number.isInteger(value) ? value : Number.NaN;
    return NUMBER_CONVERTED;
  }

  /** `id`: a plain string of 1-MAX_ID_LENGTH characters, or an integer written canonically. */
  private idValue(): number {
    const kind = this.scalar();
    if (kind === STRING) {
      const length = this.valueEnd - this.valueStart;
      return length > 0 && length <= MAX_ID_LENGTH ? STRING : FAIL;
    }
    // Canonical integer text is a safe integer (at most 15 digits) and its own decimal text.
    return kind === NUMBER && !Number.isNaN(this.integerValue) ? NUMBER : FAIL;
  }

  /** A prediction or label: a number, a string of at most MAX_CATEGORY_LENGTH characters, or null. */
  private labelValue(): number {
    const kind = this.scalar();
    return kind === STRING && this.valueEnd - this.valueStart > MAX_CATEGORY_LENGTH ? FAIL : kind;
  }

  private isModelName(): boolean {
    const length = this.valueEnd - this.valueStart;
    if (length < 1 || length > 128) return false;
    for (let i = this.valueStart; i < this.valueEnd; i++)
      if (!isModelNameByte(this.source[i] as number, i === this.valueStart)) return false;
    return true;
  }

  /** `timestamp`: integer epoch milliseconds, ISO 8601 text (checked by the full path's rule), or null. */
  private timestamp(fallbackTimestampMs: number): boolean {
    const kind = this.scalar();
    const time = this.time;
    if (kind === NULL) return this.fallbackTime(fallbackTimestampMs);
    if (kind === NUMBER) {
      const ms = this.integerValue;
      if (Number.isNaN(ms) || ms < 0 || ms > MAX_TIMESTAMP_MS) return false;
      time.ms = ms;
      time.start = this.valueStart;
      time.end = this.valueEnd;
      return true;
    }
    if (kind !== STRING) return false;
    const text = this.source.toString('latin1', this.valueStart, this.valueEnd);
    const checked = checkTimestamp(text, fallbackTimestampMs);
    if (!checked.ok) return false;
    time.ms = checked.value;
    time.start = -1;
    return true;
  }

  private fallbackTime(fallbackTimestampMs: number): boolean {
    // A record time the store cannot hold (or JSON.stringify would write as null): the full path
    // decides, with its reason.
    if (!Number.isFinite(fallbackTimestampMs) || !isStorableTimestamp(fallbackTimestampMs)) return false;
    this.time.ms = Math.trunc(fallbackTimestampMs);
    this.time.start = -1;
    return true;
  }

  /**
   * An object of plain names to values: features (numbers, strings of at most
   * MAX_CATEGORY_LENGTH characters, null) or class scores (numbers only).
   */
  private object(entries: Entries, maxNameLength: number, features: boolean): boolean {
    if (!this.consume(OPEN_BRACE)) return false;
    entries.count = 0;
    if (this.consume(CLOSE_BRACE)) return true;
    const source = this.source;
    for (;;) {
      if (!this.plainString()) return false;
      const nameStart = this.valueStart;
      const nameEnd = this.valueEnd;
      const nameLength = nameEnd - nameStart;
      // Integer-like names would be listed first by JavaScript objects: the full path decides.
      if (nameLength === 0 || nameLength > maxNameLength || isDigit(source[nameStart] as number))
        return false;
      if (!this.consume(COLON)) return false;
      const kind = this.scalar();
      if (kind === FAIL) return false;
      if (features) {
        if (kind === STRING && this.valueEnd - this.valueStart > MAX_CATEGORY_LENGTH) return false;
      } else if (kind !== NUMBER && kind !== NUMBER_CONVERTED) return false;
      const index = entries.count;
      if (index >= entries.capacity) return false;
      let hash = 0x811c9dc5;
      for (let i = nameStart; i < nameEnd; i++) hash = Math.imul(hash ^ (source[i] as number), 0x01000193);
      entries.nameStart[index] = nameStart;
      entries.nameEnd[index] = nameEnd;
      entries.nameHash[index] = hash;
      entries.kind[index] = kind;
      entries.valueStart[index] = this.valueStart;
      entries.valueEnd[index] = this.valueEnd;
      if (kind === NUMBER_CONVERTED) entries.converted[index] = this.convertedText;
      entries.count = index + 1;
      if (!this.consume(COMMA)) break;
    }
    return (
      this.consume(CLOSE_BRACE) && entries.count <= MAX_PAIRWISE_NAMES && !this.hasDuplicateName(entries)
    );
  }

  /** Whether a name occurs twice (the full path would keep the last value at the first place). */
  private hasDuplicateName(entries: Entries): boolean {
    const { nameStart, nameEnd, nameHash, count } = entries;
    const source = this.source;
    for (let i = 1; i < count; i++) {
      for (let j = 0; j < i; j++) {
        if (nameHash[i] !== nameHash[j]) continue;
        const length = (nameEnd[i] as number) - (nameStart[i] as number);
        if (length !== (nameEnd[j] as number) - (nameStart[j] as number)) continue;
        let same = true;
        for (let k = 0; k < length && same; k++)
          same = source[(nameStart[i] as number) + k] === source[(nameStart[j] as number) + k];
        if (same) return true;
      }
    }
    return false;
  }

  // ---- writing ----

  /** `"ts":<seconds>,"ts_ms":<milliseconds>` around the model's closing quote. */
  private writeTime(rows: RowBytes): void {
    const time = this.time;
    rows.append(ROW_TS);
    rows.ascii(String(Math.floor(time.ms / 1000)));
    rows.append(ROW_TS_MS);
    if (time.start >= 0) rows.copy(this.source, time.start, time.end);
    else rows.ascii(String(time.ms));
  }

  /** `{"model":"…","ts":…,"ts_ms":…,"id":"…`, the start of both rows. */
  private writeHead(rows: RowBytes): void {
    rows.append(ROW_MODEL);
    this.writeScalarText(rows, this.model);
    this.writeTime(rows);
    rows.append(ROW_ID);
    this.writeScalarText(rows, this.id);
  }

  private writeScalarText(rows: RowBytes, scalar: Scalar): void {
    this.writeText(rows, scalar.kind, scalar.start, scalar.end, scalar.converted);
  }

  private writeText(rows: RowBytes, kind: number, start: number, end: number, converted: string): void {
    if (kind === NUMBER_CONVERTED) rows.ascii(converted);
    else rows.copy(this.source, start, end);
  }

  /** A number's text, or `null` for anything else (a label string, no value, class scores). */
  private writeNumberOrNull(rows: RowBytes, scalar: Scalar): void {
    if (scalar.kind === NUMBER || scalar.kind === NUMBER_CONVERTED) this.writeScalarText(rows, scalar);
    else rows.append(NULL_TEXT);
  }

  /** The quoted names of the entries whose value is of `kind` (NUMBER covers converted numbers). */
  private writeNames(rows: RowBytes, entries: Entries, kind: number): void {
    let first = true;
    for (let i = 0; i < entries.count; i++) {
      const entryKind = entries.kind[i] === NUMBER_CONVERTED ? NUMBER : entries.kind[i];
      if (entryKind !== kind) continue;
      if (!first) rows.byte(COMMA);
      first = false;
      rows.byte(QUOTE);
      rows.copy(this.source, entries.nameStart[i] as number, entries.nameEnd[i] as number);
      rows.byte(QUOTE);
    }
  }

  private writeNumbers(rows: RowBytes, entries: Entries): void {
    let first = true;
    for (let i = 0; i < entries.count; i++) {
      const kind = entries.kind[i] as number;
      if (kind !== NUMBER && kind !== NUMBER_CONVERTED) continue;
      if (!first) rows.byte(COMMA);
      first = false;
      this.writeText(
        rows,
        kind,
        entries.valueStart[i] as number,
        entries.valueEnd[i] as number,
        entries.converted[i] ?? '',
      );
    }
  }

  private writeStrings(rows: RowBytes, entries: Entries): void {
    let first = true;
    for (let i = 0; i < entries.count; i++) {
      if (entries.kind[i] !== STRING) continue;
      if (!first) rows.byte(COMMA);
      first = false;
      rows.byte(QUOTE);
      rows.copy(this.source, entries.valueStart[i] as number, entries.valueEnd[i] as number);
      rows.byte(QUOTE);
    }
  }

  private writeTail(rows: RowBytes, source: RowSource): void {
    rows.ascii(source.prefix);
    rows.ascii(source.offset);
    rows.append(ROW_INGESTED_AT);
    rows.ascii(source.ingestedAt);
    rows.append(ROW_END);
  }
}

/** Whether `text` can be written into a row's JSON string as it is (the fast lane's `source`). */
export function isPlainText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isPlainByte(text.charCodeAt(i))) return false;
  return true;
}
