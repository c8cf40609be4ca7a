#!/usr/bin/env python3
"""Regenerate the detectors/ reference fixtures from scipy/numpy.

    python3 scripts/detectors/gen-fixtures.py

Seeded and deterministic: rerunning rewrites identical files under
test/fixtures/detectors/. The TypeScript side cannot reproduce numpy's RNG, so
the samples themselves are stored; large samples are rounded to a few decimals
to keep the files small (ties are fine: they are part of what we test).
"""
import json
import math
import os
import random
import warnings
from fractions import Fraction

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'detectors')
SEED = 20261123
BINS = 10
FLOOR = 1e-4


def fl(x):
    """JSON-safe float (repr round-trips exactly through JS's parser)."""
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return None
    return x


def quantile_edges(ref, bins):
    e = np.quantile(np.asarray(ref, dtype=np.float64), np.linspace(0, 1, bins + 1))[1:-1]
    if len(e) == 0:
        return e
    return e[np.r_[True, e[1:] != e[:-1]]]


def bin_counts(edges, x):
    idx = np.searchsorted(edges, np.asarray(x, dtype=np.float64), side='left')
    return np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)


def psi_from_counts(r, c, floor=FLOOR):
    r = np.maximum(r / r.sum(), floor)
    c = np.maximum(c / c.sum(), floor)
    return float(np.sum((r - c) * np.log(r / c)))


def hellinger_from_counts(r, c):
    p = r / r.sum()
    q = c / c.sum()
    return float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2))


def numeric_case(case_id, ref, cur, note):
    ref = np.asarray(ref, dtype=np.float64)
    cur = np.asarray(cur, dtype=np.float64)
    n1, n2 = len(ref), len(cur)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ks = stats.ks_2samp(ref, cur, method='auto')
    ks_method = 'exact' if max(n1, n2) <= 10000 else 'asymptotic'
    if any('Exact calculation unsuccessful' in str(w.message) for w in caught):
        ks_method = 'asymptotic'  # scipy's documented fallback
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        cvm = None
        if n1 >= 2 and n2 >= 2:
            r = stats.cramervonmises_2samp(ref, cur, method='auto')
            cvm = {'statistic': fl(r.statistic), 'pvalue': fl(r.pvalue),
                   'method': 'exact' if max(n1, n2) <= 20 else 'asymptotic'}
    w1 = stats.wasserstein_distance(ref, cur)
    edges = quantile_edges(ref, BINS)
    rc, cc = bin_counts(edges, ref), bin_counts(edges, cur)
    return {
        'id': case_id,
        'note': note,
        'reference': [fl(v) for v in ref],
        'current': [fl(v) for v in cur],
        'ks': {'statistic': fl(ks.statistic), 'pvalue': fl(ks.pvalue), 'method': ks_method},
        'cvm': cvm,
        'wasserstein': fl(w1),
        'wasserstein_normalized': fl(w1 / max(np.std(ref), 0.001)),
        'energy': fl(stats.energy_distance(ref, cur)),
        'bins': {
            'edges': [fl(e) for e in edges],
            'reference_counts': rc.tolist(),
            'current_counts': cc.tolist(),
            'psi': psi_from_counts(rc, cc),
            'js_e': fl(distance.jensenshannon(rc, cc)),
            'js_2': fl(distance.jensenshannon(rc, cc, base=2)),
            'hellinger': hellinger_from_counts(rc, cc),
        },
    }


