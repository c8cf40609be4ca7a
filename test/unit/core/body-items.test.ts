import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyItemSplitter, MalformedBody, type BodyItem } from '../../../src/http/body-items.js';

/** Splits `body` delivered in chunks cut at `cuts` (byte offsets). */
function split(body: Buffer, cuts: readonly number[] = [], maxItemBytes = 1_000_000) {
  const splitter = new BodyItemSplitter(maxItemBytes);
  const items: BodyItem[] = [];
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= at || cut >= body.length) continue;
    items.push(...splitter.push(body.subarray(at, cut)));
    at = cut;
  }
  items.push(...splitter.push(body.subarray(at)));
  items.push(...splitter.end());
  return { items, numbering: splitter.numbering, empty: splitter.empty };
}

const values = (items: readonly BodyItem[]): unknown[] =>
  items.map((item) =>
    item.bytes === undefined ? item.rejection?.code : (JSON.parse(item.bytes.toString()) as unknown),
  );

describe('BodyItemSplitter', () => {
  it('splits a JSON array into its elements however the body is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom('', ' ', '\n\t'),
        (elements, cuts, space) => {
          const body = Buffer.from(
            `${space}[${space}${elements.map((e) => JSON.stringify(e)).join(`${space},${space}`)}${space}]${space}`,
          );
          const { items, numbering } = split(
            body,
            cuts.map((c) => c % (body.length + 1)),
          );
          expect(numbering).toBe('index');
          expect(items.map((i) => i.index)).toEqual(elements.map((_, i) => i));
          expect(values(items)).toEqual(JSON.parse(JSON.stringify(elements)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('splits NDJSON by line, numbering lines from 1 and skipping blank ones', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
            fc.constantFrom('', '  ', '\r'),
          ),
          {
            maxLength: 12,
          },
        ),
        fc.array(fc.nat(), { maxLength: 8 }),
        (lines, cuts) => {
          const text = lines.join('\n');
          const body = Buffer.from(text);
          const expected = lines
            .map((line, i) => ({ index: i + 1, line }))
            .filter(({ line }) => line.trim() !== '');
          // A body whose first line is an array is read as a JSON array instead.
          if (expected[0]?.line.trimStart().startsWith('[')) return;
          const { items } = split(
            body,
            cuts.map((c) => c % (body.length + 1)),
          );
          expect(items.map((i) => i.index)).toEqual(expected.map((e) => e.index));
          expect(values(items)).toEqual(expected.map((e) => JSON.parse(e.line) as unknown));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects an element nested too deep or too large without keeping it, and goes on', () => {
    const body = Buffer.from(`[{"a":1},${'['.repeat(70)}${']'.repeat(70)},"${'x'.repeat(50)}",2]`);
    const { items } = split(body, [10, 40, 90], 40);
    expect(values(items)).toEqual([{ a: 1 }, 'too_deep', 'oversized', 2]);
    // NDJSON lines are kept whole up to the size limit; parseJson refuses deep ones.
    const lines = Buffer.from(`{"a":1}\n${'x'.repeat(50)}\n{"b":2}`);
    expect(values(split(lines, [], 40).items)).toEqual([{ a: 1 }, 'oversized', { b: 2 }]);
  });

  it('scans 16 MB of "[" in linear time and reports it as an unterminated array', () => {
    const brackets = Buffer.alloc(16 * 1024 * 1024, '[');
    const splitter = new BodyItemSplitter(1_048_576);
    for (let at = 0; at < brackets.length; at += 65_536) splitter.push(brackets.subarray(at, at + 65_536));
    expect(() => splitter.end()).toThrow(MalformedBody);
  });

  it('refuses broken arrays as a whole', () => {
    for (const text of ['[1,]', '[,1]', '[1', '[1] x', '[}', '[1,,2]'])
      expect(() => split(Buffer.from(text)), text).toThrow(MalformedBody);
  });

  it('skips a byte-order mark and reports an empty body as empty', () => {
    expect(values(split(Buffer.from('\ufeff[{"a":1}]')).items)).toEqual([{ a: 1 }]);
    expect(values(split(Buffer.from('\ufeff{"a":1}\n')).items)).toEqual([{ a: 1 }]);
    expect(split(Buffer.from('  \n ')).empty).toBe(true);
    expect(split(Buffer.from('[]')).items).toEqual([]);
  });
});
