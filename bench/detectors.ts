/**
 * Benchmark of our KS, Wasserstein-1 and PSI against scipy/numpy on the same data in the
 * same run: n = 10^5 and 10^6 per side, best of a few repeats on both sides.
 *
 *   node --import tsx bench/detectors.ts      (npm run bench:detectors)
 *
 * Writes the samples as little-endian float64 to a temp file, times scipy through
 * scripts/detectors/bench-scipy.py, and prints one JSON line per size, then (last line)
 * {"bench":"detectors","results":[{"test","n","ours_ms","scipy_ms","ratio"}...]}.
 * Input arrays are unsorted on both sides, so both pay for sorting / selection.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ks, psi, wasserstein, type TestResult } from '../detectors/index.js';
import { normalArray, uniformSource } from '../scripts/detectors/random.js';

const SIZES = [100_000, 1_000_000];
const REPEATS = 7;
const WARMUP = 3;

interface ScipyTimes {
  ks: number;
  wasserstein: number;
  psi: number;
  values: { ks: number; ks_p: number; wasserstein: number; psi: number };
}

function bestMs(fn: () => TestResult, repeats: number): { ms: number; result: TestResult } {
  let best = Infinity;
  let result = fn();
  for (let i = 1; i < WARMUP; i++) result = fn(); // let the JIT settle before timing
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    result = fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms: best, result };
}

function statistic(r: TestResult): number | undefined {
  return r.status === 'ok' ? r.statistic : undefined;
}

const dir = mkdtempSync(join(tmpdir(), 'driftguard-bench-'));
const results: { test: string; n: number; ours_ms: number; scipy_ms: number; ratio: number }[] = [];
try {
  const uniform = uniformSource(42);
  for (const n of SIZES) {
    const reference = normalArray(uniform, n, 0, 1);
    const current = normalArray(uniform, n, 0.05, 1.1);
    const file = join(dir, `data-${n}.f64`);
    const both = new Float64Array(2 * n);
    both.set(reference, 0);
    both.set(current, n);
    writeFileSync(file, Buffer.from(both.buffer));
    const scipy = JSON.parse(
      execFileSync('python3', ['scripts/detectors/bench-scipy.py', file, String(n), String(REPEATS)], {
        encoding: 'utf8',
      }),
    ) as ScipyTimes;
    const ours = {
      ks: bestMs(() => ks(reference, current), REPEATS),
      wasserstein: bestMs(() => wasserstein(reference, current), REPEATS),
      psi: bestMs(() => psi(reference, current), REPEATS),
    };
    for (const test of ['ks', 'wasserstein', 'psi'] as const) {
      const ms = ours[test].ms;
      results.push({
        test,
        n,
        ours_ms: round(ms),
        scipy_ms: round(scipy[test]),
        ratio: round(ms / scipy[test]),
      });
    }
    // Same answers as scipy on this data (a bench that is fast but wrong is worthless).
    console.log(
      JSON.stringify({
        n,
        check: {
          ks: [statistic(ours.ks.result), scipy.values.ks],
          ks_p: [ours.ks.result.pValue, scipy.values.ks_p],
          wasserstein: [statistic(ours.wasserstein.result), scipy.values.wasserstein],
          psi: [statistic(ours.psi.result), scipy.values.psi],
        },
      }),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

console.log(JSON.stringify({ bench: 'detectors', results }));
