#!/usr/bin/env python3
"""Reference implementation of detectors/estimation/ and the fixtures the TypeScript matches.

    python3 scripts/estimation/gen-fixtures.py

Needs numpy, scipy and scikit-learn (isotonic calibration is checked against sklearn's
IsotonicRegression). scikit-learn comes from Debian (`apt-get install python3-sklearn`), which
installs it for Debian's /usr/bin/python3: when the python3 on PATH cannot import sklearn, the
script re-runs itself with /usr/bin/python3. Seeded and deterministic; it writes
test/fixtures/estimation/*.json. Inputs are stored in the fixtures (the TypeScript side cannot
reproduce numpy's generator), rounded so files stay small; rounding makes ties, which are part
of what is tested.

Everything here is written from the definitions in the TypeScript modules' headers, with
numpy/scipy/sklearn doing the numerical work (sklearn IsotonicRegression for calibration,
numpy.linalg.eigh for PCA, numpy.linalg.solve for the ridge fits, sklearn roc_auc_score for
realized AUC), so the two implementations share definitions, not code.
"""
import json
import math
import os
import sys

try:
    import numpy as np
    from sklearn.isotonic import IsotonicRegression
    from sklearn.metrics import roc_auc_score
except ImportError:
    if sys.executable != '/usr/bin/python3' and os.path.exists('/usr/bin/python3'):
        os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)
    raise

import scipy
import sklearn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'estimation')
SEED = 20261215
CHUNKS = 20
SIGMAS = 3.0


def fl(x):
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return None
    return x


def flist(a):
    return [fl(v) for v in np.asarray(a, dtype=np.float64).ravel()]


# ---------------------------------------------------------------- isotonic

def isotonic_cases(rng):
    cases = []

    def add(cid, x, y, w=None):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        ir = IsotonicRegression(out_of_bounds='clip').fit(x, y, sample_weight=w)
        lo, hi = x.min(), x.max()
        q = np.concatenate([np.linspace(lo - 0.1, hi + 0.1, 41), x[:20]])
        cases.append({
            'id': cid, 'x': flist(x), 'y': flist(y), 'w': None if w is None else flist(w),
            'x_thresholds': flist(ir.X_thresholds_), 'y_thresholds': flist(ir.y_thresholds_),
            'query': flist(q), 'predicted': flist(ir.predict(q)),
        })

    add('single-point', [0.3], [1.0])
    add('two-equal-x', [0.5, 0.5], [0.0, 1.0])
    add('already-increasing', [0.1, 0.2, 0.3, 0.4], [0.0, 0.2, 0.5, 1.0])
    add('decreasing', [0.1, 0.2, 0.3, 0.4, 0.5], [1.0, 0.8, 0.6, 0.4, 0.2])
    add('constant-y', rng.uniform(0, 1, 30), np.ones(30))
    add('ties-in-x', np.round(rng.uniform(0, 1, 200), 1), rng.integers(0, 2, 200))
    add('weighted', rng.uniform(0, 1, 60), rng.integers(0, 2, 60), rng.uniform(0.1, 3, 60))
    add('unsorted-continuous', rng.normal(0, 1, 300), rng.normal(0, 1, 300) + np.linspace(0, 2, 300))
    for k, n in enumerate([50, 500, 3000]):
        s = rng.uniform(0, 1, n)
        y = (rng.uniform(0, 1, n) < s ** 1.5).astype(float)
        add(f'binary-labels-{n}', np.round(s, 4 if k < 2 else 3), y)
    return cases


# ---------------------------------------------------------------- CBPE

def grid_for(columns, cells):
    allv = np.concatenate([np.asarray(c, dtype=np.float64) for c in columns])
    lo, hi = allv.min(), allv.max()
    if lo >= 0 and hi <= 1:
        return 0.0, 1.0, cells
    if hi == lo:
        return lo, lo + 1.0, cells
    return lo, hi, cells


def clamp(grid, s):
    lo, hi, _ = grid
    return np.minimum(np.maximum(s, lo), hi)


def cell_of(grid, s):
    lo, hi, cells = grid
    c = np.floor(((clamp(grid, s) - lo) / (hi - lo)) * cells).astype(np.int64)
    return np.minimum(c, cells - 1)


def histogram(grid, s, mask):
    s = clamp(grid, np.asarray(s, dtype=np.float64))[mask]
    c = cell_of(grid, s)
    cells = grid[2]
    counts = np.zeros(cells)
    sums = np.zeros(cells)
    for ci, si in zip(c, s):  # sequential sums, the order a row scan adds them
        counts[ci] += 1
        sums[ci] += si
    return counts, sums


