import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlainRowWriter } from '../../../src/ingest/plain-rows.js';
import { outcomeRow, predictionRow } from '../../../src/store/event-rows.js';
import { RowBytes } from '../../../src/store/row-bytes.js';
import { validateOutcome, validatePrediction } from '../../../src/events/validate.js';
import { MAX_TIMESTAMP_MS } from '../../../src/events/limits.js';

/**
 * The fast lane must write exactly the row the full path (validate + row + JSON.stringify) writes,
 * and must write nothing for anything the full path rejects. Random events, written as raw JSON
 * text so that duplicates, whitespace, number spellings and escapes all occur, hold it to that.
 */

const NOW_MS = 1_795_400_000_123;
const INGESTED_AT = String(Math.floor(NOW_MS / 1000));
const SOURCE = 'predictions/3/1234';
const ROW_SOURCE = { prefix: 'predictions/3/', offset: '1234', ingestedAt: INGESTED_AT };
const RECORD_MS = 1_795_399_999_001;

const writer = new PlainRowWriter();
const rows = new RowBytes(64);

function fast(kind: 'prediction' | 'outcome', text: string, recordMs = RECORD_MS): string | undefined {
  const value = Buffer.from(text, 'utf8');
  const written =
    kind === 'prediction'
      ? writer.writePrediction(value, recordMs, ROW_SOURCE, rows)
      : writer.writeOutcome(value, recordMs, ROW_SOURCE, rows);
  const out = rows.take().toString('utf8');
  if (!written) {
    expect(out).toBe(''); // nothing written when it declines
    return undefined;
  }
  return out;
}

/** What the full path stores for the same bytes, or undefined when it rejects them. */
function full(kind: 'prediction' | 'outcome', text: string, recordMs = RECORD_MS): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (kind === 'prediction') {
    const event = validatePrediction(parsed, recordMs);
    return event.ok ? `${JSON.stringify(predictionRow(event.value, SOURCE, NOW_MS))}\n` : undefined;
  }
  const event = validateOutcome(parsed, recordMs);
  return event.ok ? `${JSON.stringify(outcomeRow(event.value, SOURCE, NOW_MS))}\n` : undefined;
}

/** Fast and full agree wherever the fast lane writes; returns whether it wrote. */
function agree(kind: 'prediction' | 'outcome', text: string, recordMs = RECORD_MS): boolean {
  const written = fast(kind, text, recordMs);
  if (written !== undefined) expect(written).toBe(full(kind, text, recordMs));
  return written !== undefined;
}

/** Record times: mostly ordinary, sometimes ones the store cannot hold (then the event's own time decides). */
const recordTime = fc.oneof(
  { weight: 8, arbitrary: fc.constant(RECORD_MS) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, MAX_TIMESTAMP_MS, MAX_TIMESTAMP_MS + 1, 1.5, 1e300) },
);

// ---- raw JSON text generators ----

const whitespace = fc.constantFrom('', '', '', ' ', '\n', '\t ', '\r\n');
const plainName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,7}$/);
const oddName = fc.oneof(
  fc.constantFrom('', '0', '12', '1a', '__proto__', 'naïve', 'a"b', 'tab\t', 'x'.repeat(257), 'constructor'),
  fc.string({ maxLength: 6 }),
);
const name = fc.oneof({ weight: 6, arbitrary: plainName }, { weight: 1, arbitrary: oddName });

