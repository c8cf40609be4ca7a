#!/usr/bin/env python3
"""Reference values for retune/promotion, from scipy (never used at run time).

Writes test/fixtures/retune/promotion.json:
  mcnemar: [{b, c, method, statistic, p}]   rule: exact binomial if b + c < 25, else chi2 with
           continuity correction (|b - c| - 1)^2 / (b + c) on 1 df
  binom:   [{k, n, p}]        scipy.stats.binomtest(k, n, 0.5).pvalue
  chi2sf:  [{x, p}]           scipy.stats.chi2.sf(x, 1)
Run: python3 scripts/retune/gen-promotion-fixtures.py
"""
import json
import pathlib

import scipy
from scipy import stats

EXACT_BELOW = 25


def mcnemar(b, c):
    n = b + c
    if n < EXACT_BELOW:
        return {"b": b, "c": c, "method": "exact", "statistic": min(b, c),
                "p": float(stats.binomtest(b, n, 0.5).pvalue) if n > 0 else 1.0}
    x = (abs(b - c) - 1) ** 2 / n
    return {"b": b, "c": c, "method": "chi2-cc", "statistic": x, "p": float(stats.chi2.sf(x, 1))}


pairs = [(0, 0), (0, 1), (1, 0), (3, 3), (0, 5), (2, 9), (1, 12), (10, 14), (24, 0), (12, 12),
         (0, 25), (12, 13), (5, 20), (20, 5), (30, 45), (100, 130), (40, 80), (500, 560),
         (1000, 1150), (3, 60), (250, 250), (7, 400)]
binoms = [(0, 1), (1, 2), (2, 9), (5, 20), (3, 30), (40, 100), (480, 1000), (10, 1500), (700, 1500)]
xs = [0.0, 1e-8, 0.01, 0.1, 0.5, 1.0, 2.0, 3.841458820694124, 5.0, 8.0, 10.0, 20.0, 50.0, 100.0, 300.0]

out = {
    "generator": "scripts/retune/gen-promotion-fixtures.py",
    "scipy": scipy.__version__,
    "mcnemar": [mcnemar(b, c) for b, c in pairs],
    "binom": [{"k": k, "n": n, "p": float(stats.binomtest(k, n, 0.5).pvalue)} for k, n in binoms],
    "chi2sf": [{"x": x, "p": float(stats.chi2.sf(x, 1))} for x in xs],
}
target = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "retune" / "promotion.json"
target.parent.mkdir(parents=True, exist_ok=True)
target.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {target}")
