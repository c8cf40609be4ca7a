import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlainRowWriter } from '../../../src/ingest/plain-rows.js';
import { predictionRow } from '../../../src/store/event-rows.js';
import { ledgerCounts, ledgerRows, type LedgerCounts } from '../../../src/store/ingest-ledger.js';
import { RowBytes } from '../../../src/store/row-bytes.js';
import type { PredictionEvent } from '../../../src/events/types.js';

const NOW_MS = 1_795_400_000_123;

/** The counts by parsing every line whole: what the fast scan must equal. */
function parsedCounts(pieces: ReadonlyArray<string | Uint8Array>): LedgerCounts {
  const counts: LedgerCounts = new Map();
  for (const piece of pieces) {
    const text = typeof piece === 'string' ? piece : Buffer.from(piece).toString('utf8');
    for (const line of text.split('\n').filter(Boolean)) {
      const row = JSON.parse(line) as { model: string; ts: number };
      const minutes = counts.get(row.model) ?? new Map<number, number>();
      const minute = row.ts - (row.ts % 60);
      minutes.set(minute, (minutes.get(minute) ?? 0) + 1);
      counts.set(row.model, minutes);
    }
  }
  return counts;
}

function event(model: string, timestampMs: number, i: number): PredictionEvent {
  return {
    model,
    version: '1',
    id: `e${i}`,
    timestampMs,
    features: { a: i, c: 'x' },
    prediction: 'yes',
    scores: null,
    extra: '',
  };
}

const row = (e: PredictionEvent): string => `${JSON.stringify(predictionRow(e, 'test', NOW_MS))}\n`;

describe('the ingest ledger', () => {
  it('counts rows per model and minute, across pieces of strings and bytes', () => {
    const t = Date.UTC(2026, 10, 20, 9, 0, 0);
    const first = [
      row(event('a', t, 0)),
      row(event('a', t + 59_999, 1)),
      row(event('b', t + 60_000, 2)),
    ].join('');
    const second = Buffer.from(row(event('a', t + 61_000, 3)));
    // A view into a larger buffer, as the pipeline's chunks are.
    const padded = Buffer.concat([Buffer.from('xx'), second, Buffer.from('yy')]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 2, second.length);
    const counts = ledgerCounts([first, view]);
    const s = t / 1000;
    expect(counts).toEqual(
      new Map([
        [
          'a',
          new Map([
            [s, 2],
            [s + 60, 1],
          ]),
        ],
        ['b', new Map([[s + 60, 1]])],
      ]),
    );
    expect(ledgerRows(counts).map((l) => JSON.parse(l) as unknown)).toEqual([
      { model: 'a', bucket: s, n: 2 },
      { model: 'a', bucket: s + 60, n: 1 },
      { model: 'b', bucket: s + 60, n: 1 },
    ]);
  });

  it('reads model names with escapes, and lines in another field order, as JSON would', () => {
    const names = ['q"uote', 'back\\slash', 'uni\u00e9\u{1f600}', '","ts":5,'];
    const pieces = [
      names.map((name, i) => row(event(name, 1_795_399_200_000 + i * 30_000, i))).join(''),
      `${JSON.stringify({ ts: 1_795_399_260, model: 'reordered', id: 'x' })}\n`,
    ];
    expect(ledgerCounts(pieces)).toEqual(parsedCounts(pieces));
  });

  it('equals the parsed count for random events, through both serialisers', () => {
    const writer = new PlainRowWriter();
    const bytes = new RowBytes(64);
    const source = { prefix: 'predictions/0/', offset: '1', ingestedAt: '1795400000' };
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            model: fc.string({ minLength: 1, maxLength: 12 }).filter((m) => m.trim() === m && m.length > 0),
            ms: fc.integer({ min: 0, max: 4_000_000_000_000 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (list) => {
          const full = list.map((e, i) => row(event(e.model, e.ms, i))).join('');
          for (const [i, e] of list.entries()) {
            const text = JSON.stringify({ model: e.model, id: `e${i}`, timestamp: e.ms, features: { a: i } });
            writer.writePrediction(Buffer.from(text), e.ms, source, bytes);
          }
          const fast = bytes.take();
          for (const pieces of [[full], [fast]]) expect(ledgerCounts(pieces)).toEqual(parsedCounts(pieces));
        },
      ),
    );
  });
});