class Calibrator:
    def __init__(self, x, y):
        self.ir = IsotonicRegression(out_of_bounds='clip').fit(np.asarray(x, float), np.asarray(y, float))

    def __call__(self, t):
        return self.ir.predict(np.atleast_1d(np.asarray(t, dtype=np.float64)))

    @property
    def knots(self):
        return self.ir.X_thresholds_


def knot_cells(grid, cal):
    lo, hi, cells = grid
    width = (hi - lo) / cells
    out = set()
    for x in cal.knots:
        c = int(cell_of(grid, np.array([x]))[0])
        out.add(c)
        off = (float(clamp(grid, x)) - lo) / width - c
        if off < 1e-9 and c > 0:
            out.add(c - 1)
        if off > 1 - 1e-9 and c < cells - 1:
            out.add(c + 1)
    return out


def expected_positives(grid, cal, counts, sums):
    lo, hi, cells = grid
    width = (hi - lo) / cells
    per = np.zeros(cells)
    nz = counts > 0
    if nz.any():
        per[nz] = counts[nz] * cal(sums[nz] / counts[nz])
    bound = 0.0
    for c in knot_cells(grid, cal):
        if counts[c] > 0:
            start = lo + c * width
            end = hi if c == cells - 1 else start + width
            bound += counts[c] * float(cal(end)[0] - cal(start)[0])
    return per, float(per.sum()), bound


def ratio(a, b):
    return a / b if b > 0 else 0.0


def confusion_metrics(counts, n, binary):
    if binary:
        tp, fp, fn, tn = counts[0]
        correct = tp + tn
    else:
        correct = sum(c[0] for c in counts)
    k = len(counts)
    prec = sum(ratio(tp, tp + fp) for tp, fp, fn, tn in counts) / k
    rec = sum(ratio(tp, tp + fn) for tp, fp, fn, tn in counts) / k
    f1 = sum(ratio(2 * tp, 2 * tp + fp + fn) for tp, fp, fn, tn in counts) / k
    return {'accuracy': correct / n, 'precision': prec, 'recall': rec, 'f1': f1}


def binned_auc(pos, neg):
    pos = np.asarray(pos, float)
    neg = np.asarray(neg, float)
    P, N = pos.sum(), neg.sum()
    if not (P > 0 and N > 0):
        return None, None
    below = np.concatenate([[0.0], np.cumsum(neg)[:-1]])
    return float(np.sum(pos * (below + neg / 2)) / (P * N)), float(np.sum(pos * neg) / (2 * P * N))


def realized(scores, pred, act, classes, binary, s0=0, s1=None):
    s1 = len(pred) if s1 is None else s1
    tracked = [0] if binary else list(range(len(classes)))
    counts, aucs = [], []
    for col, k in enumerate(tracked):
        p = pred[s0:s1] == k
        a = act[s0:s1] == k
        counts.append((np.sum(p & a), np.sum(p & ~a), np.sum(~p & a), np.sum(~p & ~a)))
        if a.all() or (~a).all():
            aucs.append(None)
        else:
            aucs.append(roc_auc_score(a.astype(int), scores[col][s0:s1]))
    m = confusion_metrics([tuple(float(v) for v in c) for c in counts], s1 - s0, binary)
    m['roc_auc'] = None if any(v is None for v in aucs) else float(np.mean(aucs))
    return m


def spread(ref_value, n, fn):
    m = n // CHUNKS
    vals = [fn(j * m, (j + 1) * m) for j in range(CHUNKS)]
    vals = [v for v in vals if v is not None]
    if len(vals) < 2:
        return None
    return {'referenceValue': ref_value, 'chunkRows': m, 'chunkStd': float(np.std(vals, ddof=1)),
            'chunks': len(vals), 'referenceRows': n}


def bands(sp, value, n, extra=0.0):
    if sp is None:
        return None
    sd = sp['chunkStd'] * math.sqrt(sp['chunkRows'] / n)
    half_ref = SIGMAS * math.hypot(sd * math.sqrt(1 + n / sp['referenceRows']), extra)
    out = {'referenceLower': sp['referenceValue'] - half_ref, 'referenceUpper': sp['referenceValue'] + half_ref}
    if value is not None:
        half = SIGMAS * math.hypot(sd, extra)
        out['estimatedLower'] = value - half
        out['estimatedUpper'] = value + half
    return out


def jackknife_std(values):
    v = [x for x in values if x is not None]
    k = len(v)
    if k < 2:
        return 0.0
    return math.sqrt((k - 1) / k * float(np.sum((np.asarray(v) - np.mean(v)) ** 2)))


def fit_calibrators(ref, tracked, min_group, keep):
    cals = []
    for col, k in enumerate(tracked):
        s = np.asarray(ref['scores'][col], float)[keep]
        y = (ref['act'][keep] == k).astype(float)
        g = ref['pred'][keep] == k
        pooled = None
        entry = {}
        for name, mask in (('predicted', g), ('other', ~g)):
            if mask.sum() >= min_group:
                entry[name] = Calibrator(s[mask], y[mask])
                entry[name + 'Source'] = 'group'
            else:
                pooled = pooled or Calibrator(s, y)
                entry[name] = pooled
                entry[name + 'Source'] = 'pooled'
        cals.append(entry)
    return cals