def numeric_cases(rng):
    cases = []
    # The worked example from the shared statistics notes.
    cases.append(numeric_case(
        'notes-example',
        [0.1, 0.4, 0.5, 0.9, 1.2, 1.3, 1.7, 2.0, 2.2, 3.1],
        [0.3, 0.8, 1.1, 1.5, 1.9, 2.4, 2.6, 2.9, 3.3, 3.8, 4.0, 4.4],
        'worked example in shared/notes/statistics.md'))
    gens = {
        'normal': lambda n: rng.normal(0, 1, n),
        'shifted': lambda n: rng.normal(0.5, 1.3, n),
        'cauchy': lambda n: rng.standard_cauchy(n),
        't2': lambda n: rng.standard_t(2, n),
        'ties': lambda n: rng.integers(0, 5, n).astype(float),
        'lognormal': lambda n: rng.lognormal(0, 2, n),
        'disjoint-high': lambda n: rng.uniform(10, 11, n),
        'constant': lambda n: np.full(n, 3.0),
    }
    names = list(gens)
    small_sizes = [1, 2, 3, 5, 7, 10, 13, 20, 21, 50, 97, 200]
    i = 0
    for n1 in small_sizes:
        for n2 in small_sizes:
            if rng.random() < 0.45:
                continue
            a, b = names[rng.integers(len(names))], names[rng.integers(len(names))]
            if rng.random() < 0.3:
                b = a
            cases.append(numeric_case(f'small-{i}-{a}-{b}', gens[a](n1), gens[b](n2), f'{a} vs {b}'))
            i += 1
    # Mid sizes up to the exact/asymptotic boundary (10000) and just past it.
    for n1, n2, a, b in [(500, 700, 'normal', 'normal'), (1000, 1000, 'normal', 'shifted'),
                         (2000, 300, 'ties', 'ties'), (3000, 2999, 't2', 't2'),
                         (1500, 800, 'cauchy', 'normal'), (4000, 4000, 'lognormal', 'lognormal'),
                         (10000, 37, 'normal', 'normal'), (10000, 10000, 'normal', 'normal'),
                         (10001, 10001, 'normal', 'normal'), (12000, 15, 'normal', 'shifted'),
                         (15000, 9000, 'ties', 'ties'), (800, 900, 'constant', 'constant'),
                         (600, 600, 'normal', 'disjoint-high')]:
        x, y = gens[a](n1), gens[b](n2)
        if n1 > 1000:
            x, y = np.round(x, 5), np.round(y, 5)
        cases.append(numeric_case(f'mid-{n1}-{n2}-{a}-{b}', x, y, f'{a} vs {b}'))
    return cases


def large_cases(rng):
    cases = []
    # The large-sample trap: n = 1e5, N(0,1) vs N(0.02,1).
    x = np.round(rng.normal(0, 1, 100000), 4)
    y = np.round(rng.normal(0.02, 1, 100000), 4)
    cases.append(numeric_case('large-trap-1e5', x, y, 'N(0,1) vs N(0.02,1), n = 1e5'))
    x = np.round(rng.standard_t(3, 100000), 3)
    y = np.round(rng.standard_t(3, 30000) * 1.1, 3)
    cases.append(numeric_case('large-t3-1e5-3e4', x, y, 't3 vs scaled t3'))
    return cases


def enc(x):
    """Float for JSON with the non-finite values spelled out ('inf', '-inf', 'nan'), which
    JSON cannot carry; -0.0 stays -0.0 (JS's JSON.parse keeps the sign)."""
    x = float(x)
    if math.isnan(x):
        return 'nan'
    if math.isinf(x):
        return 'inf' if x > 0 else '-inf'
    return x


def exact_std0(x):
    """Population std (ddof 0) of finite floats in exact rational arithmetic (the variance
    exact, its square root within an ulp).

    The reference for normalised distances on hostile inputs, where np.std is itself off:
    at 1e15 + noise its float64 mean cannot hold the true mean (one ulp there is 0.125), and
    np.std([-1e200, 1e200]) overflows to inf although the std is 1e200.
    """
    values = [Fraction(float(v)) for v in x]
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / n
    if var == 0:
        return 0.0
    # sqrt of a rational out of float range: scale by a power of 4 first.
    k = (var.numerator.bit_length() - var.denominator.bit_length()) // 2
    return math.sqrt(float(var / Fraction(4) ** k)) * 2.0 ** k


