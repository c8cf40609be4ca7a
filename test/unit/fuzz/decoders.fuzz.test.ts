import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
} from '../../fuzz/hostile.js';
import {
  checkHttpBody,
  checkPair,
  checkHttpCloudEvent,
  checkRecord,
  checkValidator,
  decoders,
  type Verdict,
} from '../../fuzz/properties.js';

/**
 * Every decoder and the validator on hostile input (test/fuzz/hostile.ts): each record is stored
 * faithfully (well-formed text, times the store holds, finite numbers, fast lane = full decoder)
 * or rejected with a code, a path and a reason; nothing throws. A modest number of runs here;
 * `node --import tsx scripts/fuzz-decoders.ts` runs 10^5 of each and prints the tally.
 */

const RUNS = 300;

/** Fails with the verdict's reason; also checks that both outcomes occur (not vacuous). */
function holds(verdict: Verdict, seen: Set<string>): void {
  if (verdict.kind === 'violation') expect.fail(verdict.why);
  seen.add(verdict.kind);
}

describe('fuzz: stored faithfully or rejected with a reason, never a throw', () => {
  it('the validator, on values built in-process (deep ones included)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(hostilePrediction, fc.constantFrom(RECORD_MS, -1, 2 ** 40), (event, fallback) =>
        holds(checkValidator('prediction', event, fallback), seen),
      ),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(hostileOutcome, (event) => holds(checkValidator('outcome', event, RECORD_MS), seen)),
      { numRuns: RUNS },
    );
    expect(seen).toEqual(new Set(['stored', 'rejected']));
  });

  it('prediction topics in auto mode (native, CloudEvents, OIP, junk), with the fast lane', () => {
    const { auto } = decoders();
    const seen = new Set<string>();
    fc.assert(
      fc.property(hostilePredictionRecord, (record) => holds(checkRecord(auto, record), seen)),
      { numRuns: RUNS },
    );
    expect(seen.has('stored') && seen.has('rejected')).toBe(true);
  });

  it('topics pinned to CloudEvents, Seldon model topics, and outcome topics', () => {
    const { cloudevents, seldon, outcome } = decoders();
    const seen = new Set<string>();
    fc.assert(
      fc.property(hostilePredictionRecord, (record) => holds(checkRecord(cloudevents, record), seen)),
      { numRuns: RUNS },
    );
    const pairs = new Set<string>();
    fc.assert(
      fc.property(hostileCloudEventPair, (pair) => holds(checkPair(cloudevents, pair), pairs)),
      { numRuns: RUNS },
    );
    expect(pairs).toEqual(new Set(['stored', 'rejected']));
    fc.assert(
      fc.property(hostileSeldonRecord, (record) => holds(checkRecord(seldon, record), seen)),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(hostileOutcomeRecord, (record) => holds(checkRecord(outcome, record), seen)),
      { numRuns: RUNS },
    );
    expect(seen.has('rejected')).toBe(true);
  });

  it('the HTTP CloudEvents endpoint and the HTTP ingest body', () => {
    const { http } = decoders();
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        ceHeaders,
        mangled(fc.constant('{"inputs":[{"name":"i","shape":[1,1],"datatype":"FP32","data":[1]}]}')),
        (headers, body) => holds(checkHttpCloudEvent(http, headers, body), seen),
      ),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(hostileHttpBody, (body) => holds(checkHttpBody(body), seen)),
      { numRuns: RUNS },
    );
    expect(seen.has('rejected')).toBe(true);
  });
});
