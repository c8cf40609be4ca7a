/**
 * The hostile-input properties of test/unit/detectors/hostile-properties.ts at many times the
 * runs `npm test` gives them (signed zeros, ±Infinity, NaN, subnormals, huge offsets, overflow;
 * small samples and references past the 20,000-value fast paths), each under a time budget in
 * a worker, so a hang is reported rather than waited for.
 *
 *   node --import tsx scripts/detectors/fuzz-hostile.ts [--factor 100]
 *
 * Prints one JSON line per property ({property, runs, ms, ok, error?}), then a summary line;
 * exits 1 if any property failed. --factor 100 (about 10^5 inputs in all) takes ~15 minutes
 * on the shared 2-core machine. A failure prints fast-check's seed and shrunk counterexample.
 */
import { runWithinBudgets } from '../../test/unit/detectors/time-budget.js';

const factorArg = process.argv.indexOf('--factor');
const factor = factorArg >= 0 ? Number(process.argv[factorArg + 1]) : 10;
if (!Number.isInteger(factor) || factor < 1) {
  console.error(`--factor must be a positive integer, got ${process.argv[factorArg + 1]}`);
  process.exit(2);
}

const module = new URL('../../test/unit/detectors/hostile-properties.ts', import.meta.url);
/** Runs in npm test, and the milliseconds one run may take before we call it a hang. */
const properties: [string, number, number][] = [
  ['smallSamplesGetAnAnswer', 300, 50],
  ['largeSamplesGetAnAnswer', 10, 2_000],
  ['largePathAgreesWithSortingPath', 10, 2_000],
  ['repeatedSamplesKeepTheirDistances', 30, 500],
];

const bodies = properties.map(([name, runs, msPerRun]) => ({
  module,
  name,
  args: [runs * factor],
  budgetMs: 10_000 + runs * factor * msPerRun,
}));
const results = runWithinBudgets(bodies);
let failed = 0;
const started = Date.now();
for (const body of bodies) {
  const t0 = Date.now();
  const outcome = await (results.get(body.name) as Promise<void>).then(
    () => ({ ok: true as const }),
    (e: Error) => ({ ok: false as const, error: e.message }),
  );
  if (!outcome.ok) failed++;
  console.log(JSON.stringify({ property: body.name, runs: body.args[0], ms: Date.now() - t0, ...outcome }));
}
console.log(
  JSON.stringify({
    fuzz: 'detectors-hostile',
    factor,
    properties: bodies.length,
    failed,
    ms: Date.now() - started,
  }),
);
process.exit(failed === 0 ? 0 : 1);