def evaluate(grid, cals, tracked, win, binary):
    n = len(win['pred'])
    counts, hists, grid_err, aucs, tie = [], [], 0.0, [], 0.0
    for col, k in enumerate(tracked):
        s = np.asarray(win['scores'][col], float)
        g = win['pred'] == k
        hp = histogram(grid, s, g)
        ho = histogram(grid, s, ~g)
        hists.append({'predicted': {'counts': flist(hp[0]), 'sumScores': flist(hp[1])},
                      'other': {'counts': flist(ho[0]), 'sumScores': flist(ho[1])}})
        tp_cells, tp, b1 = expected_positives(grid, cals[col]['predicted'], *hp)
        fn_cells, fn, b2 = expected_positives(grid, cals[col]['other'], *ho)
        npred, noth = float(g.sum()), float((~g).sum())
        counts.append((tp, npred - tp, fn, noth - fn))
        grid_err += b1 + b2
        pos = tp_cells + fn_cells
        neg = hp[0] + ho[0] - pos
        auc, tb = binned_auc(pos, neg)
        aucs.append(auc)
        if tb is not None:
            tie = max(tie, tb)
    m = confusion_metrics(counts, n, binary)
    m['roc_auc'] = None if any(a is None for a in aucs) else float(np.mean(aucs))
    return m, counts, hists, grid_err, tie


def cbpe_case(cid, classes, ref, win, cells=1000, min_group=50):
    """ref/win: dict(scores=[columns], pred, act)."""
    binary = len(classes) == 2
    tracked = [0] if binary else list(range(len(classes)))
    grid = grid_for(ref['scores'], cells)
    n_ref = len(ref['pred'])
    cals = fit_calibrators(ref, tracked, min_group, np.ones(n_ref, bool))
    m_rows = n_ref // CHUNKS
    jack = []
    for j in range(CHUNKS):
        keep = np.ones(n_ref, bool)
        keep[j * m_rows:(j + 1) * m_rows] = False
        jack.append(fit_calibrators(ref, tracked, min_group, keep))
    whole = realized(ref['scores'], ref['pred'], ref['act'], classes, binary)
    spreads = {}
    for metric in ['accuracy', 'precision', 'recall', 'f1', 'roc_auc']:
        if whole[metric] is None:
            continue
        sp = spread(whole[metric], n_ref,
                    lambda a, b, m=metric: realized(ref['scores'], ref['pred'], ref['act'], classes, binary, a, b)[m])
        if sp is not None:
            spreads[metric] = sp

    n = len(win['pred'])
    m, counts, hists, grid_err, tie = evaluate(grid, cals, tracked, win, binary)
    jack_values = [evaluate(grid, c, tracked, win, binary)[0] for c in jack]
    # Row-level CBPE (NannyML's): calibrate every row, no grid.
    row_counts, row_aucs = [], []
    for col, k in enumerate(tracked):
        s = np.asarray(win['scores'][col], float)
        g = win['pred'] == k
        sc = clamp(grid, s)
        p = np.where(g, cals[col]['predicted'].ir.predict(sc), cals[col]['other'].ir.predict(sc))
        row_counts.append((float(np.sum(p[g])), float(np.sum(1 - p[g])), float(np.sum(p[~g])), float(np.sum(1 - p[~g]))))
        order = np.argsort(sc, kind='stable')
        ss, pp = sc[order], p[order]
        uniq, start = np.unique(ss, return_index=True)
        gp = np.add.reduceat(pp, start)
        gn = np.add.reduceat(1 - pp, start)
        row_aucs.append(binned_auc(gp, gn)[0])
    row_m = confusion_metrics(row_counts, n, binary)
    row_m['roc_auc'] = float(np.mean(row_aucs))
    metrics = []
    for metric in ['accuracy', 'precision', 'recall', 'f1', 'roc_auc']:
        sp = spreads.get(metric)
        cal_std = jackknife_std([v[metric] for v in jack_values])
        b = bands(sp, m[metric], n, cal_std)
        metrics.append({'metric': metric, 'estimated': fl(m[metric]) if m[metric] is not None else None,
                        'rowLevel': fl(row_m[metric]), 'calibrationStd': cal_std, **({} if b is None else b)})
    # Realized AUC from labelled aggregates over the grid, and exact.
    real_binned, real_tie = [], 0.0
    for col, k in enumerate(tracked):
        s = np.asarray(win['scores'][col], float)
        a = win['act'] == k
        pc, _ = histogram(grid, s, a)
        nc, _ = histogram(grid, s, ~a)
        auc, tb = binned_auc(pc, nc)
        real_binned.append(auc)
        real_tie = max(real_tie, tb)
    exact = realized(win['scores'], win['pred'], win['act'], classes, binary)

    def pack(rows):
        return {'scores': [flist(c) for c in rows['scores']], 'predicted': [int(v) for v in rows['pred']],
                'actual': [int(v) for v in rows['act']]}

    def cal_json(c):
        return {'predicted': {'x': flist(c['predicted'].knots), 'y': flist(c['predicted'].ir.y_thresholds_)},
                'other': {'x': flist(c['other'].knots), 'y': flist(c['other'].ir.y_thresholds_)},
                'predictedSource': c['predictedSource'], 'otherSource': c['otherSource']}

    return {
        'id': cid, 'classes': classes, 'scoreCells': cells, 'minGroupRows': min_group,
        'reference': pack(ref), 'window': pack(win),
        'model': {
            'grid': {'lo': grid[0], 'hi': grid[1], 'cells': grid[2]},
            'calibrators': [cal_json(c) for c in cals],
            'jackknifeFirst': [cal_json(c) for c in jack[0]],
            'spreads': spreads,
        },
        'windowAggregates': {'count': n, 'classes': hists},
        'expectedCounts': [{'tp': c[0], 'fp': c[1], 'fn': c[2], 'tn': c[3]} for c in counts],
        'gridErrorShare': grid_err / n,
        'aucTieBound': tie,
        'metrics': metrics,
        'realized': {'rocAucBinned': float(np.mean(real_binned)), 'tieBound': real_tie,
                     **{k: fl(v) if v is not None else None for k, v in exact.items()}},
    }


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def binary_rows(rng, n, shift, threshold=0.5, decimals=4, concept=1.0):
    x = rng.normal(0, 1, (n, 3)) + shift
    logit = 1.2 * x[:, 0] - 0.8 * x[:, 1] + 0.4 * x[:, 2] - 0.3
    y = (rng.uniform(0, 1, n) < sigmoid(concept * logit)).astype(int)
    s = np.round(sigmoid(1.7 * (logit + 0.1 * x[:, 2]) + 0.2), decimals)
    pred = (s >= threshold).astype(int)
    # class index 0 is the positive class: y = 1 -> 0
    return {'scores': [s], 'pred': 1 - pred, 'act': 1 - y}


