import { describe, expect, it } from 'vitest';
import { minuteRanges, minutesOf, MinuteProofs, splitWindow } from '../../../src/monitor/rollup-plan.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const S0 = T0 / 1000;
const MIN = 60_000;
const HOUR = 3_600_000;

describe('splitWindow', () => {
  it('reads fragments from rows, whole minutes and hours from the rollups', () => {
    const split = splitWindow(
      { startMs: T0 - 9 * MIN - 500, endMs: T0 + HOUR + 56 * MIN + 250 },
      T0 + HOUR + 50 * MIN,
    );
    expect(split.raw).toEqual([
      { startMs: T0 - 9 * MIN - 500, endMs: T0 - 9 * MIN },
      { startMs: T0 + HOUR + 50 * MIN, endMs: T0 + HOUR + 56 * MIN + 250 },
    ]);
    expect(split.span).toEqual({
      hours: { fromS: S0, toS: S0 + 3600 },
      minutes: [
        { fromS: S0 - 9 * 60, toS: S0 },
        { fromS: S0 + 3600, toS: S0 + 3600 + 50 * 60 },
      ],
    });
    expect(split.covered).toEqual({ fromS: S0 - 9 * 60, toS: S0 + 3600 + 50 * 60 });
  });

  it('reads everything from rows when no whole minute is sealed', () => {
    const window = { startMs: T0 + 10_000, endMs: T0 + 5 * MIN };
    const split = splitWindow(window, T0 + 30_000);
    expect(split).toEqual({ raw: [window], span: { hours: undefined, minutes: [] }, covered: undefined });
  });

  it('uses minutes only when the covered span holds no whole hour', () => {
    const split = splitWindow({ startMs: T0 + 30 * MIN, endMs: T0 + HOUR + 20 * MIN }, T0 + 2 * HOUR);
    expect(split.span).toEqual({ hours: undefined, minutes: [{ fromS: S0 + 1800, toS: S0 + 3600 + 1200 }] });
    expect(split.raw).toEqual([]);
  });
});

describe('minute ranges', () => {
  it('lists whole minutes and groups consecutive ones, at most maxMinutes long', () => {
    expect(minutesOf([{ fromS: S0, toS: S0 + 180 }])).toEqual([S0, S0 + 60, S0 + 120]);
    const minutes = [S0 + 600, S0, S0 + 60, S0 + 120, S0 + 180];
    expect(minuteRanges(minutes, 3)).toEqual([
      { fromS: S0, toS: S0 + 180 },
      { fromS: S0 + 180, toS: S0 + 240 },
      { fromS: S0 + 600, toS: S0 + 660 },
    ]);
  });
});

describe('MinuteProofs', () => {
  it('holds a proof while the ledger count and the grid are unchanged', () => {
    const proofs = new MinuteProofs();
    const minutes = [S0, S0 + 60, S0 + 120];
    // Nothing proved: every minute, even an empty one, needs proving.
    expect(proofs.unproved('m', 7, minutes, new Map())).toEqual(minutes);
    proofs.prove('m', 7, S0, 10);
    proofs.prove('m', 7, S0 + 60, 0);
    proofs.prove('m', 7, S0 + 120, 5);
    expect(
      proofs.unproved(
        'm',
        7,
        minutes,
        new Map([
          [S0, 10],
          [S0 + 120, 5],
        ]),
      ),
    ).toEqual([]);
    // A late row moves the ledger of one minute.
    expect(
      proofs.unproved(
        'm',
        7,
        minutes,
        new Map([
          [S0, 10],
          [S0 + 120, 6],
        ]),
      ),
    ).toEqual([S0 + 120]);
    // Another grid proves nothing, for any minute.
    expect(
      proofs.unproved(
        'm',
        8,
        minutes,
        new Map([
          [S0, 10],
          [S0 + 120, 5],
        ]),
      ),
    ).toEqual(minutes);
    expect(proofs.provedCount('m', 7, minutes)).toBe(15);
    expect(proofs.provedCount('m', 8, minutes)).toBe(0);
  });

  it('starts over on a new grid, and prunes minutes that left every window', () => {
    const proofs = new MinuteProofs();
    proofs.prove('m', 1, S0, 3);
    proofs.prove('m', 2, S0 + 60, 4);
    expect(proofs.provedCount('m', 1, [S0])).toBe(0);
    expect(proofs.provedCount('m', 2, [S0, S0 + 60])).toBe(4);
    proofs.prune('m', S0 + 120);
    expect(proofs.provedCount('m', 2, [S0 + 60])).toBe(0);
    proofs.prove('n', 1, S0, 1);
    proofs.forget('n');
    expect(proofs.unproved('n', 1, [S0], new Map([[S0, 1]]))).toEqual([S0]);
  });
});