def edge_case(case_id, ref, cur, note):
    """Like numeric_case, for hostile inputs: NaN, +-inf, signed zeros, subnormals, overflow.

    NaN is missing data to the detectors (dropped, counted by the caller), i.e. scipy's
    nan_policy='omit'; wasserstein_distance and energy_distance have no nan_policy, so every
    statistic here is scipy's on the samples without NaN. Non-finite results are recorded as
    scipy returns them ('inf', 'nan'): the detectors refuse those (not_computable).
    """
    ref = np.asarray(ref, dtype=np.float64)
    cur = np.asarray(cur, dtype=np.float64)
    r, c = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    out = {'id': case_id, 'note': note,
           'reference': [enc(v) for v in ref], 'current': [enc(v) for v in cur]}
    if len(r) == 0 or len(c) == 0:
        out['computable'] = False
        return out
    out['computable'] = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ks = stats.ks_2samp(r, c, method='auto')
        ks_asymp = stats.ks_2samp(r, c, method='asymp')
    ks_method = 'exact' if max(len(r), len(c)) <= 10000 else 'asymptotic'
    if any('Exact calculation unsuccessful' in str(w.message) for w in caught):
        ks_method = 'asymptotic'
    out['ks'] = {'statistic': enc(ks.statistic), 'pvalue': enc(ks.pvalue), 'method': ks_method}
    out['ks_asymptotic'] = {'statistic': enc(ks_asymp.statistic), 'pvalue': enc(ks_asymp.pvalue)}
    out['cvm'] = None
    if len(r) >= 2 and len(c) >= 2 and max(len(r), len(c)) <= 200:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            v = stats.cramervonmises_2samp(r, c, method='auto')
        out['cvm'] = {'statistic': enc(v.statistic), 'pvalue': enc(v.pvalue),
                      'method': 'exact' if max(len(r), len(c)) <= 20 else 'asymptotic'}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        w1 = stats.wasserstein_distance(r, c)
        e = stats.energy_distance(r, c)
        finite = bool(np.all(np.isfinite(r)))
        scale = max(exact_std0(r) if finite else np.std(r), 0.001)
        # The normalising scale, as details.referenceStd reports it (floored at 0.001); and
        # np.std beside it, which docs/detectors.md compares with the exact value.
        out['reference_std'] = enc(scale)
        out['numpy_std'] = enc(np.std(r))
        out['wasserstein'] = enc(w1)
        out['wasserstein_normalized'] = enc(w1 / scale)
        out['energy'] = enc(e)
        out['energy_normalized'] = enc(e / np.sqrt(scale))
        edges = quantile_edges(r, BINS)
        rc, cc = bin_counts(edges, r), bin_counts(edges, c)
        out['bins'] = {
            'edges': [enc(x) for x in edges],
            'reference_counts': rc.tolist(),
            'current_counts': cc.tolist(),
            'psi': enc(psi_from_counts(rc, cc)),
            'js_e': enc(distance.jensenshannon(rc, cc)),
            'js_2': enc(distance.jensenshannon(rc, cc, base=2)),
            'hellinger': enc(hellinger_from_counts(rc, cc)),
        }
    # docs/detectors.md states when scipy's W1 and energy are nan rather than inf: when an
    # infinity occurs more than once across the two samples. Check the claim on every case.
    pooled = np.concatenate([r, c])
    repeated = np.sum(pooled == np.inf) > 1 or np.sum(pooled == -np.inf) > 1
    if np.isinf(pooled).any():
        assert math.isnan(w1) == repeated and math.isnan(e) == repeated, case_id
        assert math.isnan(w1) or math.isinf(w1), case_id
    return out


def edge_cases(rng):
    inf, nan = math.inf, math.nan
    cases = [
        edge_case('issue16-8-inf-in-current', [0, 1], [0, inf], 'wasserstein/energy never returned'),
        edge_case('inf-in-reference', [0, 1, inf], [0, 1, 2], 'normalised W1 was NaN'),
        edge_case('minus-inf-in-reference', [-inf, 0, 1], [0, 1, 2], ''),
        edge_case('inf-in-both', [0, 1, inf], [0, 2, inf], 'scipy W1 nan'),
        edge_case('both-infinities-vs-finite', [-inf, 0, inf], [0, 1], ''),
        edge_case('opposite-infinities', [-inf, 0, 1], [0, 1, inf], 'scipy W1 inf'),
        edge_case('all-infinite-reference', [inf, inf], [0, 1], ''),
        edge_case('inf-repeated-in-current', [0, 1, 2, 3], [1, inf, inf], ''),
        edge_case('nan-is-missing', [0, nan, 1, 2, nan], [0.5, nan, 3], 'NaN dropped'),
        edge_case('nan-and-inf', [nan, inf, 0, 2], [1, 2, nan], ''),
        edge_case('all-nan-current', [0, 1, 2], [nan, nan], 'nothing left to compare'),
        edge_case('all-nan-reference', [nan], [0, 1], ''),
        edge_case('ks-one-vs-one', [1.0], [2.0], 'asymptotic KS p was NaN'),
        edge_case('ks-one-vs-one-equal', [1.0], [1.0], ''),
        edge_case('signed-zeros-small', [-0.0] * 5 + [0.0] * 5 + [-1.0, 1.0, 2.0],
                  [0.0] * 6 + [-0.0] * 2 + [1.0], 'small path: +0 and -0 compare equal'),
        edge_case('subnormals', [5e-324, -5e-324, 1e-310, 0.0, -0.0, 2.2250738585072014e-308],
                  [5e-324, 1e-320, -1e-315, 1e-300], 'std below the 0.001 floor'),
        edge_case('huge-offset', 1e15 + np.round(rng.normal(0, 1, 60), 3),
                  1e15 + np.round(rng.normal(0.3, 1, 45), 3), '1e15 + noise'),
        edge_case('all-equal-same', [3.0] * 30, [3.0] * 20, ''),
        edge_case('all-equal-different', [3.0] * 30, [4.0] * 20, 'reference std 0: floor'),
        edge_case('std-overflows', [-1e200, 1e200, 0.0], [0.0, 1.0], 'np.std is inf; rescaled'),
        edge_case('w1-overflows', [-1.5e308], [1.5e308], 'W1 = 3e308 > max double'),
        edge_case('near-max-magnitudes', [1.7e308, -1.7e308, 0.0], [0.0, 1e308], ''),
        edge_case('inf-only-in-window', np.round(rng.normal(0, 1, 80), 4),
                  list(np.round(rng.normal(0, 1, 60), 4)) + [inf, -inf, inf], 'bins stay finite'),
        edge_case('one-inf-in-large-reference', list(np.round(rng.normal(0, 1, 300), 4)) + [inf],
                  np.round(rng.normal(0, 1, 100), 4), 'quantile edges stay finite'),
    ]
    return cases


