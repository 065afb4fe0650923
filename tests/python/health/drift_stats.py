"""Model health's statistics against independent implementations (tests/api/health_stats.rs).

    drift_stats.py cases OUT.json     writes the cases: reference and current data
    drift_stats.py compare IN.json    reads skserve's bins of each case, prints Evidently's and
                                      scipy's statistics of them as JSON

Each case is compared twice. On the data itself: Evidently's `psi` and `jensenshannon` stat tests
bin a column of strings, or of at most 20 distinct numbers, one bin per value, as skserve does.
On skserve's bins: for a column of more distinct numbers, skserve cuts the reference at its
deciles and Evidently would cut reference and current together into equal widths; given the
bin each value fell in, as a category, Evidently's statistics over the same bins. scipy's
`jensenshannon` (natural log) is given the two distributions' shares over the bins present.
"""

import json
import sys

import numpy as np
import pandas as pd
from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
from evidently.legacy.calculations.stattests.psi import _psi
from evidently.legacy.core import ColumnType
from scipy.spatial.distance import jensenshannon


def cases() -> list:
    rng = np.random.default_rng(2929)
    strings = ["JetSmart", "Grupo LATAM", "Sky Airline", "Copa Air"]
    return [
        {
            "name": "strings, one category new and one gone",
            "kind": "strings",
            "reference": list(rng.choice(strings, 2000, p=[0.4, 0.3, 0.2, 0.1])),
            "current": list(rng.choice(strings[:3] + ["Ryanair"], 700, p=[0.2, 0.3, 0.3, 0.2])),
        },
        {
            "name": "strings from the same distribution",
            "kind": "strings",
            "reference": list(rng.choice(strings, 5000, p=[0.4, 0.3, 0.2, 0.1])),
            "current": list(rng.choice(strings, 5000, p=[0.4, 0.3, 0.2, 0.1])),
        },
        {
            "name": "few distinct numbers, shifted",
            "kind": "numbers",
            "reference": [float(v) for v in rng.integers(1, 7, 3000)],
            "current": [float(v) for v in rng.integers(2, 8, 900)],
        },
        {
            "name": "many distinct numbers, shifted",
            "kind": "numbers",
            "reference": list(rng.normal(120.0, 30.0, 4000).round(2)),
            "current": list(rng.normal(150.0, 35.0, 1200).round(2)),
        },
        {
            "name": "many distinct numbers, same distribution",
            "kind": "numbers",
            "reference": list(rng.lognormal(6.5, 0.6, 4000).round(1)),
            "current": list(rng.lognormal(6.5, 0.6, 4000).round(1)),
        },
        {
            "name": "many distinct numbers, current outside the reference",
            "kind": "numbers",
            "reference": list(rng.uniform(0.0, 1.0, 1000)),
            "current": list(rng.uniform(0.5, 2.0, 500)),
        },
    ]


def statistics(reference: pd.Series, current: pd.Series, feature_type: ColumnType) -> dict:
    psi, _ = _psi(reference, current, feature_type, 0.1)
    js, _ = _jensenshannon(reference, current, feature_type, 0.1)
    return {"psi": float(psi), "jensen_shannon": float(js)}


def compare(binned: list) -> list:
    out = []
    for case in binned:
        reference = pd.Series(case["reference_bins"])
        current = pd.Series(case["current_bins"])
        result = {"name": case["name"], "bins": statistics(reference, current, ColumnType.Categorical)}
        if case["raw"]:
            kind = ColumnType.Categorical if case["kind"] == "strings" else ColumnType.Numerical
            result["data"] = statistics(
                pd.Series(case["reference"]), pd.Series(case["current"]), kind
            )
        keys = sorted(set(case["reference_bins"]) | set(case["current_bins"]))
        share = lambda values, key: values.count(key) / len(values)  # noqa: E731
        result["scipy"] = float(
            jensenshannon(
                [share(case["reference_bins"], k) for k in keys],
                [share(case["current_bins"], k) for k in keys],
            )
        )
        out.append(result)
    return out


if __name__ == "__main__":
    if sys.argv[1] == "cases":
        with open(sys.argv[2], "w") as f:
            json.dump(cases(), f)
    else:
        with open(sys.argv[2]) as f:
            print(json.dumps(compare(json.load(f))))
