import { MAX_JSON_DEPTH } from '../events/limits.js';
import type { Rejection } from '../events/types.js';

/**
 * Splits a request body into its events as the bytes arrive, without holding the body: a JSON
 * array (one event per element) or NDJSON (one per line; blank lines ignored; a single JSON
 * object is one line). Each chunk is scanned once, byte by byte, with no recursion, so a body of
 * any shape costs time linear in its size, spread over its chunks: no single chunk blocks the
 * event loop for long, whatever the body (16 MB of "[" included).
 *
 * An item is its bytes, or a rejection when it can be refused without parsing: larger than
 * `maxItemBytes` (its bytes are not kept) or nested deeper than MAX_JSON_DEPTH. Parsing and
 * validating the bytes is the caller's business (parseJson).
 */
export interface BodyItem {
  /** 0-based position in a JSON array, or 1-based line number in NDJSON. */
  readonly index: number;
  readonly bytes?: Buffer;
  readonly rejection?: Rejection;
}

/** The body as a whole is malformed (a broken JSON array): nothing in it is accepted. */
export class MalformedBody extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedBody';
  }
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** Array-mode states. */
const enum At {
  /** Before the body's first meaningful byte: its kind is not known yet. */
  Start,
  /** Inside the array, before an element (or its closing bracket right after "["). */
  BeforeElement,
  /** Inside an element. */
  Element,
  /** After the closing bracket: whitespace only. */
  End,
}

export class BodyItemSplitter {
  private mode: 'unknown' | 'array' | 'lines' = 'unknown';
  private at = At.Start;
  private readonly parts: Buffer[] = [];
  private partBytes = 0;
  private oversized = false;
  private deep = false;
  /** Array mode: element nesting, string state. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  private index = 0;
  /** Bytes seen before the body's kind is known, and how many of them matched a byte-order mark. */
  private seen = 0;
  private bomBytes = 0;
  /** NDJSON: whether the current line has a non-whitespace byte. */
  private lineHasContent = false;

  constructor(private readonly maxItemBytes: number) {}

  /** Items completed by `chunk`, in order. Throws MalformedBody for a broken JSON array. */
  push(chunk: Buffer): BodyItem[] {
    const items: BodyItem[] = [];
    let start = 0;
    if (this.mode === 'unknown') {
      start = this.detect(chunk);
      if (this.mode === 'unknown') return items;
    }
    if (this.mode === 'lines') this.scanLines(chunk, start, items);
    else this.scanArray(chunk, start, items);
    return items;
  }

  /** The items left at the end of the body. Throws MalformedBody for an unterminated array. */
  end(): BodyItem[] {
    if (this.mode === 'array') {
      if (this.at !== At.End) throw new MalformedBody('the JSON array ends before its closing "]"');
      return [];
    }
    if (this.mode === 'lines' && this.lineHasContent) return [this.finishItem(this.index + 1)];
    return [];
  }

  /** Whether the body held anything but whitespace. */
  get empty(): boolean {
    return this.mode === 'unknown';
  }

  get numbering(): 'index' | 'line' {
    return this.mode === 'array' ? 'index' : 'line';
  }

  /** Skips a BOM and leading whitespace; decides the mode at the first meaningful byte. */
  private detect(chunk: Buffer): number {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      const position = this.seen++;
      if (position === this.bomBytes && position < 3 && byte === UTF8_BOM[position]) {
        this.bomBytes++;
        continue;
      }
      if (byte === NEWLINE) {
        // A leading blank line still counts in NDJSON line numbers.
        this.index++;
        continue;
      }
      if (isSpace(byte)) continue;
      if (byte === OPEN_BRACKET) {
        this.mode = 'array';
        this.at = At.BeforeElement;
        this.index = 0;
        return i + 1;
      }
      this.mode = 'lines';
      return i;
    }
    return chunk.length;
  }

  private scanLines(chunk: Buffer, from: number, items: BodyItem[]): void {
    let start = from;
    for (let i = from; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (byte === NEWLINE) {
        this.append(chunk, start, i);
        this.index++;
        if (this.lineHasContent) items.push(this.finishItem(this.index));
        else this.reset();
        start = i + 1;
        this.lineHasContent = false;
      } else if (!this.lineHasContent && !isSpace(byte)) this.lineHasContent = true;
    }
    this.append(chunk, start, chunk.length);
  }

  private scanArray(chunk: Buffer, from: number, items: BodyItem[]): void {
    let start = from;
    for (let i = from; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      switch (this.at) {
        case At.End:
          if (!isSpace(byte)) throw new MalformedBody(`unexpected bytes after the JSON array's closing "]"`);
          continue;
        case At.BeforeElement:
          if (isSpace(byte)) continue;
          if (byte === CLOSE_BRACKET && this.index === 0) {
            this.at = At.End;
            continue;
          }
          if (byte === CLOSE_BRACKET || byte === COMMA)
            throw new MalformedBody(`element ${this.index} of the JSON array is missing`);
          this.at = At.Element;
          start = i;
          break;
        case At.Element:
          break;
        case At.Start:
          return;
      }
      // Inside an element.
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
        continue;
      }
      if (byte === QUOTE) this.inString = true;
      else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
        this.depth++;
        if (this.depth > MAX_JSON_DEPTH) this.deep = true;
      } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
        if (this.depth === 0) {
          if (byte === CLOSE_BRACE)
            throw new MalformedBody(`element ${this.index} of the JSON array is not valid JSON`);
          // The array's own closing bracket ends the last element.
          this.append(chunk, start, i);
          items.push(this.finishItem(this.index));
          this.index++;
          this.at = At.End;
          continue;
        }
        this.depth--;
      } else if (byte === COMMA && this.depth === 0) {
        this.append(chunk, start, i);
        items.push(this.finishItem(this.index));
        this.index++;
        this.at = At.BeforeElement;
      }
    }
    if (this.at === At.Element) this.append(chunk, start, chunk.length);
  }

  /** Keeps `chunk[start, end)` of the current item, unless it is already over the limit or too deep. */
  private append(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.partBytes += end - start;
    if (this.oversized || this.deep) return;
    if (this.partBytes > this.maxItemBytes) {
      this.oversized = true;
      this.parts.length = 0;
      return;
    }
    // A copy: the chunk's memory is the socket's, reused once this call returns.
    this.parts.push(Buffer.from(chunk.subarray(start, end)));
  }

  private finishItem(index: number): BodyItem {
    let item: BodyItem;
    if (this.deep)
      item = {
        index,
        rejection: {
          code: 'too_deep',
          path: '$',
          message: `arrays and objects nest more than ${MAX_JSON_DEPTH} levels deep; flatten the event`,
        },
      };
    else if (this.oversized)
      item = {
        index,
        rejection: {
          code: 'oversized',
          path: '$',
          message: `event is ${this.partBytes} bytes; the limit is ${this.maxItemBytes} (ingest.maxEventBytes)`,
        },
      };
    else
      item = {
        index,
        bytes: Buffer.concat(this.parts, this.partBytes),
      };
    this.reset();
    return item;
  }

  private reset(): void {
    this.parts.length = 0;
    this.partBytes = 0;
    this.oversized = false;
    this.deep = false;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }
}
