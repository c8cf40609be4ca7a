#!/usr/bin/env python3
"""Reference values for retune/promotion, from scipy/numpy (never used at run time).

Writes test/fixtures/retune/promotion.json:
  mcnemar:   [{b, c, method, statistic, p}]   rule: exact binomial if b + c < 25, else chi2 with
             continuity correction (|b - c| - 1)^2 / (b + c) on 1 df
  mcnemarNoExact: the same with the exact threshold at 0 (b = c = 0 has no discordant rows: p = 1)
  binom:     [{k, n, p}]        scipy.stats.binomtest(k, n, 0.5).pvalue
  binomUpper:[{k, n, p}]        scipy.stats.binomtest(k, n, 0.5, alternative='greater').pvalue
  chi2sf:    [{x, p}]           scipy.stats.chi2.sf(x, 1)
  normal:    [{p, z}], [{z, sf}] scipy.stats.norm.isf / norm.sf
  t:         [{t, df, sf}], [{p, df, isf}]  scipy.stats.t.sf / t.isf
  tangoPublished: Tango's asymptotic score intervals printed in the literature (ratesci's tests:
             Tango 1998, Agresti & Min 2005, Fagerland et al. 2014, Tang 2010, Chang 2024)
  tango:     [{b, c, n, margin, alpha, continuity, z, p, lower}] Tango's score at the margin (plain,
             and with 1 taken off c - b - n margin as the gate does), its one-sided p-value and the
             one-sided (1 - alpha) lower bound, solved with scipy.optimize.brentq
  pairedT:   [{d, margin, alpha, t, p, lower}]  scipy.stats.ttest_1samp(d, margin,
             alternative='greater') and its confidence_interval(1 - alpha).low
  rmse:      [{e1, e2, margin, alpha, estimate, se, t, p, lower}]  delta-method linearisation in numpy,
             tail and quantile from scipy.stats.t
Run: python3 scripts/retune/gen-promotion-fixtures.py
"""
import json
import math
import pathlib

import numpy as np
import scipy
from scipy import optimize, stats

EXACT_BELOW = 25


def mcnemar(b, c, exact_below=EXACT_BELOW):
    n = b + c
    if n < exact_below or n == 0:
        return {"b": b, "c": c, "method": "exact", "statistic": min(b, c),
                "p": float(stats.binomtest(b, n, 0.5).pvalue) if n > 0 else 1.0}
    x = (abs(b - c) - 1) ** 2 / n
    return {"b": b, "c": c, "method": "chi2-cc", "statistic": x, "p": float(stats.chi2.sf(x, 1))}


def tango_score(b, c, n, d, continuity=0):
    """Tango (1998): x12 = c (challenger-only right), x21 = b (champion-only right). `continuity`
    is subtracted from the numerator (1 = half the step of c - b: the upper tail of the count)."""
    B = -c - b + (2 * n - c + b) * d
    C = -b * d * (1 - d)
    p21 = (math.sqrt(max(0.0, B * B - 8 * n * C)) - B) / (4 * n)
    return (c - b - n * d - continuity) / math.sqrt(n * (2 * p21 + d * (1 - d)))


def tango(b, c, n, margin, alpha, continuity):
    z_alpha = float(stats.norm.isf(alpha))
    top = (c - b - continuity) / n
    if b == c == 0 and continuity == 0:
        # The score is 0/0 at 0 (no discordant rows): bracket just below it. The bound has the
        # closed form -z^2 / (n + z^2), checked here; with no margin there is no evidence, p = 1.
        lower = optimize.brentq(lambda d: tango_score(b, c, n, d) - z_alpha, -1 + 1e-13, -1e-9, xtol=1e-15)
        assert abs(lower + z_alpha ** 2 / (n + z_alpha ** 2)) < 1e-12
    else:
        lower = optimize.brentq(lambda d: tango_score(b, c, n, d, continuity) - z_alpha, -1 + 1e-13, top,
                                xtol=1e-15, rtol=1e-15)
    if b == c == 0 and margin == 0:
        z, p = None, 1.0
    else:
        z = tango_score(b, c, n, margin, continuity)
        p = float(stats.norm.sf(z))
    return {"b": b, "c": c, "n": n, "margin": margin, "alpha": alpha, "continuity": continuity, "z": z, "p": p,
            "lower": lower}


