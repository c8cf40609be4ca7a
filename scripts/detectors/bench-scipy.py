#!/usr/bin/env python3
"""Times scipy/numpy on the float64 data written by bench/detectors.ts.

    python3 scripts/detectors/bench-scipy.py DATA_FILE N REPEATS

DATA_FILE holds 2*N float64 values (reference then current, little-endian). Prints one
JSON object {"ks": ms, "wasserstein": ms, "psi": ms} with the best of REPEATS runs.
"""
import json
import sys
import time

import numpy as np
from scipy import stats


def psi_numpy(ref, cur, bins=10, floor=1e-4):
    edges = np.quantile(ref, np.linspace(0, 1, bins + 1))[1:-1]
    r = np.bincount(np.searchsorted(edges, ref, side='left'), minlength=bins) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side='left'), minlength=bins) / len(cur)
    r = np.maximum(r, floor)
    c = np.maximum(c, floor)
    return float(np.sum((r - c) * np.log(r / c)))


def best_ms(fn, repeats):
    best = float('inf')
    value = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, (time.perf_counter() - t0) * 1000)
    return best, value


def main():
    path, n, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data = np.fromfile(path, dtype='<f8')
    ref, cur = data[:n], data[n:2 * n]
    ks_ms, ks = best_ms(lambda: stats.ks_2samp(ref, cur), repeats)
    w_ms, w = best_ms(lambda: stats.wasserstein_distance(ref, cur), repeats)
    p_ms, p = best_ms(lambda: psi_numpy(ref, cur), repeats)
    print(json.dumps({'ks': ks_ms, 'wasserstein': w_ms, 'psi': p_ms,
                      'values': {'ks': float(ks.statistic), 'ks_p': float(ks.pvalue), 'wasserstein': float(w), 'psi': p}}))


if __name__ == '__main__':
    main()
