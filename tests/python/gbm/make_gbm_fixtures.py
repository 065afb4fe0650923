"""Writes the small real XGBoost and LightGBM models that tests/model/gbm_hostile.rs edits into
hostile files (one field at a time), each with a categorical feature so that category sets
are among what can be edited.

    target/gbm-new-venv/bin/python tests/python/gbm/make_gbm_fixtures.py tests/fixtures/gbm
"""

import os
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.datasets import load_breast_cancer

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
X, y = load_breast_cancer(return_X_y=True)
df = pd.DataFrame(X[:, :3], columns=["radius", "texture", "perimeter"])
names = np.array(["low", "mid", "high"])
df["band"] = pd.Categorical(names[np.digitize(X[:, 27], np.quantile(X[:, 27], [0.33, 0.66]))], categories=list(names))
model = xgb.XGBClassifier(n_estimators=3, max_depth=3, enable_categorical=True, tree_method="hist",
                          max_cat_to_onehot=1)
model.fit(df, y)
model.save_model(os.path.join(out, "xgb_small.json"))
model.save_model(os.path.join(out, "xgb_small.ubj"))
codes = np.column_stack([X[:, :3], df["band"].cat.codes.to_numpy(dtype=float)])
booster = lgb.LGBMClassifier(n_estimators=3, num_leaves=6, verbose=-1, max_cat_to_onehot=1,
                             min_data_per_group=5, cat_smooth=1).fit(codes, y, categorical_feature=[3]).booster_
booster.save_model(os.path.join(out, "lgb_small.txt"))
print(xgb.__version__, lgb.__version__)
