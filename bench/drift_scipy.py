"""SciPy side of bench/drift.ts: the same per-feature tests on the same arrays, timed in-process.

Usage: python3 bench/drift_scipy.py DIR   (DIR written by bench/drift.ts; prints one JSON line)
Numeric: Wasserstein (scipy.stats.wasserstein_distance) / max(reference std, 0.001), or
scipy.stats.ks_2samp when meta["numeric_method"] == "ks"; PSI on the profile's decile edges.
Categorical: Jensen-Shannon (scipy.spatial.distance.jensenshannon, natural log as Evidently) and PSI.
"""
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance


def fill(shares):
    nonzero = shares[shares > 0]
    smallest = nonzero.min()
    shares = shares.copy()
    shares[shares == 0] = smallest / 1e6 if smallest <= 0.0001 else 0.0001
    return shares


def psi(ref_counts, cur_counts):
    r = fill(ref_counts / ref_counts.sum())
    c = fill(cur_counts / cur_counts.sum())
    return float(np.sum((r - c) * np.log(r / c)))


def check(meta, data):
    out = []
    for f in meta["numeric"]:
        ref, cur = data[f["name"]]
        if meta["numeric_method"] == "ks":
            score = float(ks_2samp(ref, cur).pvalue)
        else:
            score = wasserstein_distance(ref, cur) / max(f["std"], 0.001)
        edges = np.array(f["edges"])
        cur_counts = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1)
        out.append((score, psi(np.array(f["ref_counts"], dtype=float), cur_counts.astype(float))))
    for f in meta["categorical"]:
        codes = data[f["name"]]
        ref_counts = np.array(f["ref_counts"], dtype=float)
        cur_counts = np.bincount(codes, minlength=len(ref_counts)).astype(float)
        out.append((float(jensenshannon(ref_counts, cur_counts)), psi(ref_counts, cur_counts)))
    return out


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "meta.json")) as fh:
        meta = json.load(fh)
    data = {}
    for i, f in enumerate(meta["numeric"]):
        data[f["name"]] = (np.fromfile(os.path.join(folder, f"n{i}.ref.f64")), np.fromfile(os.path.join(folder, f"n{i}.cur.f64")))
    for i, f in enumerate(meta["categorical"]):
        data[f["name"]] = np.fromfile(os.path.join(folder, f"c{i}.cur.i32"), dtype=np.int32)
    times = []
    result = None
    for _ in range(meta["repeats"]):
        start = time.perf_counter()
        result = check(meta, data)
        times.append(time.perf_counter() - start)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"median_s": statistics.median(times), "times_s": times, "peak_rss_mib": peak_mib, "scores": [s for s, _ in result], "psi": [p for _, p in result]}))


if __name__ == "__main__":
    main()