/** Many spellings of numbers: canonical, exponent, trailing zeros, huge, tiny, -0, invalid. */
const numberText = fc.oneof(
  { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map(String) },
  { weight: 3, arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }).map((i) => String(i / 100)) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => v.toExponential()) },
  { weight: 1, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => v.toFixed(3)) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '-0',
      '0',
      '-0.0',
      '0.000001',
      '0.0000001',
      '1e999',
      '-1e999',
      '1E+2',
      '1e-2',
      '01',
      '1.',
      '.5',
      '-',
      '+1',
      '123456789012345',
      '1234567890123456',
      '0.1234567890123456',
      '9007199254740993',
      '1.5e3',
      '100',
      '1e21',
      '0.10',
      '2.50',
      'NaN',
      'Infinity',
    ),
  },
);
const plainString = fc.stringMatching(/^[ -!#-[\]-~]{0,12}$/).map((s) => `"${s}"`);
const stringText = fc.oneof(
  { weight: 4, arbitrary: plainString },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constantFrom('"a\\u0041"', '"é"', '"\\n"', '"x', `"${'c'.repeat(1025)}"`) },
);
const scalarText = fc.oneof(
  { weight: 4, arbitrary: numberText },
  { weight: 3, arbitrary: stringText },
  { weight: 1, arbitrary: fc.constantFrom('null', 'true', 'false', '[]', '{}', '[1]', 'nul', 'null2') },
);

function objectText(entries: ReadonlyArray<readonly [string, string]>, space: string): string {
  return `{${space}${entries.map(([k, v]) => `${JSON.stringify(k)}${space}:${space}${v}`).join(`${space},${space}`)}${space}}`;
}

const featuresText = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.array(fc.tuple(name, scalarText), { maxLength: 14 }), whitespace)
      .map(([e, w]) => objectText(e, w)),
  },
  { weight: 1, arbitrary: fc.constantFrom('null', '[]', '"x"', '{"a":{"b":1}}', '{"a":1,}') },
);
const scoresText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.array(fc.tuple(name, numberText), { maxLength: 4 }), whitespace)
      .map(([e, w]) => objectText(e, w)),
  },
  { weight: 2, arbitrary: numberText },
  { weight: 1, arbitrary: fc.constantFrom('null', '{"a":"x"}', '{"a":null}', '[0.5]', 'true') },
);
const modelText = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,11}$/).map((s) => `"${s}"`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '""',
      '"a b"',
      `"${'m'.repeat(129)}"`,
      '7',
      'null',
      '"a/b"',
      '"."',
      '".."',
      '"-x"',
      '".x"',
    ),
  },
);
const idText = fc.oneof(
  { weight: 5, arbitrary: plainString },
  { weight: 2, arbitrary: numberText },
  { weight: 1, arbitrary: fc.constantFrom('""', `"${'i'.repeat(257)}"`, 'null', 'true', '"\\u0069d"') },
);
const timestampText = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: MAX_TIMESTAMP_MS }).map(String) },
  {
    weight: 2,
    arbitrary: fc
      .date({ min: new Date(0), max: new Date(MAX_TIMESTAMP_MS), noInvalidDate: true })
      .map((d) => JSON.stringify(d.toISOString())),
  },
  { weight: 1, arbitrary: numberText },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'null',
      '"2026-11-23T02:00:00Z"',
      '"2026-11-23T02:00:00+01:00"',
      '"2026-11-23"',
      '"2026-13-40T00:00:00Z"',
      '-1',
      '253402300800000',
      '4294943999999',
      '4294944000000',
      '4294967295999',
      '"2106-02-06T23:59:59.999Z"',
      '"2106-02-07T00:00:00Z"',
      '"2500-01-01T00:00:00Z"',
      '1795399200000.5',
      '1.7953992e12',
      'true',
    ),
  },
);
const labelText = fc.oneof(numberText, stringText, fc.constantFrom('null', 'true', 'false', '{}'));

const predictionFields: Record<string, fc.Arbitrary<string>> = {
  model: modelText,
  version: fc.oneof(plainString, numberText, fc.constantFrom('null', 'true', '{}')),
  id: idText,
  timestamp: timestampText,
  features: featuresText,
  prediction: fc.oneof(numberText, stringText, fc.constantFrom('null', 'true', 'false', '[]')),
  scores: scoresText,
  extra: fc.constantFrom('1', '"x"', '{"a":[1,2]}'),
};
const outcomeFields: Record<string, fc.Arbitrary<string>> = {
  model: modelText,
  id: idText,
  timestamp: timestampText,
  label: labelText,
  note: fc.constantFrom('1', '"x"'),
};

/** A raw event: mostly each field once, sometimes one missing, doubled or unknown. */
function eventText(
  fields: Record<string, fc.Arbitrary<string>>,
  required: readonly string[],
): fc.Arbitrary<string> {
  const keys = Object.keys(fields);
  return fc
    .tuple(
      fc.shuffledSubarray(keys, { minLength: 0, maxLength: keys.length }),
      fc.array(fc.constantFrom(...keys), { maxLength: 1 }),
      fc.boolean(),
      whitespace,
      fc.constantFrom('', '', '', ' ', '\n', 'x', '}', ','),
    )
    .chain(([chosen, doubled, withRequired, space, tail]) => {
      const names = withRequired ? [...new Set([...required, ...chosen])] : chosen;
      const ordered = [...names.filter((n) => n !== 'extra' && n !== 'note'), ...doubled];
      if (names.includes('extra') || names.includes('note'))
        ordered.push(names.includes('extra') ? 'extra' : 'note');
      return fc
        .tuple(...ordered.map((n) => (fields[n] as fc.Arbitrary<string>).map((v) => [n, v] as const)))
        .map((entries) => `${space}${objectText(entries, space)}${tail}`);
    });
}