def edge_large_cases(rng):
    """The large-reference path (>= 20000 reference values: bucketed quantile selection)."""
    inf = math.inf
    zeros = [-k / 1000 for k in range(1, 9001)] + [-0.0] * 1500 + [0.0] * 1500 + [k / 1000 for k in range(1, 8001)]
    shuffled = list(np.asarray(zeros)[rng.permutation(len(zeros))])
    window = [0.0] * 3000 + [k / 1000 for k in range(1, 2001)] + [-k / 1000 for k in range(1, 1001)]
    ref = list(np.round(rng.normal(0, 1, 30000), 3)) + [inf] * 5
    cur = list(np.round(rng.normal(0.1, 1, 20000), 3)) + [-inf] * 10
    return [
        edge_case('issue16-9-signed-zero-edge', zeros, zeros, 'PSI was 0.53 against itself (numpy: 0)'),
        edge_case('signed-zero-edge-shuffled', shuffled, zeros[::-1], 'same values, other orders'),
        edge_case('signed-zero-edge-drift', zeros, window, 'counts at a -0.0 edge'),
        edge_case('large-with-infinities', ref, cur, 'KS and bins fine; W1 refused'),
    ]


def kstwo_grid(rng):
    rows = []
    for n in [1, 2, 3, 7, 20, 100, 140, 141, 1000, 5000, 50000, 100000, 100001, 400000]:
        xs = list(rng.uniform(0, 1, 4)) + list(rng.uniform(0, 3 / math.sqrt(n), 8))
        for x in xs:
            rows.append({'n': n, 'x': float(x), 'sf': fl(stats.kstwo.sf(x, n))})
    return rows


def categorical_cases(rng):
    cases = []

    def add(case_id, ref, cur):
        cats = sorted({k for k, v in ref.items() if v > 0} | {k for k, v in cur.items() if v > 0})
        r = np.array([ref.get(c, 0) for c in cats], dtype=float)
        c = np.array([cur.get(c, 0) for c in cats], dtype=float)
        out = {'id': case_id, 'reference': ref, 'current': cur}
        if r.sum() == 0 or c.sum() == 0 or len(cats) < 2:
            out['computable'] = False
            cases.append(out)
            return
        out['computable'] = True
        chi2, p, dof, _ = stats.chi2_contingency(np.vstack([r, c]))
        out['contingency'] = {'statistic': fl(chi2), 'pvalue': fl(p), 'dof': int(dof)}
        rs = r + 0.5 if np.any((r == 0) & (c > 0)) else r
        g = stats.chisquare(c, rs / rs.sum() * c.sum())
        out['gof'] = {'statistic': fl(g.statistic), 'pvalue': fl(g.pvalue), 'smoothed': bool(np.any(r == 0))}
        out['psi'] = psi_from_counts(r, c)
        out['js_e'] = fl(distance.jensenshannon(r, c))
        out['js_2'] = fl(distance.jensenshannon(r, c, base=2))
        out['tvd'] = float(np.abs(r / r.sum() - c / c.sum()).sum() / 2)
        cases.append(out)

    add('notes-example', {'a': 50, 'b': 30, 'c': 20}, {'a': 40, 'b': 40, 'c': 20})
    add('two-categories-yates', {'yes': 120, 'no': 80}, {'yes': 90, 'no': 110})
    add('unseen-in-reference', {'a': 100, 'b': 50}, {'a': 40, 'b': 30, 'new': 10})
    add('vanished-in-current', {'a': 100, 'b': 50, 'c': 5}, {'a': 40, 'b': 30})
    add('single-category', {'a': 10}, {'a': 7})
    add('empty-window', {'a': 10, 'b': 3}, {})
    for i in range(25):
        k = int(rng.integers(2, 40))
        p = rng.dirichlet(np.ones(k))
        q = p if rng.random() < 0.5 else rng.dirichlet(np.ones(k))
        nr, nc = int(rng.integers(20, 20000)), int(rng.integers(5, 20000))
        rc, cc = rng.multinomial(nr, p), rng.multinomial(nc, q)
        ref = {f'c{j}': int(v) for j, v in enumerate(rc) if v > 0}
        cur = {f'c{j}': int(v) for j, v in enumerate(cc) if v > 0}
        add(f'random-{i}-k{k}', ref, cur)
    return cases