def multiclass_rows(rng, n, shift, k=3, rare=False):
    x = rng.normal(0, 1, (n, 3)) + shift
    B = np.array([[1.0, -0.5, 0.2], [-0.7, 0.9, 0.1], [0.1, 0.3, -1.1], [0.5, 0.5, 0.5]])[:k]
    logits = x @ B.T
    if rare:
        logits[:, k - 1] -= 2.5
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    u = rng.uniform(0, 1, n)
    act = (u[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)
    act = np.minimum(act, k - 1)
    ml = 1.4 * logits + rng.normal(0, 0.3, logits.shape)
    sc = np.round(np.exp(ml) / np.exp(ml).sum(axis=1, keepdims=True), 4)
    pred = np.argmax(sc, axis=1)
    return {'scores': [sc[:, j] for j in range(k)], 'pred': pred, 'act': act}


def cbpe_cases(rng):
    cases = []
    cases.append(cbpe_case('binary-covariate-shift', ['pos', 'neg'], binary_rows(rng, 2000, 0.0),
                           binary_rows(rng, 1500, np.array([0.6, -0.3, 0.0]))))
    cases.append(cbpe_case('binary-no-shift-3-decimals', ['pos', 'neg'], binary_rows(rng, 2000, 0.0, decimals=3),
                           binary_rows(rng, 1000, 0.0, decimals=3)))
    cases.append(cbpe_case('binary-threshold-0.3-coarse-grid', ['pos', 'neg'],
                           binary_rows(rng, 2000, 0.0, threshold=0.3), binary_rows(rng, 1200, np.array([0, 0.5, 0])),
                           cells=50))
    cases.append(cbpe_case('binary-concept-drift', ['pos', 'neg'], binary_rows(rng, 2000, 0.0),
                           binary_rows(rng, 1500, 0.0, concept=0.3)))
    cases.append(cbpe_case('multiclass-3-shift', ['a', 'b', 'c'], multiclass_rows(rng, 2400, 0.0),
                           multiclass_rows(rng, 1500, np.array([0.5, 0.0, -0.4]))))
    cases.append(cbpe_case('multiclass-4-rare-class-pooled', ['a', 'b', 'c', 'd'],
                           multiclass_rows(rng, 2400, 0.0, k=4, rare=True),
                           multiclass_rows(rng, 1500, np.array([0.0, 0.4, 0.0]), k=4, rare=True)))
    return cases


# ---------------------------------------------------------------- DLE (additive models)

def top_categories(values, max_cats):
    counts = {}
    for v in values:
        if v is not None:
            counts[v] = counts.get(v, 0) + 1
    return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_cats]]


