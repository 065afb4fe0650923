"""The KBinsDiscretizer model of the model-health tests (tests/fixtures/health/binned.pkl): a
Pipeline of a KBinsDiscretizer over two numbers before a LogisticRegression, whose bin edges
are the range the model knows of each column. Run once; the file is committed, so that the
quick tier needs no Python.

    python tests/python/health/make_binned_model.py tests/fixtures/health

Columns: `width` uniform on [2, 8], `height` uniform on [-1, 1]; edges printed for the test.
"""

import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import KBinsDiscretizer


def main(out: Path) -> None:
    rng = np.random.default_rng(29)
    train = pd.DataFrame(
        {"width": rng.uniform(2, 8, size=300).round(3), "height": rng.uniform(-1, 1, size=300).round(3)}
    )
    y = (train["width"] / 4 + train["height"] > 1.5).astype(int)
    model = Pipeline(
        [("bins", KBinsDiscretizer(n_bins=4, strategy="uniform")), ("model", LogisticRegression())]
    ).fit(train, y)
    with open(out / "binned.pkl", "wb") as f:
        pickle.dump(model, f, protocol=5)
    for j, edges in enumerate(model.named_steps["bins"].bin_edges_):
        print(train.columns[j], edges[0], edges[-1])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
