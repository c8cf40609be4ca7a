import { describe, expect, it } from 'vitest';
import {
  inTimeSample,
  SLICES_PER_WINDOW,
  timeSample,
  timeSampleCondition,
} from '../../../../src/monitor/estimation/time-sample.js';
import { rng } from '../../../support/index.js';

const DAY = 86_400_000;

describe('the estimation sample by time slices', () => {
  it('takes one millisecond in sampleEvery, in about SLICES_PER_WINDOW slices inside the window', () => {
    for (const [startMs, length, every] of [
      [1_796_553_960_000, DAY, 250],
      [1_796_553_960_123, 3_600_000, 7],
      [5, 1_800_000, 3],
      [0, 60_000, 2],
    ] as const) {
      const window = { startMs, endMs: startMs + length };
      const sample = timeSample(window, every);
      expect(sample.periodMs).toBe(sample.widthMs * every);
      expect(sample.slices.length).toBeGreaterThanOrEqual(SLICES_PER_WINDOW);
      expect(sample.slices.length).toBeLessThanOrEqual(2 * SLICES_PER_WINDOW + 1);
      let covered = 0;
      let previousEnd = -Infinity;
      for (const [start, end] of sample.slices) {
        expect(start).toBeGreaterThanOrEqual(Math.max(window.startMs, previousEnd));
        expect(end).toBeLessThanOrEqual(window.endMs);
        expect(end - start).toBeLessThanOrEqual(sample.widthMs);
        // A slice is exactly the milliseconds the definition picks.
        expect(inTimeSample(start, sample)).toBe(true);
        expect(inTimeSample(end - 1, sample)).toBe(true);
        if (end < window.endMs) expect(inTimeSample(end, sample)).toBe(false);
        covered += end - start;
        previousEnd = end;
      }
      // The share of the window is 1/every, give or take the one period cut by each edge.
      expect(Math.abs(covered - length / every)).toBeLessThanOrEqual(2 * sample.widthMs);
    }
  });

  it('agrees with its definition on random instants, and stays put as the window slides', () => {
    const r = rng(5);
    const window = { startMs: 1_796_553_960_000, endMs: 1_796_553_960_000 + DAY };
    const sample = timeSample(window, 250);
    const inSlices = (t: number) => sample.slices.some(([start, end]) => t >= start && t < end);
    for (let i = 0; i < 20_000; i++) {
      const t = window.startMs + Math.floor(r() * DAY);
      expect(inSlices(t)).toBe(inTimeSample(t, sample));
    }
    // The next cycle's window (a minute later) picks the same instants where the two overlap.
    const later = timeSample({ startMs: window.startMs + 60_000, endMs: window.endMs + 60_000 }, 250);
    expect([later.periodMs, later.widthMs]).toEqual([sample.periodMs, sample.widthMs]);
    expect(later.slices.slice(0, -1)).toEqual(
      sample.slices.filter(([start]) => start >= window.startMs + 60_000).slice(0, later.slices.length - 1),
    );
  });

  it('keeps a slice at least a millisecond wide in a window too short for its slices', () => {
    const sample = timeSample({ startMs: 1_000, endMs: 2_000 }, 100);
    expect([sample.widthMs, sample.periodMs]).toEqual([1, 100]);
    expect(sample.slices).toEqual(Array.from({ length: 10 }, (_, i) => [1_000 + 100 * i, 1_001 + 100 * i]));
  });

  it('refuses a rate that is not a sample', () => {
    expect(() => timeSample({ startMs: 0, endMs: DAY }, 1)).toThrow(/2 or more, not 1/);
    expect(() => timeSample({ startMs: 0, endMs: DAY }, 2.5)).toThrow(/2 or more, not 2.5/);
  });

  it('tests the exact milliseconds and gives the primary key each slice as whole seconds', () => {
    const sample = timeSample({ startMs: 10_500, endMs: 10_500 + 48 * 3 * 2_000 }, 3);
    expect([sample.widthMs, sample.periodMs]).toEqual([2_000, 6_000]);
    const sql = timeSampleCondition(sample);
    expect(
      sql.startsWith('ts_ms % 6000 < 2000 AND ((ts >= toDateTime(12) AND ts <= toDateTime(13)) OR '),
    ).toBe(true);
    expect(sql.match(/ OR /g)).toHaveLength(sample.slices.length - 1);
    expect(timeSampleCondition({ periodMs: 6, widthMs: 2, slices: [] })).toBe('ts_ms % 6 < 2 AND (0)');
  });
});