def input_bins(col, bins=10, max_cats=20):
    if col['kind'] == 'numeric':
        v = np.asarray(col['values'], float)
        v = v[~np.isnan(v)]
        if len(v) == 0:
            return {'name': col['name'], 'kind': 'numeric', 'edges': [], 'centers': [0.0], 'scale': 1.0}
        e = np.quantile(v, np.linspace(0, 1, bins + 1))[1:-1]
        e = e[np.r_[True, e[1:] != e[:-1]]] if len(e) else e
        b = np.searchsorted(e, v, side='left')
        centers = [float(v[b == k].mean()) if np.any(b == k) else 0.0 for k in range(len(e) + 1)]
        std = float(v.std())
        return {'name': col['name'], 'kind': 'numeric', 'edges': [float(x) for x in e], 'centers': centers,
                'scale': std if std > 0 else 1.0}
    return {'name': col['name'], 'kind': 'categorical', 'categories': top_categories(col['values'], max_cats)}


def nbins(inp):
    return len(inp['edges']) + 2 if inp['kind'] == 'numeric' else len(inp['categories']) + 2


def bin_rows(inp, col):
    if inp['kind'] == 'numeric':
        v = np.asarray(col['values'], float)
        b = np.searchsorted(np.asarray(inp['edges'], float), v, side='left')
        b[np.isnan(v)] = len(inp['edges']) + 1
        return b
    cats = inp['categories']
    return np.array([len(cats) + 1 if v is None else (cats.index(v) if v in cats else len(cats))
                     for v in col['values']])


def nslopes(inp):
    return len(inp['edges']) + 1 if inp['kind'] == 'numeric' else 0


def design(inputs, cols):
    """The design matrix: intercept, then per input its level one-hots and its slope columns."""
    n = len(cols[0]['values'])
    lev, slo, p = [], [], 1
    for inp in inputs:
        lev.append(p)
        p += nbins(inp)
        slo.append(p)
        p += nslopes(inp)
    X = np.zeros((n, p))
    X[:, 0] = 1
    for j, inp in enumerate(inputs):
        b = bin_rows(inp, cols[j])
        X[np.arange(n), lev[j] + b] = 1
        if inp['kind'] == 'numeric':
            v = np.asarray(cols[j]['values'], float)
            ok = ~np.isnan(v)
            c = np.asarray(inp['centers'])[b[ok]]
            X[np.arange(n)[ok], slo[j] + b[ok]] = (v[ok] - c) / inp['scale']
    return X, lev, slo, p


def fit_additive(inputs, cols, targets, ridge=10.0):
    n = len(cols[0]['values'])
    X, lev, slo, p = design(inputs, cols)
    shares = [np.bincount(bin_rows(inp, cols[j]), minlength=nbins(inp)) / n for j, inp in enumerate(inputs)]
    D = np.eye(p) * ridge
    D[0, 0] = 0
    A = X.T @ X + D
    out = []
    for t in targets:
        theta = np.linalg.solve(A, X.T @ np.asarray(t, float))
        out.append({'intercept': float(theta[0]),
                    'coefficients': [flist(theta[lev[j]:lev[j] + nbins(inp)]) for j, inp in enumerate(inputs)],
                    'slopes': [flist(theta[slo[j]:slo[j] + nslopes(inp)]) for j, inp in enumerate(inputs)]})
    return out, shares


def window_terms(inputs, cols):
    n = len(cols[0]['values'])
    counts, sums, shares, devs = [], [], [], []
    for j, inp in enumerate(inputs):
        b = bin_rows(inp, cols[j])
        cnt = np.bincount(b, minlength=nbins(inp)).astype(float)
        counts.append(cnt)
        shares.append(cnt / n)
        if inp['kind'] == 'numeric':
            v = np.asarray(cols[j]['values'], float)
            ok = ~np.isnan(v)
            sm = np.bincount(b[ok], weights=v[ok], minlength=nslopes(inp))[:nslopes(inp)]
            sums.append(sm)
            devs.append((sm / n - shares[-1][:nslopes(inp)] * np.asarray(inp['centers'])) / inp['scale'])
        else:
            sums.append(np.zeros(0))
            devs.append(np.zeros(0))
    return counts, sums, shares, devs


def term(fit, j, shares, devs):
    return float(np.dot(shares[j], fit['coefficients'][j])) + float(np.dot(devs[j], fit['slopes'][j]))


def json_col(col):
    if col['kind'] == 'numeric':
        return {'name': col['name'], 'kind': 'numeric', 'values': flist(col['values'])}
    return dict(col)