def classification_cases(rng):
    cases = []
    for i, n in enumerate([7, 50, 400, 3000]):
        y = rng.integers(0, 2, n)
        score = np.clip(rng.normal(0.35 + 0.3 * y, 0.25), 0, 1)
        if i == 1:
            score = np.round(score, 1)  # ties in scores
        pred = (score >= 0.5).astype(int)
        tp = float(np.sum((pred == 1) & (y == 1)))
        fp = float(np.sum((pred == 1) & (y == 0)))
        fn = float(np.sum((pred == 0) & (y == 1)))
        tn = float(np.sum((pred == 0) & (y == 0)))
        per_class = {}
        for cls, (ctp, cfp, cfn) in {'1': (tp, fp, fn), '0': (tn, fn, fp)}.items():
            prec = ctp / (ctp + cfp) if ctp + cfp > 0 else 0.0
            rec = ctp / (ctp + cfn) if ctp + cfn > 0 else 0.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
            per_class[cls] = {'precision': prec, 'recall': rec, 'f1': f1}
        # ROC AUC by the Mann-Whitney rank formula (what sklearn's trapezoid gives).
        ranks = stats.rankdata(score)
        n_pos, n_neg = int(y.sum()), int(n - y.sum())
        auc = (ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
        eps = np.finfo(np.float64).eps
        p = np.clip(score, eps, 1 - eps)
        log_loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        brier = float(np.mean((score - y) ** 2))
        # ECE: 10 equal-width bins on the positive-class score, [0,0.1), ..., [0.9,1.0].
        bins = np.minimum((score * 10).astype(int), 9)
        ece = 0.0
        for b in range(10):
            m = bins == b
            if m.any():
                ece += m.sum() / n * abs(y[m].mean() - score[m].mean())
        cases.append({
            'id': f'binary-{n}', 'y_true': y.tolist(), 'score': [float(s) for s in score],
            'threshold': 0.5,
            'accuracy': float(np.mean(pred == y)), 'per_class': per_class,
            'macro_f1': float(np.mean([per_class[c]['f1'] for c in per_class])),
            'macro_precision': float(np.mean([per_class[c]['precision'] for c in per_class])),
            'macro_recall': float(np.mean([per_class[c]['recall'] for c in per_class])),
            'roc_auc': float(auc), 'log_loss': log_loss, 'brier': brier, 'ece': float(ece),
            'confusion': {'tp': tp, 'fp': fp, 'fn': fn, 'tn': tn},
        })
    # Multiclass labels (accuracy / per-class precision, recall, F1 / macro).
    for i, (n, k) in enumerate([(30, 3), (1000, 5)]):
        y = rng.integers(0, k, n)
        pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
        per_class = {}
        for cls in range(k):
            ctp = float(np.sum((pred == cls) & (y == cls)))
            cfp = float(np.sum((pred == cls) & (y != cls)))
            cfn = float(np.sum((pred != cls) & (y == cls)))
            prec = ctp / (ctp + cfp) if ctp + cfp > 0 else 0.0
            rec = ctp / (ctp + cfn) if ctp + cfn > 0 else 0.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
            per_class[str(cls)] = {'precision': prec, 'recall': rec, 'f1': f1}
        # Probabilities: a softmax of noisy scores favouring the true class.
        logits = rng.normal(0, 1, (n, k))
        logits[np.arange(n), y] += 1.0
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        eps = np.finfo(np.float64).eps
        p_true = np.clip(proba[np.arange(n), y], eps, 1 - eps)
        ovr = []
        for cls in range(k):
            yy = (y == cls).astype(int)
            ranks = stats.rankdata(proba[:, cls])
            npos = yy.sum()
            ovr.append((ranks[yy == 1].sum() - npos * (npos + 1) / 2) / (npos * (n - npos)))
        cases.append({
            'id': f'multiclass-{n}-{k}', 'y_true': [str(v) for v in y], 'y_pred': [str(v) for v in pred],
            'labels': [str(c) for c in range(k)], 'proba': proba.tolist(),
            'log_loss': float(-np.mean(np.log(p_true))), 'roc_auc_ovr_macro': float(np.mean(ovr)),
            'accuracy': float(np.mean(pred == y)), 'per_class': per_class,
            'macro_f1': float(np.mean([v['f1'] for v in per_class.values()])),
            'macro_precision': float(np.mean([v['precision'] for v in per_class.values()])),
            'macro_recall': float(np.mean([v['recall'] for v in per_class.values()])),
        })
    return cases


def regression_cases(rng):
    cases = []
    for n in [1, 5, 200, 5000]:
        y = rng.normal(10, 3, n)
        yhat = y + rng.normal(0.2, 1, n)
        err = yhat - y
        eps = np.finfo(np.float64).eps
        ss_res = float(np.sum((y - yhat) ** 2))
        ss_tot = float(np.sum((y - y.mean()) ** 2))
        cases.append({
            'id': f'regression-{n}', 'y_true': y.tolist(), 'y_pred': yhat.tolist(),
            'mae': float(np.mean(np.abs(err))), 'rmse': float(np.sqrt(np.mean(err ** 2))),
            # sklearn's MAPE: mean(|y - yhat| / max(|y|, eps)), a fraction (not %).
            'mape': float(np.mean(np.abs(err) / np.maximum(np.abs(y), eps))),
            'r2': None if n < 2 or ss_tot == 0 else 1 - ss_res / ss_tot,
        })
    return cases


def stream_cases():
    """Streams from the examples in River's docstrings, rebuilt with Python's own RNG, with the
    detection indices those docstrings print. Our detectors must find the same indices."""
    rng = random.Random(12345)
    two_regimes = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    rng = random.Random(42)
    error_rise = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    assert two_regimes[1023] == 4 and two_regimes[1006] == 5, 'stream differs from River docstring'
    return [
        {'detector': 'adwin', 'stream': two_regimes, 'drift_indices': [1023],
         'source': 'river.drift.ADWIN docstring: Change detected at index 1023, input value: 4'},
        {'detector': 'page_hinkley', 'stream': two_regimes, 'drift_indices': [1006],
         'source': 'river.drift.PageHinkley docstring: Change detected at index 1006, input value: 5'},
        {'detector': 'ddm', 'stream': error_rise, 'drift_indices': [1334],
         'first_warning_index': 1084, 'first_warning_after_drift_index': 1492,
         'source': 'river.drift.binary.DDM docstring: warning at 1084, change at 1334, warning at 1492'},
    ]


def write(name, payload):
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump({'generator': 'scripts/detectors/gen-fixtures.py', 'seed': SEED,
                   'scipy': scipy.__version__, 'numpy': np.__version__, 'cases': payload},
                  f, separators=(',', ':'), allow_nan=False)
        f.write('\n')
    print(f'{name}: {len(payload)} cases, {os.path.getsize(path) / 1e6:.2f} MB')


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    write('numeric-cases.json', numeric_cases(rng))
    write('numeric-large-cases.json', large_cases(rng))
    write('kstwo-sf.json', kstwo_grid(rng))
    write('categorical-cases.json', categorical_cases(rng))
    write('classification-cases.json', classification_cases(rng))
    write('regression-cases.json', regression_cases(rng))
    write('stream-cases.json', stream_cases())
    # A generator of its own, so adding edge cases never reshuffles the cases above.
    edge_rng = np.random.default_rng(SEED + 16)
    write('edge-cases.json', edge_cases(edge_rng))
    write('edge-large-cases.json', edge_large_cases(edge_rng))


if __name__ == '__main__':
    main()
