import { describe, expect, it } from 'vitest';
import { Rng, hashString } from '../../../../retune/engine/prng.js';

describe('Rng', () => {
  it('gives the same stream for the same seed and keys', () => {
    const a = Rng.derive(42, 7, 'x');
    const b = Rng.derive(42, 7, 'x');
    const first = Array.from({ length: 50 }, () => a.nextUint32());
    expect(Array.from({ length: 50 }, () => b.nextUint32())).toEqual(first);
  });

  it('gives different streams for different seeds or keys', () => {
    const take = (rng: Rng): number[] => Array.from({ length: 8 }, () => rng.nextUint32());
    const base = take(Rng.derive(1, 0));
    expect(take(Rng.derive(2, 0))).not.toEqual(base);
    expect(take(Rng.derive(1, 1))).not.toEqual(base);
    expect(take(Rng.derive(1, 0, 'a'))).not.toEqual(base);
  });

  it('resumes exactly from a serialised state', () => {
    const rng = Rng.derive(9);
    for (let i = 0; i < 10; i++) rng.nextFloat();
    const state = JSON.parse(JSON.stringify(rng.state())) as [number, number, number, number];
    const copy = Rng.fromState(state);
    expect(Array.from({ length: 20 }, () => copy.nextFloat())).toEqual(
      Array.from({ length: 20 }, () => rng.nextFloat()),
    );
  });

  it('draws floats in [0, 1) with a plausible mean and unbiased small integers', () => {
    const rng = Rng.derive(3);
    let sum = 0;
    let outside = 0;
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) {
      const x = rng.nextFloat();
      if (x < 0 || x >= 1) outside++;
      sum += x;
      const k = rng.nextInt(3);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(outside).toBe(0);
    expect(sum / 30_000).toBeCloseTo(0.5, 2);
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(400);
  });

  it('rejects a bound that is not a positive integer', () => {
    expect(() => Rng.derive(0).nextInt(0)).toThrow(/integer bound/);
    expect(() => Rng.derive(0).nextInt(1.5)).toThrow(/integer bound/);
  });

  it('hashes strings stably', () => {
    expect(hashString('lr')).toBe(hashString('lr'));
    expect(hashString('lr')).not.toBe(hashString('rl'));
  });
});
