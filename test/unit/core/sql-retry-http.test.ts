import { describe, expect, it } from 'vitest';
import { DriftguardError } from '../../../kernel/errors.js';
import { tokenMatches } from '../../../src/http/auth.js';
import { backoffDelayMs, retry } from '../../../kernel/retry.js';
import { cutoffMonthPartition, cutoffPartition } from '../../../src/store/retention.js';
import { sqlIdentifier, sqlNumber, sqlString } from '../../../kernel/sql.js';

describe('sql escaping', () => {
  it('quotes strings so that quotes, backslashes and control bytes cannot end the literal', () => {
    expect(sqlString("it's")).toBe("'it\\'s'");
    expect(sqlString('a\\b')).toBe("'a\\\\b'");
    expect(sqlString("x\\'; DROP TABLE t; --")).toBe("'x\\\\\\'; DROP TABLE t; --'");
    expect(sqlString('line\nnext\0')).toBe("'line\\nnext\\0'");
  });

  it('refuses identifiers that would need quoting', () => {
    expect(sqlIdentifier('driftguard_test1')).toBe('`driftguard_test1`');
    for (const bad of ['a-b', '1abc', 'a b', 'a`b', '', 'x'.repeat(65)]) {
      expect(() => sqlIdentifier(bad)).toThrow(DriftguardError);
    }
  });

  it('writes numbers exactly and refuses non-finite ones', () => {
    expect(sqlNumber(42)).toBe('42');
    expect(Number(sqlNumber(0.1 + 0.2))).toBe(0.1 + 0.2);
    expect(() => sqlNumber(Number.NaN)).toThrow(/non-finite/);
  });
});

describe('retry', () => {
  it('backs off exponentially within the jitter band and the cap', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2, jitter: 0.2 };
    expect(backoffDelayMs(1, { ...options, random: () => 0 })).toBe(80);
    expect(backoffDelayMs(1, { ...options, random: () => 1 })).toBe(120);
    expect(backoffDelayMs(3, { ...options, random: () => 0.5 })).toBe(400);
    expect(backoffDelayMs(10, { ...options, random: () => 0.5 })).toBe(1_000);
  });

  it('retries retriable errors and gives up on fatal ones at once', async () => {
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new DriftguardError('STORE_UNAVAILABLE', 'down', { retriable: true });
        return 'ok';
      },
      { initialDelayMs: 1 },
    );
    expect([result, calls]).toEqual(['ok', 3]);
    calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new DriftguardError('STORE_QUERY_FAILED', 'bad sql', { retriable: false });
      }),
    ).rejects.toThrow('bad sql');
    expect(calls).toBe(1);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const pending = retry(
      async () => {
        throw new DriftguardError('STORE_UNAVAILABLE', 'down', { retriable: true });
      },
      { maxAttempts: Infinity, initialDelayMs: 50, signal: controller.signal },
    );
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });
});

describe('auth and retention helpers', () => {
  it('compares tokens whatever their length', () => {
    expect(tokenMatches('secret-token-123456', 'secret-token-123456')).toBe(true);
    expect(tokenMatches('secret-token-123456', 'secret')).toBe(false);
  });

  it('names the oldest day partition to keep', () => {
    expect(cutoffPartition(Date.parse('2026-11-23T02:00:00Z'), 30)).toBe('20261024');
    // A month partition goes only once all of it is past the horizon.
    expect(cutoffMonthPartition(Date.parse('2026-11-23T02:00:00Z'), 30)).toBe('202610');
    expect(cutoffMonthPartition(Date.parse('2026-11-23T02:00:00Z'), 400)).toBe('202510');
  });
});