describe('plain-row fast lane', () => {
  it('writes exactly the full path row for every prediction it takes, and nothing for one it rejects', () => {
    let taken = 0;
    fc.assert(
      fc.property(eventText(predictionFields, ['model', 'id']), recordTime, (text, recordMs) => {
        if (agree('prediction', text, recordMs)) taken++;
      }),
      { numRuns: 20_000 },
    );
    // Not vacuous: a share of these mostly-odd events is plain enough for the fast lane.
    expect(taken).toBeGreaterThan(500);
  });

  it('does the same for outcomes', () => {
    let taken = 0;
    fc.assert(
      fc.property(eventText(outcomeFields, ['model', 'id', 'label']), recordTime, (text, recordMs) => {
        if (agree('outcome', text, recordMs)) taken++;
      }),
      { numRuns: 10_000 },
    );
    expect(taken).toBeGreaterThan(200);
  });

  it('takes every plain event the full path accepts (ASCII, known fields once, distinct names)', () => {
    const validNumber = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.integer({ min: -1_000_000, max: 1_000_000 }).map((i) => String(i / 100)),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => v.toExponential()),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => v.toFixed(2)),
    );
    const value = fc.oneof(validNumber, plainString, fc.constant('null'));
    const entries = (values: fc.Arbitrary<string>) =>
      fc.uniqueArray(fc.tuple(plainName, values), { maxLength: 14, selector: ([n]) => n });
    const plainPrediction = fc
      .record(
        {
          model: fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/).map((s) => `"${s}"`),
          version: fc.oneof(plainString, fc.nat().map(String), fc.constant('null')),
          id: fc.oneof(plainString, fc.integer({ min: -1e9, max: 1e9 }).map(String)),
          timestamp: fc.oneof(
            fc.integer({ min: 0, max: MAX_TIMESTAMP_MS }).map(String),
            fc
              .date({ min: new Date(0), max: new Date(MAX_TIMESTAMP_MS), noInvalidDate: true })
              .map((d) => `"${d.toISOString()}"`),
            fc.constant('null'),
          ),
          features: fc.tuple(entries(value), whitespace).map(([e, w]) => objectText(e, w)),
          prediction: fc.oneof(validNumber, plainString, fc.constant('null')),
          scores: fc.oneof(
            fc.tuple(entries(validNumber), whitespace).map(([e, w]) => objectText(e, w)),
            validNumber,
          ),
        },
        { requiredKeys: ['model', 'id'] },
      )
      .map((fields) => objectText(Object.entries(fields), ' '));
    fc.assert(
      fc.property(plainPrediction, (text) => {
        expect(fast('prediction', text)).toBe(full('prediction', text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('keeps number spellings that are already canonical and rewrites the others', () => {
    fc.assert(
      fc.property(numberText, (number) => {
        agree(
          'prediction',
          `{"model":"m","id":"1","features":{"x":${number}},"scores":{"a":${number}},"prediction":${number}}`,
        );
      }),
      { numRuns: 20_000 },
    );
    const row = fast(
      'prediction',
      '{"model":"m","id":"1","features":{"a":1.50,"b":1e2,"c":-0,"d":0.0000001,"e":12.25}}',
    );
    expect(row).toContain('"num_values":[1.5,100,0,1e-7,12.25]');
  });

  it('takes the events driftguard documents, with the record time when they have none', () => {
    const documented =
      '{"model": "fraud", "version": "7", "id": "req-81f3", "timestamp": "2026-11-23T02:00:00.123Z",\n' +
      ' "features": {"amount": 12.5, "country": "DE", "age": null}, "prediction": "fraud", "scores": {"fraud": 0.83, "ok": 0.17}}';
    expect(fast('prediction', documented)).toBe(full('prediction', documented));
    const untimed = '{"model":"eta","id":42,"features":{"km":3.2},"prediction":17.5,"scores":0.9}';
    expect(fast('prediction', untimed)).toBe(full('prediction', untimed));
    expect(fast('prediction', untimed)).toContain(`"ts_ms":${RECORD_MS}`);
    const outcome = '{"model":"fraud","id":"req-81f3","timestamp":1795399200000,"label":"ok"}';
    expect(fast('outcome', outcome)).toBe(full('outcome', outcome));
    const numericLabel = '{"model":"eta","id":"a","label":17.25}';
    expect(fast('outcome', numericLabel)).toBe(full('outcome', numericLabel));
  });

  it('leaves to the full path what it must normalise, reorder or reject', () => {
    for (const text of [
      '{"model":"m","id":"1","features":{"flag":true}}', // boolean → "true"
      '{"model":"m","id":"1","features":{"b":1,"2":2}}', // integer-like names come first in JS objects
      '{"model":"m","id":"1","features":{"a":1,"a":2}}', // duplicate: last value, first place
      '{"model":"m","id":"1","features":{"city":"München"}}', // non-ASCII text
      '{"model":"m","id":"1","note":"kept as extra"}', // unknown fields go to `extra`
      '{"model":"m","id":"1","features":{"x":1e999}}', // non-finite: rejected
      '{"model":"m"}', // no id: rejected
      '{"model":"m","id":"1"} trailing',
    ])
      expect(fast('prediction', text)).toBeUndefined();
    expect(fast('outcome', '{"model":"m","id":"1"}')).toBeUndefined(); // no label
    expect(fast('prediction', '{"model":"m","id":"1"}', Number.NaN)).toBeUndefined();
    // A record time the store cannot hold: the full path rejects the event with its reason.
    expect(fast('prediction', '{"model":"m","id":"1"}', MAX_TIMESTAMP_MS + 1)).toBeUndefined();
    expect(fast('prediction', '{"model":"..","id":"1"}')).toBeUndefined();
  });

  it('copies large values with a native copy and grows its buffer', () => {
    const big = new RowBytes(16);
    const category = 'c'.repeat(1000);
    const text = `{"model":"m","id":"1","features":{"long":"${category}"}}`;
    expect(writer.writePrediction(Buffer.from(text), RECORD_MS, ROW_SOURCE, big)).toBe(true);
    expect(big.take().toString()).toBe(full('prediction', text));
  });
});
