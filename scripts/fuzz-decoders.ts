/**
 * Fuzzes every decoder and the validator with hostile input (test/fuzz/hostile.ts) and checks the
 * property of test/fuzz/properties.ts on each: stored faithfully, or rejected with a reason, never
 * a throw. The same generators and checks as `npm test`'s fuzz tests, with many more runs.
 *
 *   node --import tsx scripts/fuzz-decoders.ts [--runs 100000] [--seed 42]
 *
 * Prints one JSON object: per target the runs, how many were stored / held / rejected (by code),
 * and every violation (at most 5 examples each); exits 1 when there is any violation.
 */
import fc from 'fast-check';
import { parseArgs } from 'node:util';
import {
  ceHeaders,
  hostileCloudEventPair,
  hostileHttpBody,
  hostileOutcome,
  hostileOutcomeRecord,
  hostilePrediction,
  hostilePredictionRecord,
  hostileSeldonRecord,
  mangled,
  RECORD_MS,
} from '../test/fuzz/hostile.js';
import {
  checkHttpBody,
  checkPair,
  checkHttpCloudEvent,
  checkRecord,
  checkValidator,
  decoders,
  type Verdict,
} from '../test/fuzz/properties.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '100000' }, seed: { type: 'string' } },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);

interface Tally {
  runs: number;
  stored: number;
  held: number;
  rejected: Record<string, number>;
  violations: number;
  examples: string[];
}

function tally<T>(
  arbitrary: fc.Arbitrary<T>,
  check: (value: T) => Verdict,
  describe: (value: T) => string,
): Tally {
  const result: Tally = { runs: 0, stored: 0, held: 0, rejected: {}, violations: 0, examples: [] };
  // fc.check rather than fc.assert: count every verdict instead of stopping at the first failure.
  fc.check(
    fc.property(arbitrary, (value) => {
      const verdict = check(value);
      result.runs++;
      switch (verdict.kind) {
        case 'stored':
          result.stored++;
          break;
        case 'held':
          result.held++;
          break;
        case 'rejected':
          result.rejected[verdict.code] = (result.rejected[verdict.code] ?? 0) + 1;
          break;
        case 'violation':
          result.violations++;
          if (result.examples.length < 5)
            result.examples.push(`${verdict.why}: ${describe(value).slice(0, 300)}`);
          break;
      }
      return true;
    }),
    { numRuns: runs, seed },
  );
  return result;
}

const show = (value: unknown): string => {
  try {
    return (
      JSON.stringify(value, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v)) ??
      String(value)
    );
  } catch {
    return '(too deep to show)';
  }
};

const started = Date.now();
const d = decoders();
const targets: Record<string, Tally> = {
  validatePrediction: tally(
    fc.tuple(hostilePrediction, fc.constantFrom(RECORD_MS, -1, 2 ** 40)),
    ([event, fallback]) => checkValidator('prediction', event, fallback),
    show,
  ),
  validateOutcome: tally(hostileOutcome, (event) => checkValidator('outcome', event, RECORD_MS), show),
  autoTopic: tally(hostilePredictionRecord, (record) => checkRecord(d.auto, record), show),
  cloudEventsTopic: tally(hostilePredictionRecord, (record) => checkRecord(d.cloudevents, record), show),
  cloudEventsPairs: tally(hostileCloudEventPair, (pair) => checkPair(d.cloudevents, pair), show),
  seldonTopic: tally(hostileSeldonRecord, (record) => checkRecord(d.seldon, record), show),
  outcomeTopic: tally(hostileOutcomeRecord, (record) => checkRecord(d.outcome, record), show),
  httpCloudEvents: tally(
    fc.tuple(
      ceHeaders,
      mangled(fc.constant('{"inputs":[{"name":"i","shape":[1,1],"datatype":"FP32","data":[1]}]}')),
    ),
    ([headers, body]) => checkHttpCloudEvent(d.http, headers, body),
    show,
  ),
  httpIngestBody: tally(hostileHttpBody, checkHttpBody, show),
};
const violations = Object.values(targets).reduce((sum, t) => sum + t.violations, 0);
process.stdout.write(
  `${JSON.stringify({ script: 'fuzz-decoders', runsPerTarget: runs, seed, seconds: Math.round((Date.now() - started) / 1000), violations, targets }, null, 2)}\n`,
);
process.exit(violations > 0 ? 1 : 0);
