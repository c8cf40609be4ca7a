/**
 * The ingest ledger: how many prediction rows each insert put into each (model, minute), written
 * to `rollup_ledger` after the rows themselves. The monitor's rollup keeper reads it to learn
 * which sealed minutes changed (a late row, a replayed copy) without reading the rows
 * (src/monitor/rollup-schema.ts). Counting happens here, on rows the daemon already serialised,
 * rather than in a materialized view: a view makes every insert of the events table fail when
 * its own insert fails, and on a replicated 18.16 table the retried block is then stored twice.
 *
 * Rows are JSONEachRow lines that start `{"model":"…","ts":<seconds>,` (both serialisers,
 * src/store/event-rows.ts and src/ingest/plain-rows.ts, write that prefix); a line that does not
 * is parsed whole, so the count never depends on the fast path.
 */

const PREFIX = Buffer.from('{"model":"');
const TS = Buffer.from('","ts":');
const NEWLINE = 0x0a;

/** Rows per model and minute (epoch seconds of the minute's start). */
export type LedgerCounts = Map<string, Map<number, number>>;

/** Counts the prediction rows of `pieces` (each holding whole lines) per model and minute. */
export function ledgerCounts(pieces: ReadonlyArray<string | Uint8Array>): LedgerCounts {
  const counts: LedgerCounts = new Map();
  const names = new NameCache();
  for (const piece of pieces) {
    const bytes =
      typeof piece === 'string'
        ? Buffer.from(piece)
        : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    for (let start = 0; start < bytes.length;) {
      let end = bytes.indexOf(NEWLINE, start);
      if (end < 0) end = bytes.length;
      if (end > start) {
        const { model, ts } = modelAndTs(bytes, start, end, names);
        add(counts, model, ts - (ts % 60));
      }
      start = end + 1;
    }
  }
  return counts;
}

/** JSONEachRow lines of `rollup_ledger` (model, bucket, n) for the counts. */
export function ledgerRows(counts: LedgerCounts): string[] {
  const lines: string[] = [];
  for (const [model, minutes] of counts)
    for (const [bucket, n] of minutes) lines.push(`${JSON.stringify({ model, bucket, n })}\n`);
  return lines;
}

/**
 * The last few model names seen, by their JSON bytes: a batch holds few models, so most rows
 * find theirs here without decoding it. Compared in JavaScript: names are short, and a native
 * call per row costs more than the loop.
 */
class NameCache {
  private readonly raw: Buffer[] = [];
  private readonly names: string[] = [];

  lookup(bytes: Buffer, start: number, end: number): string {
    const length = end - start;
    for (let i = 0; i < this.raw.length; i++) {
      const raw = this.raw[i] as Buffer;
      if (raw.length === length && sameBytes(raw, bytes, start)) return this.names[i] as string;
    }
    const name = JSON.parse(bytes.toString('utf8', start, end)) as string;
    if (this.raw.length >= 16) {
      this.raw.pop();
      this.names.pop();
    }
    this.raw.unshift(Buffer.from(bytes.subarray(start, end)));
    this.names.unshift(name);
    return name;
  }
}

function sameBytes(expected: Uint8Array, bytes: Buffer, at: number): boolean {
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

function add(counts: LedgerCounts, model: string, minute: number): void {
  let minutes = counts.get(model);
  if (minutes === undefined) counts.set(model, (minutes = new Map<number, number>()));
  minutes.set(minute, (minutes.get(minute) ?? 0) + 1);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function modelAndTs(
  bytes: Buffer,
  start: number,
  end: number,
  names: NameCache,
): { model: string; ts: number } {
  if (end - start > PREFIX.length && sameBytes(PREFIX, bytes, start)) {
    // The name's closing quote: the first unescaped one (a backslash before it: decode in full).
    let close = start + PREFIX.length;
    while (close < end && bytes[close] !== QUOTE) close++;
    if (bytes[close - 1] !== BACKSLASH && close + TS.length <= end && sameBytes(TS, bytes, close)) {
      let ts = 0;
      let i = close + TS.length;
      for (let digit = digitAt(bytes, i); i < end && digit >= 0; digit = digitAt(bytes, ++i))
        ts = ts * 10 + digit;
      if (i > close + TS.length && bytes[i] === 0x2c /* , */)
        return { model: names.lookup(bytes, start + PREFIX.length - 1, close + 1), ts };
    }
  }
  const row = JSON.parse(bytes.toString('utf8', start, end)) as { model: unknown; ts: unknown };
  if (typeof row.model !== 'string' || typeof row.ts !== 'number')
    throw new Error('a prediction row without a string model and a numeric ts');
  return { model: row.model, ts: row.ts };
}

/** The decimal digit at `i`, or -1. */
function digitAt(bytes: Buffer, i: number): number {
  const c = (bytes[i] ?? 0) - 0x30;
  return c >= 0 && c <= 9 ? c : -1;
}
