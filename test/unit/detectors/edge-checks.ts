/**
 * Hostile inputs checked against scipy/numpy (test/fixtures/detectors/edge-cases.json and
 * edge-large-cases.json, written by scripts/detectors/gen-fixtures.py): NaN, ±Infinity, signed
 * zeros, subnormals, huge offsets, overflow, one value per sample.
 *
 * The contract checked, case by case: where scipy's answer is finite we return `ok` with the
 * same numbers (statistics 1e-9 relative, p-values 1e-10 exact / 1e-6 asymptotic); where it is
 * inf or nan we refuse (`not_computable` with a reason) — never an `ok` holding a non-finite
 * number. Binned tests refuse when a reference quantile edge is not finite (numpy's edge is then
 * ±inf or nan). NaN is missing data (scipy's nan_policy='omit').
 *
 * These bodies run in a worker under a time budget (time-budget.ts): before issue 16 the first
 * case never returned.
 */
import { binCountsSorted, quantileEdges } from '../../../detectors/binning.js';
import { cramerVonMises } from '../../../detectors/cramer-von-mises.js';
import { energy, wasserstein } from '../../../detectors/distances.js';
import { ks } from '../../../detectors/ks.js';
import { hellinger, jensenShannon, psi } from '../../../detectors/numeric-binned.js';
import {
  buildNumericProfile,
  buildNumericReferenceProfile,
  gridOf,
} from '../../../detectors/profiles/numeric-profile.js';
import {
  hellingerFromProfiles,
  jensenShannonFromProfiles,
  psiFromProfiles,
} from '../../../detectors/profiles/profile-tests.js';
import type { TestResult } from '../../../detectors/result.js';
import { closeTo, loadFixture } from './fixtures.js';

/** A float as the generator writes it: non-finite values spelled out. */
type Enc = number | 'inf' | '-inf' | 'nan';

interface EdgeCase {
  id: string;
  note: string;
  reference: Enc[];
  current: Enc[];
  computable: boolean;
  ks?: { statistic: Enc; pvalue: Enc; method: 'exact' | 'asymptotic' };
  ks_asymptotic?: { statistic: Enc; pvalue: Enc };
  cvm?: { statistic: Enc; pvalue: Enc; method: 'exact' | 'asymptotic' } | null;
  reference_std?: Enc;
  wasserstein?: Enc;
  wasserstein_normalized?: Enc;
  energy?: Enc;
  energy_normalized?: Enc;
  bins?: {
    edges: Enc[];
    reference_counts: number[];
    current_counts: number[];
    psi: Enc;
    js_e: Enc;
    js_2: Enc;
    hellinger: Enc;
  };
}

function dec(x: Enc): number {
  switch (x) {
    case 'inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    case 'nan':
      return Number.NaN;
    default:
      return x;
  }
}

/** Collects every mismatch of one case instead of stopping at the first. */
class Findings {
  readonly lines: string[] = [];
  constructor(private readonly id: string) {}

  check(condition: boolean, what: string): void {
    if (!condition) this.lines.push(`${this.id}: ${what}`);
  }

  /** `ok` with `statistic` (and `pValue`) close to scipy's, or a refusal where scipy's is not finite. */
  matches(
    label: string,
    r: TestResult,
    expected: { statistic: number; pValue?: number; pTol?: number; normalized?: number },
  ): void {
    const finite = [expected.statistic, expected.pValue ?? 0, expected.normalized ?? 0].every(
      Number.isFinite,
    );
    if (!finite) {
      this.check(
        r.status === 'not_computable',
        `${label}: scipy gives a non-finite value, expected a refusal, got ${show(r)}`,
      );
      if (r.status === 'not_computable')
        this.check(r.reason.length > 10, `${label}: refusal without a reason`);
      return;
    }
    if (r.status !== 'ok') {
      this.lines.push(
        `${this.id}: ${label}: expected ok (scipy ${expected.statistic}), got refusal "${r.reason}"`,
      );
      return;
    }
    this.check(
      closeTo(r.statistic, expected.statistic),
      `${label}: statistic ${r.statistic} vs scipy ${expected.statistic}`,
    );
    if (expected.pValue !== undefined) {
      const tol = expected.pTol ?? 1e-6;
      this.check(
        Math.abs((r.pValue ?? Number.NaN) - expected.pValue) <= tol,
        `${label}: p ${r.pValue} vs scipy ${expected.pValue}`,
      );
    }
    if (expected.normalized !== undefined) {
      const n = r.details?.normalized;
      this.check(closeTo(n, expected.normalized), `${label}: normalized ${n} vs ${expected.normalized}`);
    }
  }
}

function show(r: TestResult): string {
  return r.status === 'ok'
    ? `ok(${r.statistic}, p=${r.pValue}, ${JSON.stringify(r.details ?? {})})`
    : `not_computable(${r.reason})`;
}

const sameNumbers = (a: ArrayLike<number>, b: readonly number[]): boolean =>
  a.length === b.length && b.every((v, i) => a[i] === v || (a[i] !== a[i] && v !== v));