def tango_two_sided(a, b, c, d, level):
    """ratesci's x = (a, b, c, d), RD = p1 - p2 = (b - c) / N: b plays the challenger-only cell."""
    n = a + b + c + d
    z = float(stats.norm.isf((1 - level) / 2))
    est = (b - c) / n
    lo = optimize.brentq(lambda t: tango_score(c, b, n, t) - z, -1 + 1e-13, est, xtol=1e-15)
    hi = optimize.brentq(lambda t: tango_score(c, b, n, t) + z, est, 1 - 1e-13, xtol=1e-15)
    return lo, hi


def paired_t(d, margin, alpha):
    res = stats.ttest_1samp(d, margin, alternative="greater")
    return {"d": [float(v) for v in d], "margin": margin, "alpha": alpha, "t": float(res.statistic),
            "p": float(res.pvalue), "lower": float(res.confidence_interval(1 - alpha).low) + 0.0}


def rmse(e1, e2, margin, alpha):
    e1 = np.asarray(e1, dtype=float)
    e2 = np.asarray(e2, dtype=float)
    n = len(e1)
    m1, m2 = e1.mean(), e2.mean()
    u = e1 / (2 * math.sqrt(m1)) - e2 / (2 * math.sqrt(m2))
    se = float(u.std(ddof=1) / math.sqrt(n))
    est = math.sqrt(m1) - math.sqrt(m2)
    t = (est - margin) / se
    return {"e1": e1.tolist(), "e2": e2.tolist(), "margin": margin, "alpha": alpha, "estimate": est, "se": se,
            "t": t, "p": float(stats.t.sf(t, n - 1)), "lower": est - float(stats.t.isf(alpha, n - 1)) * se}


pairs = [(0, 0), (0, 1), (1, 0), (3, 3), (0, 5), (2, 9), (1, 12), (10, 14), (24, 0), (12, 12),
         (0, 25), (12, 13), (5, 20), (20, 5), (30, 45), (100, 130), (40, 80), (500, 560),
         (1000, 1150), (3, 60), (250, 250), (7, 400)]
binoms = [(0, 1), (1, 2), (2, 9), (5, 20), (3, 30), (40, 100), (480, 1000), (10, 1500), (700, 1500)]
uppers = [(0, 0), (0, 5), (5, 5), (3, 5), (9, 11), (12, 20), (30, 40), (520, 1000), (1450, 1500), (1, 2000)]
xs = [0.0, 1e-8, 0.01, 0.1, 0.5, 1.0, 2.0, 3.841458820694124, 5.0, 8.0, 10.0, 20.0, 50.0, 100.0, 300.0]
probabilities = [1e-300, 1e-30, 1e-12, 1e-6, 3.878e-5, 0.001, 0.01, 0.0243, 0.025, 0.0304, 0.05, 0.2, 0.5, 0.8,
                 0.975, 0.999999]
zs = [-8.0, -3.0, -1.0, 0.0, 0.5, 1.6448536269514722, 1.96, 3.0, 5.0, 8.0, 12.0, 30.0]
t_points = [(-3.0, 1), (0.0, 5), (0.5, 1), (1.0, 2), (2.0, 3), (2.5, 10), (1.7, 29), (3.5, 30), (2.0, 99),
            (4.0, 500), (1.96, 4999), (6.0, 4999), (10.0, 100000), (-2.0, 4999), (40.0, 20)]
t_quantiles = [(0.05, 1), (0.025, 2), (0.05, 9), (0.0304, 29), (1e-6, 30), (3.878e-5, 199), (0.05, 999),
               (0.0304, 4999), (1e-8, 4999), (0.4, 7), (0.9, 12)]
