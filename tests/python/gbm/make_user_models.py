"""Models trained as a user trains them, each saved twice (v1, then a retrained v2 whose
answers differ), with the libraries' own answers for a few rows:

- XGBoost on a pandas DataFrame with a categorical column (`enable_categorical`), saved by
  `save_model` as JSON and as UBJSON;
- LightGBM on a DataFrame, saved by `booster_.save_model` as text;
- LightGBM after a ColumnTransformer (imputed numbers, one-hot cities) in a Pipeline, joblib;
- a Pipeline of a ColumnTransformer and a LogisticRegression saved by skops.

    python make_user_models.py OUTDIR

OUTDIR/answers.json: for each model, the rows (by column name, null for a missing value) and
the library's `predict` and `predict_proba`.
"""

import json
import os
import sys

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
import skops.io as sio
import sklearn
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

CITIES = ["Bogota", "Lima", "Quito", "Santiago"]
rng = np.random.default_rng(7)
n = 800
frame = pd.DataFrame(
    {
        "distance": rng.gamma(2.0, 30.0, n).round(2),
        "load": rng.normal(50.0, 15.0, n).round(2),
        "city": rng.choice(CITIES, n),
    }
)
effect = frame["city"].map({"Lima": 1.0, "Quito": -1.0, "Bogota": 0.5, "Santiago": -0.5})
target = ((0.02 * frame["distance"] - 0.03 * frame["load"] + effect + rng.normal(0, 1, n)) > 0).astype(int)
with_missing = frame.copy()
with_missing.loc[rng.random(n) < 0.05, "load"] = np.nan

# The rows asked for: every city, no missing value for the boosters on their own; the
# Pipelines' rows have one missing load, which their imputer fills.
rows = frame.iloc[[0, 1, 2, 3, 4, 5, 6, 7]].reset_index(drop=True)
rows_missing = rows.copy()
rows_missing.loc[2, "load"] = np.nan

answers = {}


def records(table):
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}
        for row in table.to_dict(orient="records")
    ]


def record(name, model, table, sent):
    answers[name] = {
        "rows": records(sent),
        "predict": [int(v) for v in model.predict(table)],
        "predict_proba": np.asarray(model.predict_proba(table), dtype=np.float64).tolist(),
    }


# XGBoost on a DataFrame with a categorical column.
categorical = frame.assign(city=frame["city"].astype(pd.CategoricalDtype(CITIES)))
rows_categorical = rows.assign(city=rows["city"].astype(pd.CategoricalDtype(CITIES)))
for version, rounds, depth in (("v1", 8, 2), ("v2", 30, 4)):
    model = xgb.XGBClassifier(
        n_estimators=rounds, max_depth=depth, enable_categorical=True, tree_method="hist", n_jobs=1, random_state=0
    )
    model.fit(categorical, target)
    model.save_model(os.path.join(out, f"xgb_{version}.json"))
    model.save_model(os.path.join(out, f"xgb_{version}.ubj"))
    record(f"xgb_{version}", model, rows_categorical, rows)

# LightGBM on its own, its booster saved as text; the city by its code.
coded = frame.assign(city=frame["city"].map({c: i for i, c in enumerate(CITIES)}))
rows_coded = rows.assign(city=rows["city"].map({c: i for i, c in enumerate(CITIES)}))
for version, rounds, leaves in (("v1", 8, 4), ("v2", 30, 15)):
    model = lgb.LGBMClassifier(n_estimators=rounds, num_leaves=leaves, n_jobs=1, verbose=-1, random_state=0)
    model.fit(coded, target, categorical_feature=["city"])
    model.booster_.save_model(os.path.join(out, f"lgb_{version}.txt"))
    record(f"lgb_{version}", model, rows_coded, rows_coded)

# LightGBM after a ColumnTransformer, in a Pipeline.
pipeline = Pipeline(
    [
        (
            "prepare",
            ColumnTransformer(
                [
                    ("numbers", SimpleImputer(strategy="median"), ["distance", "load"]),
                    ("city", OneHotEncoder(handle_unknown="ignore"), ["city"]),
                ]
            ),
        ),
        ("lgbm", lgb.LGBMClassifier(n_estimators=20, num_leaves=7, n_jobs=1, verbose=-1, random_state=0)),
    ]
)
pipeline.fit(with_missing, target)
joblib.dump(pipeline, os.path.join(out, "lgb_pipeline.joblib"))
record("lgb_pipeline", pipeline, rows_missing, rows_missing)

# A Pipeline saved by skops.
for version, c in (("v1", 1.0), ("v2", 0.01)):
    pipeline = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), ["distance", "load"]),
                        ("city", OneHotEncoder(handle_unknown="ignore"), ["city"]),
                    ]
                ),
            ),
            ("logistic", LogisticRegression(C=c)),
        ]
    )
    pipeline.fit(with_missing, target)
    sio.dump(pipeline, os.path.join(out, f"skops_{version}.skops"))
    record(f"skops_{version}", pipeline, rows_missing, rows_missing)

with open(os.path.join(out, "answers.json"), "w") as f:
    json.dump(
        {
            "versions": {
                "xgboost": xgb.__version__,
                "lightgbm": lgb.__version__,
                "sklearn": sklearn.__version__,
                "skops": sio.__name__ and __import__("skops").__version__,
            },
            "models": answers,
        },
        f,
        indent=1,
    )
