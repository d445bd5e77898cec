#!/usr/bin/env python3
"""Runs Evidently's DataDriftPreset (defaults) on reference.csv and current.csv in a directory and
prints, per column, the method Evidently chose, its score, threshold and verdict, and the dataset
share, as one JSON object. Column types come from a types.json {"numerical": [...], "categorical": [...]}.
Run with venv-evidently's python (scripts/constraints/evidently.txt)."""
import json
import os
import sys
import warnings

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

warnings.filterwarnings("ignore")
directory = sys.argv[1]
types = json.load(open(os.path.join(directory, "types.json")))
dtypes = {c: str for c in types["categorical"]}
reference = pd.read_csv(os.path.join(directory, "reference.csv"), dtype=dtypes, keep_default_na=True)
current = pd.read_csv(os.path.join(directory, "current.csv"), dtype=dtypes, keep_default_na=True)
definition = DataDefinition(numerical_columns=types["numerical"], categorical_columns=types["categorical"])
snapshot = Report([DataDriftPreset()]).run(
    Dataset.from_pandas(current, data_definition=definition), Dataset.from_pandas(reference, data_definition=definition)
)
out = {"columns": {}, "share": None, "count": None, "share_threshold": None}
for metric in snapshot.dict()["metrics"]:
    config = metric["config"]
    if config["type"].endswith("DriftedColumnsCount"):
        out["share"], out["count"] = metric["value"]["share"], metric["value"]["count"]
        out["share_threshold"] = config["drift_share"]
    elif config["type"].endswith("ValueDrift"):
        method, value, threshold = config["method"], metric["value"], config["threshold"]
        p_value = method.endswith("p_value")
        out["columns"][config["column"]] = {
            "method": method,
            "value": None if value != value else value,
            "threshold": threshold,
            "drifted": bool(value < threshold) if p_value else bool(value >= threshold),
        }
print(json.dumps(out))