def regression_rows(rng, n, shift):
    x1 = np.round(rng.normal(shift, 1, n), 3)
    x2 = np.round(rng.uniform(0, 4, n), 3)
    x2m = x2.copy()
    x2m[rng.uniform(0, 1, n) < 0.05] = np.nan
    cats = np.array(['north', 'south', 'east', 'west', 'rare'])
    c = rng.choice(cats, n, p=[0.4, 0.3, 0.15, 0.14, 0.01]).tolist()
    c = [None if rng.uniform() < 0.03 else v for v in c]
    noise_sd = 0.5 + 0.8 * np.abs(x1) + np.array([0.6 if v == 'east' else 0.0 for v in c])
    y = 2 * x1 + 0.5 * x2 + rng.normal(0, 1, n) * noise_sd
    yhat = np.round(2 * x1 + 0.5 * x2 + 0.1, 4)
    feats = [{'name': 'x1', 'kind': 'numeric', 'values': x1},
             {'name': 'x2', 'kind': 'numeric', 'values': x2m},
             {'name': 'region', 'kind': 'categorical', 'values': c}]
    return feats, yhat, np.round(y, 4)


def dle_case(cid, rng, shift):
    f_ref, p_ref, y_ref = regression_rows(rng, 2000, 0.0)
    f_win, p_win, _ = regression_rows(rng, 1000, shift)
    cols = f_ref + [{'name': '__prediction__', 'kind': 'numeric', 'values': p_ref}]
    inputs = [input_bins(c) for c in cols]
    ae = np.abs(y_ref - p_ref)
    se = (y_ref - p_ref) ** 2
    (fa, fs), shares = fit_additive(inputs, cols, [ae, se])
    n_ref = len(y_ref)
    m_rows = n_ref // CHUNKS
    jack = []
    for j in range(CHUNKS):
        keep = np.ones(n_ref, bool)
        keep[j * m_rows:(j + 1) * m_rows] = False
        sub = [dict(c, values=(np.asarray(c['values'], float)[keep] if c['kind'] == 'numeric'
                               else [v for v, k in zip(c['values'], keep) if k])) for c in cols]
        jack.append(fit_additive(inputs, sub, [ae[keep], se[keep]])[0])
    sp_mae = spread(float(np.mean(ae)), n_ref, lambda a, b: float(np.mean(ae[a:b])))
    sp_rmse = spread(float(math.sqrt(np.mean(se))), n_ref, lambda a, b: float(math.sqrt(np.mean(se[a:b]))))
    wcols = f_win + [{'name': '__prediction__', 'kind': 'numeric', 'values': p_win}]
    counts, sums, wshares, devs = window_terms(inputs, wcols)
    n = len(p_win)

    def mean_of(fit):
        return fit['intercept'] + sum(term(fit, j, wshares, devs) for j in range(len(inputs)))

    mae = max(0.0, mean_of(fa))
    rmse = math.sqrt(max(0.0, mean_of(fs)))
    mae_std = jackknife_std([max(0.0, mean_of(a)) for a, _ in jack])
    rmse_std = jackknife_std([math.sqrt(max(0.0, mean_of(q))) for _, q in jack])
    contrib = [term(fa, j, wshares, devs) - float(np.dot(shares[j], fa['coefficients'][j])) for j in range(len(inputs))]
    return {
        'id': cid,
        'reference': {'features': [json_col(c) for c in f_ref], 'predictions': flist(p_ref), 'actual': flist(y_ref)},
        'window': {'features': [json_col(c) for c in f_win], 'predictions': flist(p_win)},
        'inputs': inputs,
        'absoluteError': fa, 'squaredError': fs,
        'referenceShares': [flist(s) for s in shares],
        'spreads': {'mae': sp_mae, 'rmse': sp_rmse},
        'windowBinCounts': [flist(c) for c in counts],
        'windowBinSums': [flist(c) for c in sums],
        'jackknifeFirst': {'absoluteError': jack[0][0], 'squaredError': jack[0][1]},
        'mae': {'estimated': mae, 'modelStd': mae_std, **bands(sp_mae, mae, n, mae_std)},
        'rmse': {'estimated': rmse, 'modelStd': rmse_std, **bands(sp_rmse, rmse, n, rmse_std)},
        'maeContributions': contrib,
    }


# ---------------------------------------------------------------- PCA reconstruction

def encode_columns(cols, max_cats=100):
    enc, Z = [], []
    for c in cols:
        if c['kind'] == 'numeric':
            v = np.asarray(c['values'], float)
            pres = v[~np.isnan(v)]
            mean = float(pres.mean()) if len(pres) else 0.0
            std = float(pres.std()) if len(pres) else 0.0
            scale = std if std > 0 else 1.0
            enc.append({'name': c['name'], 'kind': 'numeric', 'mean': mean, 'scale': scale})
        else:
            labels = ['__missing__' if v is None else v for v in c['values']]
            keep = top_categories(labels, max_cats)
            n = len(labels)
            freq = {k: labels.count(k) / n for k in keep}
            f = np.array([freq.get(v, 0.0) for v in labels])
            std = float(f.std())
            enc.append({'name': c['name'], 'kind': 'categorical', 'frequencies': freq, 'mean': float(f.mean()),
                        'scale': std if std > 0 else 1.0})
    return enc


