import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DriftguardError } from '../../../kernel/errors.js';
import { insertIsolatingRefused } from '../../../src/ingest/refused-rows.js';
import { storeError } from '../../../src/store/clickhouse-server.js';
import {
  classifyClickHouseCode,
  clickHouseCodeOf,
  clickHouseReason,
} from '../../../src/store/clickhouse-codes.js';

const refusal = (): DriftguardError =>
  new DriftguardError('STORE_DATA_REJECTED', 'refused', { retriable: false });

describe('insertIsolatingRefused', () => {
  it('finds exactly the refused items, stores every other one once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 300 }),
        fc.boolean(),
        async (bad, refusedAsAWhole) => {
          const items = bad.map((isBad, i) => ({ i, isBad }));
          const stored: number[] = [];
          let inserts = 0;
          const refused = await insertIsolatingRefused(
            items,
            async (part) => {
              inserts++;
              if (part.some((item) => item.isBad)) throw refusal();
              stored.push(...part.map((item) => item.i));
            },
            refusedAsAWhole && bad.some(Boolean),
          );
          expect(refused.map((r) => r.item.i)).toEqual(items.filter((x) => x.isBad).map((x) => x.i));
          expect(stored).toEqual(items.filter((x) => !x.isBad).map((x) => x.i));
          const k = bad.filter(Boolean).length;
          expect(inserts).toBeLessThanOrEqual(
            1 + 2 * Math.max(1, k) * Math.ceil(Math.log2(items.length) + 1),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('passes any failure other than a data refusal through untouched', async () => {
    const down = new DriftguardError('STORE_QUERY_FAILED', 'no such table', { retriable: false });
    await expect(insertIsolatingRefused([1, 2, 3], () => Promise.reject(down))).rejects.toBe(down);
  });
});

describe('ClickHouse error mapping', () => {
  it('reads the code from the exception text of 18.16 and of current servers', () => {
    const old =
      'Code: 25, e.displayText() = DB::Exception: Cannot parse escape sequence: missing second part of surrogate pair: (while read the value of key s), e.what() = DB::Exception';
    expect(clickHouseCodeOf(old)).toBe(25);
    expect(clickHouseReason(old)).toBe(
      'Cannot parse escape sequence: missing second part of surrogate pair: (while read the value of key s)',
    );
    expect(clickHouseCodeOf('Code: 60. DB::Exception: Table x.y does not exist.')).toBe(60);
    expect(clickHouseCodeOf('socket hang up')).toBeUndefined();
  });

  it('tells a refusal of the data from a broken query and from a busy server', () => {
    expect(classifyClickHouseCode(25)).toBe('data_refused');
    expect(classifyClickHouseCode(27)).toBe('data_refused');
    expect(classifyClickHouseCode(60)).toBe('other');
    expect(classifyClickHouseCode(252)).toBe('transient');
    const refused = storeError(
      'insert into predictions',
      new Error('Code: 27, e.displayText() = DB::Exception: Cannot parse input'),
    );
    expect([refused.code, refused.retriable, refused.details]).toEqual([
      'STORE_DATA_REJECTED',
      false,
      { clickhouseCode: 27 },
    ]);
    expect(storeError('select', new Error('Code: 60. DB::Exception: Table does not exist')).code).toBe(
      'STORE_QUERY_FAILED',
    );
    expect(storeError('insert', new Error('Code: 252. DB::Exception: Too many parts')).retriable).toBe(true);
  });

  it('retries the client timeout a frozen server causes', () => {
    // @clickhouse/client reports its request timeout as a bare Error with this text and no code.
    const timedOut = storeError('insert into predictions', new Error('Timeout error.'));
    expect([timedOut.code, timedOut.retriable]).toEqual(['STORE_UNAVAILABLE', true]);
  });
});