function checkCase(c: EdgeCase, withProfiles: boolean): string[] {
  const f = new Findings(c.id);
  const reference = c.reference.map(dec);
  const current = c.current.map(dec);
  const all = {
    ks: ks(reference, current),
    ksAsymptotic: ks(reference, current, { method: 'asymptotic' }),
    cvm: cramerVonMises(reference, current),
    wasserstein: wasserstein(reference, current),
    energy: energy(reference, current),
    psi: psi(reference, current),
    js: jensenShannon(reference, current),
    hellinger: hellinger(reference, current),
  };
  if (!c.computable) {
    for (const [name, r] of Object.entries(all)) {
      f.check(
        r.status === 'not_computable',
        `${name}: nothing to compare, expected a refusal, got ${show(r)}`,
      );
    }
    return f.lines;
  }
  const k = c.ks!;
  f.matches('ks', all.ks, {
    statistic: dec(k.statistic),
    pValue: dec(k.pvalue),
    pTol: k.method === 'exact' ? 1e-10 : 1e-6,
  });
  if (all.ks.status === 'ok')
    f.check(all.ks.method === k.method, `ks method ${all.ks.method} vs ${k.method}`);
  const ka = c.ks_asymptotic!;
  f.matches('ks asymptotic', all.ksAsymptotic, { statistic: dec(ka.statistic), pValue: dec(ka.pvalue) });
  if (
    c.cvm === null &&
    Math.min(reference.filter((v) => v === v).length, current.filter((v) => v === v).length) < 2
  ) {
    f.check(all.cvm.status === 'not_computable', `cvm: fewer than two values, got ${show(all.cvm)}`);
  }
  if (c.cvm) f.matches('cvm', all.cvm, { statistic: dec(c.cvm.statistic), pValue: dec(c.cvm.pvalue) });
  f.matches('wasserstein', all.wasserstein, {
    statistic: dec(c.wasserstein!),
    normalized: dec(c.wasserstein_normalized!),
  });
  if (all.wasserstein.status === 'ok') {
    const s = all.wasserstein.details?.referenceStd;
    f.check(closeTo(s, dec(c.reference_std!)), `reference std ${s} vs exact ${c.reference_std}`);
  }
  f.matches('energy', all.energy, { statistic: dec(c.energy!), normalized: dec(c.energy_normalized!) });

  const b = c.bins!;
  const edges = b.edges.map(dec);
  const edgesFinite = edges.every(Number.isFinite);
  const binned = [
    ['psi', all.psi, b.psi],
    ['jensen_shannon', all.js, b.js_e],
    ['hellinger', all.hellinger, b.hellinger],
  ] as const;
  for (const [name, r, expected] of binned) {
    // A non-finite edge makes the bins undefined whatever numpy's PSI then reads.
    f.matches(name, r, { statistic: edgesFinite ? dec(expected) : Number.NaN });
  }
  // The small (sorting) path's edges and counts are numpy's, signed zeros included (-0 === 0).
  const sorted = Float64Array.from(reference.filter((v) => v === v)).sort();
  const ours = quantileEdges(sorted, 10);
  f.check(sameNumbers(ours, edges), `edges ${Array.from(ours).join(',')} vs numpy ${edges.join(',')}`);
  if (edgesFinite) {
    const counts = Array.from(binCountsSorted(ours, sorted));
    f.check(sameNumbers(counts, b.reference_counts), `reference counts ${counts.join(',')} vs numpy`);
  }
  if (withProfiles) {
    // Profiles count over the same bins by the sorting path: the same answers as the raw tests.
    const refProfile = buildNumericReferenceProfile(reference);
    const curProfile = buildNumericProfile(current, gridOf(refProfile));
    const fromProfiles = [
      ['psi', psiFromProfiles(refProfile, curProfile), all.psi],
      ['jensen_shannon', jensenShannonFromProfiles(refProfile, curProfile), all.js],
      ['hellinger', hellingerFromProfiles(refProfile, curProfile), all.hellinger],
    ] as const;
    for (const [name, p, raw] of fromProfiles) {
      f.check(
        p.status === raw.status && p.statistic === raw.statistic,
        `${name} from profiles ${show(p)} vs raw ${show(raw)}`,
      );
    }
  }
  return f.lines;
}

function checkAll(file: string, withProfiles: boolean): void {
  const cases = loadFixture<EdgeCase>(file);
  if (cases.length === 0) throw new Error(`${file} has no cases`);
  const findings = cases.flatMap((c) => checkCase(c, withProfiles));
  if (findings.length > 0)
    throw new Error(`${findings.length} mismatch(es) with scipy:\n${findings.join('\n')}`);
}

/** Small samples: the sorting path for every test. */
export function smallEdgeCasesMatchScipy(): void {
  checkAll('edge-cases.json', true);
}

/** >= 20,000 reference values: radix sort and the bucketed quantile selection. */
export function largeEdgeCasesMatchScipy(): void {
  checkAll('edge-large-cases.json', true);
}