def encode(enc, cols):
    Z = []
    for e, c in zip(enc, cols):
        if e['kind'] == 'numeric':
            v = np.asarray(c['values'], float)
            z = (v - e['mean']) / e['scale']
            z[np.isnan(v)] = 0.0
        else:
            z = np.array([(e['frequencies'].get('__missing__' if v is None else v, 0.0) - e['mean']) / e['scale']
                          for v in c['values']])
        Z.append(z)
    return np.column_stack(Z)


def pca_fit(Z, threshold=0.65):
    m = Z.mean(axis=0)
    C = (Z - m).T @ (Z - m) / len(Z)
    vals, vecs = np.linalg.eigh(C)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    ratio = np.cumsum(vals) / vals.sum()
    q = int(np.searchsorted(ratio, threshold, side='right') + 1)
    q = min(q, len(vals))
    W = vecs[:, :q]
    P = np.eye(len(vals)) - W @ W.T
    return m, C, vals, q, P


def mse_of(Zc, m, P):
    D = Zc - m
    return float(np.mean(np.sum((D @ P) * D, axis=1)))


def pca_rows(rng, n, rho, missing=0.0):
    z = rng.normal(0, 1, (n, 2))
    x1 = z[:, 0]
    x2 = rho * z[:, 0] + math.sqrt(1 - rho ** 2) * z[:, 1]
    f = rng.normal(0, 1, n)
    x3 = 0.7 * f + 0.7 * rng.normal(0, 1, n)
    x4 = 2 + 3 * (0.6 * f + 0.8 * rng.normal(0, 1, n))
    x5 = rng.exponential(1.0, n)
    x1 = np.round(x1, 4)
    x2 = np.round(x2, 4)
    if missing:
        x5[rng.uniform(0, 1, n) < missing] = np.nan
    cats = ['a', 'b', 'c', 'd']
    cat = [cats[int(i)] if u > 0.02 else None for i, u in zip(np.minimum((np.abs(f) * 2).astype(int), 3), rng.uniform(0, 1, n))]
    return [{'name': 'x1', 'kind': 'numeric', 'values': x1}, {'name': 'x2', 'kind': 'numeric', 'values': x2},
            {'name': 'x3', 'kind': 'numeric', 'values': np.round(x3, 4)},
            {'name': 'x4', 'kind': 'numeric', 'values': np.round(x4, 4)},
            {'name': 'x5', 'kind': 'numeric', 'values': np.round(x5, 4)},
            {'name': 'segment', 'kind': 'categorical', 'values': cat}]


def pca_case(cid, rng, rho_win, threshold=0.65):
    ref = pca_rows(rng, 2000, 0.8, missing=0.04)
    win = pca_rows(rng, 1000, rho_win, missing=0.04)
    enc = encode_columns(ref)
    Z = encode(enc, ref)
    m, C, vals, q, P = pca_fit(Z, threshold)
    n_ref = len(Z)
    ref_err = mse_of(Z, m, P)
    sp = spread(ref_err, n_ref, lambda a, b: mse_of(Z[a:b], m, P))
    D = Z - m
    row_std = float(np.std(np.sum((D @ P) * D, axis=1), ddof=1))
    observed = sp['chunkStd']
    sp = dict(sp, chunkStd=max(observed, row_std / math.sqrt(sp['chunkRows'])))
    Zw = encode(enc, win)
    n = len(Zw)
    err = mse_of(Zw, m, P)
    M = (Zw - m).T @ (Zw - m) / n
    contrib = np.diag(P @ M @ P) - np.diag(P @ C @ P)
    d = Z.shape[1]
    s1 = Zw.sum(axis=0)
    S2 = Zw.T @ Zw
    packed = [S2[i, j] for i in range(d) for j in range(i, d)]
    b = bands(sp, err, n)
    return {
        'id': cid, 'varianceThreshold': threshold,
        'reference': [json_col(c) for c in ref], 'window': [json_col(c) for c in win],
        'columns': enc, 'center': flist(m), 'eigenvalues': flist(vals), 'kept': q,
        'projector': [flist(r) for r in P], 'spread': sp, 'observedChunkStd': observed, 'rowStd': row_std,
        'referenceContributions': flist(np.diag(P @ C @ P)),
        'moments': {'count': n, 'sum': flist(s1), 'sumOfProducts': flist(packed)},
        'error': err, 'band': {'lower': b['referenceLower'], 'upper': b['referenceUpper']},
        'alert': bool(err < b['referenceLower'] or err > b['referenceUpper']),
        'contributions': flist(contrib),
    }