tango_cases = [(0, 0, 1000, 0.0, 0.05), (0, 0, 1000, 0.01, 0.0304), (0, 5, 100, 0.0, 0.05), (3, 9, 50, 0.0, 0.025),
               (40, 145, 5000, 0.01, 0.0304), (150, 205, 5000, 0.01, 0.0304), (100, 200, 5000, 0.01, 3.878e-5),
               (2, 30, 200, 0.01, 0.05), (30, 2, 200, 0.0, 0.05), (500, 560, 20000, 0.0, 0.001),
               (0, 40, 50, 0.5, 0.05), (120, 180, 5000, 0.005, 0.0076), (1, 0, 10, 0.0, 0.3)]
published = [((4, 9, 3, 16), 0.95, (-0.027, 0.390), 3), ((43, 0, 1, 0), 0.90, (-0.096, 0.037), 3),
             ((53, 16, 8, 9), 0.95, (-0.020, 0.207), 3), ((1, 1, 7, 12), 0.95, (-0.517, -0.026), 3),
             ((8, 3, 1, 2), 0.95, (-0.1670, 0.4327), 4), ((7, 25, 2, 68), 0.95, (0.139, 0.321), 3)]
rng = np.random.default_rng(20261215)
paired_cases = []
for n, shift, margin, alpha in [(12, 0.3, 0.0, 0.05), (40, 0.1, 0.05, 0.0304), (200, 0.02, 0.01, 0.0076),
                                (500, 0.5, 0.2, 1e-4), (30, -0.2, 0.0, 0.05)]:
    d = np.round(rng.normal(shift, 1.0, n) ** 2 * np.sign(rng.normal(shift, 1.0, n)), 6)
    paired_cases.append(paired_t(d, margin, alpha))
paired_cases.append(paired_t(np.array([-1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, -1.0] * 30), 0.05, 0.05))
rmse_cases = []
for n, scale1, scale2, margin, alpha in [(50, 1.0, 0.8, 0.0, 0.05), (300, 2.0, 1.7, 0.1, 0.0304),
                                         (1000, 1.0, 1.0, 0.0, 0.01)]:
    base = rng.normal(0, 1, n)
    e1 = np.round((scale1 * base + rng.normal(0, 0.3, n)) ** 2, 6)
    e2 = np.round((scale2 * base + rng.normal(0, 0.3, n)) ** 2, 6)
    rmse_cases.append(rmse(e1, e2, margin, alpha))

out = {
    "generator": "scripts/retune/gen-promotion-fixtures.py",
    "scipy": scipy.__version__,
    "numpy": np.__version__,
    "mcnemar": [mcnemar(b, c) for b, c in pairs],
    "mcnemarNoExact": [mcnemar(b, c, 0) for b, c in [(0, 0), (0, 3), (4, 9)]],
    "binom": [{"k": k, "n": n, "p": float(stats.binomtest(k, n, 0.5).pvalue)} for k, n in binoms],
    "binomUpper": [{"k": k, "n": n, "p": 1.0 if n == 0 else float(stats.binomtest(k, n, 0.5, alternative="greater").pvalue)}
                   for k, n in uppers],
    "chi2sf": [{"x": x, "p": float(stats.chi2.sf(x, 1))} for x in xs],
    "normalIsf": [{"p": p, "z": float(stats.norm.isf(p))} for p in probabilities],
    "normalSf": [{"z": z, "p": float(stats.norm.sf(z))} for z in zs],
    "tSf": [{"t": t, "df": df, "p": float(stats.t.sf(t, df))} for t, df in t_points],
    "tIsf": [{"p": p, "df": df, "t": float(stats.t.isf(p, df))} for p, df in t_quantiles],
    "tangoPublished": [
        {"x": list(x), "level": level, "lower": lo, "upper": hi, "digits": digits,
         "computed": list(tango_two_sided(*x, level))}
        for x, level, (lo, hi), digits in published],
    "tango": [tango(*case, continuity) for case in tango_cases for continuity in (0, 1)],
    "pairedT": paired_cases,
    "rmse": rmse_cases,
}
target = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "retune" / "promotion.json"
target.parent.mkdir(parents=True, exist_ok=True)
target.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {target}")
