/** Multiple-testing corrections, the model-level rule, and the detector registry. */
import { describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  bonferroni,
  decideModelDrift,
  DEFAULT_MODEL_DRIFT_RULE,
  type FeatureEvidence,
} from '../../../detectors/decision.js';
import { numericEvidence } from '../../../detectors/feature-evidence.js';
import {
  buildNumericProfile,
  buildNumericReferenceProfile,
  gridOf,
} from '../../../detectors/profiles/numeric-profile.js';
import { getDetector, listDetectors, runDetector } from '../../../detectors/registry.js';

describe('corrections', () => {
  it('Bonferroni multiplies by m and caps at 1', () => {
    expect(bonferroni([0.01, 0.2, 0.5])).toEqual([0.03, 0.6000000000000001, 1]);
  });

  it('Benjamini-Hochberg matches the step-up definition (R p.adjust "BH")', () => {
    // p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.5), "BH") = 0.025 0.05 0.05 0.025 0.5
    const q = benjaminiHochberg([0.01, 0.04, 0.03, 0.005, 0.5]);
    [0.025, 0.05, 0.05, 0.025, 0.5].forEach((v, i) => expect(q[i]).toBeCloseTo(v, 12));
  });
});

describe('decideModelDrift', () => {
  const feature = (name: string, p: number | undefined, effect: number | undefined): FeatureEvidence => ({
    feature: name,
    pValue: p,
    effectSize: effect,
    effectThreshold: 0.05,
  });

  it('does not alarm on a tiny p-value with a negligible effect (large-sample trap)', () => {
    const d = decideModelDrift([feature('x', 1.6e-6, 0.0222)]);
    expect(d.drifted).toBe(false);
    expect(d.features[0]?.reason).toBe('significant but effect below threshold');
  });

  it('alarms when one of 20 features is significant after Bonferroni and large', () => {
    const features = Array.from({ length: 20 }, (_, i) => feature(`f${i}`, 0.5, 0.01));
    features[3] = feature('f3', 1e-5, 0.1);
    const d = decideModelDrift(features);
    expect(d.drifted).toBe(true);
    expect(d.driftedFeatures).toBe(1);
    expect(d.driftedShare).toBeCloseTo(0.05, 12);
  });

  it('applies the correction: p = 0.01 is not significant among 20 features under Bonferroni', () => {
    const features = Array.from({ length: 20 }, (_, i) => feature(`f${i}`, 0.5, 0.01));
    features[0] = feature('f0', 0.01, 0.5);
    expect(decideModelDrift(features).drifted).toBe(false);
    expect(decideModelDrift(features, { correction: 'none' }).drifted).toBe(true);
  });

  it('share rule and non-computable features', () => {
    const features = [feature('a', 1e-9, 0.3), feature('b', 0.9, 0.01), feature('c', undefined, undefined)];
    expect(decideModelDrift(features, { minDriftedShare: 0.5 }).drifted).toBe(true);
    expect(decideModelDrift(features, { minDriftedShare: 0.6 }).drifted).toBe(false);
    expect(decideModelDrift(features).features[2]?.reason).toBe('no p-value');
    expect(decideModelDrift([]).drifted).toBe(false);
    expect(DEFAULT_MODEL_DRIFT_RULE.correction).toBe('bonferroni');
  });

  it('numericEvidence pairs the KS p-value with normalised W1', () => {
    const e = numericEvidence('x', [1, 2, 3, 4, 5], [11, 12, 13, 14, 15]);
    expect(e.pValue).toBeCloseTo(0.007936507936507936, 12);
    expect(e.effectSize).toBeCloseTo(10 / Math.sqrt(2), 12);
  });
});

describe('registry', () => {
  it('has the documented detectors', () => {
    expect(listDetectors().map((d) => d.name)).toEqual([
      'ks',
      'psi',
      'wasserstein',
      'jensen_shannon',
      'hellinger',
      'energy',
      'cramer_von_mises',
      'chi_square',
      'chi_square_gof',
      'tvd',
    ]);
    expect(() => getDetector('kolmogorov')).toThrow(/expected one of: ks, psi/);
  });

  it('runs by name on raw samples, profiles and counts and applies the threshold direction', () => {
    const ref = Array.from({ length: 200 }, (_, i) => i / 10);
    const cur = ref.map((x) => x + 5);
    const ks = runDetector('ks', { kind: 'numeric', reference: ref, current: cur });
    expect(ks.thresholdOn).toBe('p_value');
    expect(ks.drifted).toBe(true);
    const refP = buildNumericReferenceProfile(ref);
    const curP = buildNumericProfile(cur, gridOf(refP));
    const w = runDetector('wasserstein', { kind: 'numeric_profile', reference: refP, current: curP });
    expect(w.thresholdOn).toBe('normalized_distance');
    expect(w.drifted).toBe(true);
    const tvd = runDetector('tvd', {
      kind: 'categorical',
      reference: { a: 5, b: 5 },
      current: { a: 5, b: 5 },
    });
    expect(tvd.drifted).toBe(false);
    const wrong = runDetector('cramer_von_mises', {
      kind: 'numeric_profile',
      reference: refP,
      current: curP,
    });
    expect(wrong.drifted).toBeUndefined();
    expect(wrong.result.status).toBe('not_computable');
  });

  it('every detector runs on every kind it declares', () => {
    const refP = buildNumericReferenceProfile([1, 2, 3, 4, 5, 6]);
    for (const spec of listDetectors()) {
      if (spec.kinds.includes('numeric')) {
        expect(spec.run({ kind: 'numeric', reference: [1, 2, 3, 4], current: [2, 3, 4, 9] }).status).toBe(
          'ok',
        );
        if (spec.worksFromProfiles) {
          const cur = buildNumericProfile([2, 3, 9], gridOf(refP));
          expect(spec.run({ kind: 'numeric_profile', reference: refP, current: cur }).status).toBe('ok');
        }
      }
      if (spec.kinds.includes('categorical')) {
        expect(
          spec.run({ kind: 'categorical', reference: { a: 3, b: 4 }, current: { a: 5, b: 1 } }).status,
        ).toBe('ok');
      }
    }
  });
});