def eigen_cases(rng):
    cases = []

    def add(cid, A):
        A = np.asarray(A, float)
        A = (A + A.T) / 2
        vals, vecs = np.linalg.eigh(A)
        order = np.argsort(vals)[::-1]
        cases.append({'id': cid, 'matrix': [flist(r) for r in A], 'values': flist(vals[order]),
                      'vectors': [flist(vecs[:, i]) for i in order]})

    add('diagonal', np.diag([3.0, 1.0, 2.0]))
    add('2x2', [[2.0, 1.0], [1.0, 2.0]])
    add('1x1', [[5.0]])
    add('zero-block', [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    for d in [3, 5, 8, 12, 20]:
        X = rng.normal(0, 1, (200, d)) @ rng.normal(0, 1, (d, d))
        add(f'covariance-{d}', np.cov(X.T))
    add('near-degenerate', np.diag([1.0, 1.0 + 1e-9, 2.0]) + 1e-6 * np.ones((3, 3)))
    add('indefinite', rng.normal(0, 1, (6, 6)))
    return cases


# ---------------------------------------------------------------- attribution

def attribution_cases():
    def shares(values, kind):
        w = {f: abs(v) for f, v in values.items()}
        if kind == 'performance':
            inc = {f: max(0.0, v) for f, v in values.items()}
            if any(v > 0 for v in inc.values()):
                w = inc
        t = sum(w.values())
        return {f: (v / t if t > 0 else 1 / len(w)) for f, v in w.items()}

    def case(cid, evidence, top=5):
        basis = [e for e in evidence if e['alert']] or evidence
        feats = sorted({f for e in evidence for f in e['values']})
        score = {f: 0.0 for f in feats}
        for e in basis:
            for f, s in shares(e['values'], e['kind']).items():
                score[f] += s / len(basis)
        ranked = sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return {'id': cid, 'evidence': [{'kind': e['kind'], 'alert': e['alert'],
                                         'values': [{'feature': f, 'value': v} for f, v in e['values'].items()]}
                                        for e in evidence],
                'top': top, 'basis': [e['kind'] for e in basis],
                'ranked': [{'feature': f, 'score': s} for f, s in ranked]}

    eff = {'x1': 0.02, 'x2': 0.01, 'x3': 0.15, 'x4': 0.0, 'x5': 0.03, 'x6': 0.04}
    rec = {'x1': 0.9, 'x2': 0.85, 'x3': 0.05, 'x4': -0.02, 'x5': 0.01, 'x6': 0.0}
    perf = {'x1': 0.01, 'x2': -0.004, 'x3': 0.02, 'x4': 0.0, 'x5': 0.0, 'x6': 0.003}
    return [
        case('reconstruction-alerted', [{'kind': 'effect', 'alert': False, 'values': eff},
                                        {'kind': 'reconstruction', 'alert': True, 'values': rec},
                                        {'kind': 'performance', 'alert': False, 'values': perf}]),
        case('two-alerted', [{'kind': 'effect', 'alert': True, 'values': eff},
                             {'kind': 'performance', 'alert': True, 'values': perf}], top=3),
        case('none-alerted', [{'kind': 'effect', 'alert': False, 'values': eff},
                              {'kind': 'reconstruction', 'alert': False, 'values': rec},
                              {'kind': 'performance', 'alert': False, 'values': {k: -abs(v) for k, v in perf.items()}}]),
        case('all-zero', [{'kind': 'effect', 'alert': True, 'values': {'a': 0.0, 'b': 0.0}}]),
    ]


def write(name, cases):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump({'generator': 'scripts/estimation/gen-fixtures.py', 'numpy': np.__version__,
                   'scipy': scipy.__version__, 'sklearn': sklearn.__version__, 'cases': cases},
                  f, separators=(',', ':'))
        f.write('\n')
    print(f'{path}: {len(cases)} cases, {os.path.getsize(path)} bytes')


def main():
    rng = np.random.default_rng(SEED)
    write('isotonic-cases.json', isotonic_cases(rng))
    write('cbpe-cases.json', cbpe_cases(rng))
    write('dle-cases.json', [dle_case('regression-shift-x1', rng, 0.7), dle_case('regression-no-shift', rng, 0.0)])
    write('reconstruction-cases.json', [pca_case('correlation-flip', rng, -0.8), pca_case('stationary', rng, 0.8),
                                        pca_case('threshold-0.9', rng, 0.3, threshold=0.9)])
    write('eigen-cases.json', eigen_cases(rng))
    write('attribution-cases.json', attribution_cases())


if __name__ == '__main__':
    main()
