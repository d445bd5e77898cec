"""SciPy side of the drift parity tests: reads cases as JSON on stdin, prints SciPy's answers."""
import json
import sys

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance


def run(case):
    kind = case["kind"]
    if kind == "ks":
        r = ks_2samp(np.array(case["a"]), np.array(case["b"]), method=case.get("method", "auto"))
        return {"statistic": float(r.statistic), "p_value": float(r.pvalue)}
    if kind == "chisquare":
        r = chi2_contingency(np.array([case["reference"], case["current"]]))
        return {"statistic": float(r[0]), "p_value": float(r[1]), "dof": int(r[2])}
    if kind == "wasserstein":
        return {"statistic": float(wasserstein_distance(case["a"], case["b"]))}
    if kind == "jensenshannon":
        return {"statistic": float(jensenshannon(case["p"], case["q"], base=case.get("base", 2)))}
    raise ValueError(kind)


print(json.dumps([run(c) for c in json.load(sys.stdin)]))
