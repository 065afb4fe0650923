"""The model and data of the model-health tests (tests/fixtures/health/), as a user has them: a
Pipeline fitted on a DataFrame, its training data as CSV, and fresh rows drawn from the same
distribution. Run once; the files are committed, so that the quick tier needs no Python.

    python tests/python/health/make_health_model.py tests/fixtures/health

`flights_v2.pkl` is a second version of the model (refitted), for the tests of a model refreshed
with its profile.

Columns: `distance` and `duration` (numbers, MinMaxScaler: the model knows their range),
`airline` (strings, OneHotEncoder ignoring unknown categories: the model knows its categories),
`passengers` (small integers, some missing, imputed with the median).
"""

import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

AIRLINES = ["Grupo LATAM", "Sky Airline", "JetSmart", "Aerolineas Argentinas", "Copa Air"]


def rows(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "distance": rng.lognormal(mean=6.5, sigma=0.6, size=n).round(1),
            "duration": rng.normal(loc=120.0, scale=30.0, size=n).round(1),
            "airline": rng.choice(AIRLINES, size=n, p=[0.4, 0.25, 0.2, 0.1, 0.05]),
            "passengers": rng.integers(1, 7, size=n).astype(float),
        }
    )
    frame.loc[rng.random(n) < 0.05, "passengers"] = np.nan
    return frame


def main(out: Path) -> None:
    rng = np.random.default_rng(29)
    train = rows(rng, 2000)
    logit = (
        0.002 * (train["distance"] - 700)
        + 0.02 * (train["duration"] - 120)
        + (train["airline"] == "JetSmart") * 0.8
        - 0.3 * train["passengers"].fillna(3)
    )
    delayed = (rng.random(len(train)) < 1 / (1 + np.exp(-logit))).astype(int)
    model = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("scaled", MinMaxScaler(), ["distance", "duration"]),
                        ("airline", OneHotEncoder(handle_unknown="ignore"), ["airline"]),
                        ("passengers", SimpleImputer(strategy="median"), ["passengers"]),
                    ]
                ),
            ),
            ("classifier", LogisticRegression(max_iter=1000)),
        ]
    )
    model.fit(train, delayed)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "flights.pkl", "wb") as f:
        pickle.dump(model, f, protocol=5)
    # A second version of the same model (refitted with more regularisation): its own bytes,
    # the same columns.
    model.set_params(classifier__C=0.1).fit(train, delayed)
    with open(out / "flights_v2.pkl", "wb") as f:
        pickle.dump(model, f, protocol=5)
    train.to_csv(out / "train.csv", index=False)
    rows(rng, 1000).to_csv(out / "fresh.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
