"""Evidently side of bench/drift.ts: DataDriftPreset with its defaults on the same reference and
current tables, timed in-process (venv-evidently, scripts/constraints/evidently.txt).

Usage: python bench/drift_evidently.py DIR   (DIR written by bench/drift.ts; prints one JSON line)
Evidently has no stored profile: it reads the whole reference table every time, so DIR holds every
reference row (n<i>.ref.f64 / c<j>.ref.i32) beside the current ones. Timed: Report.run (the
checks, and the distributions Evidently keeps for its report) plus reading the per-column scores;
not timed: importing Evidently and building the DataFrames. Peak RSS is the process's
(resource.getrusage), with the RSS before the run for what the imports and the data hold.
"""
import json
import os
import resource
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def rss_mib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def table(folder, meta, side):
    columns = {}
    for i, f in enumerate(meta["numeric"]):
        columns[f["name"]] = np.fromfile(os.path.join(folder, f"n{i}.{side}.f64"))
    for j, f in enumerate(meta["categorical"]):
        labels = np.array(f["labels"] + ["(unseen)"], dtype=object)
        columns[f["name"]] = labels[np.fromfile(os.path.join(folder, f"c{j}.{side}.i32"), dtype=np.int32)]
    return pd.DataFrame(columns)


def main():
    warnings.filterwarnings("ignore")
    folder = sys.argv[1]
    with open(os.path.join(folder, "meta.json")) as fh:
        meta = json.load(fh)
    definition = DataDefinition(
        numerical_columns=[f["name"] for f in meta["numeric"]], categorical_columns=[f["name"] for f in meta["categorical"]]
    )
    reference = Dataset.from_pandas(table(folder, meta, "ref"), data_definition=definition)
    current = Dataset.from_pandas(table(folder, meta, "cur"), data_definition=definition)
    before = rss_mib()
    times = []
    scores = {}
    for _ in range(meta["evidently_repeats"]):
        start = time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(current, reference)
        scores = {m["config"]["column"]: m["value"] for m in snapshot.dict()["metrics"] if m["config"]["type"].endswith("ValueDrift")}
        times.append(time.perf_counter() - start)
    names = [f["name"] for f in meta["numeric"] + meta["categorical"]]
    print(
        json.dumps(
            {
                "median_s": statistics.median(times),
                "times_s": times,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_before_mib": before,
                "scores": [scores.get(n) for n in names],
            }
        )
    )


if __name__ == "__main__":
    main()
