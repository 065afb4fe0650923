//! RANSACRegressor, served as scikit-learn serves it: `predict` is its `estimator_`'s, the
//! estimator refitted on the inliers it found, read through the catalog like any other step
//! (a LinearRegression by default, any served regressor or Pipeline otherwise). What the
//! search was configured with (trials, thresholds, the inlier mask) is never read.

use crate::model::LoadError;
use crate::model::compose::{Step, StepReader};
use crate::model::estimator::Target;
use crate::model::state::State;

pub fn read(state: &State<'_>, reader: &dyn StepReader) -> Result<Step, LoadError> {
    let estimator = state.get("estimator_")?;
    let path = state.path.join("RANSACRegressor.estimator_");
    match reader.read(estimator, &path, None)? {
        Step::Model(mut model) => {
            if !matches!(model.predictor.target(), Target::Values { .. }) {
                return Err(state.malformed("estimator_", "is not a regressor"));
            }
            let takes = model
                .transformers
                .first()
                .map_or(model.predictor.n_features_in(), |(_, t)| t.n_features_in());
            state.check_n_features(takes, "estimator_")?;
            model.wrappers.insert(0, "RANSACRegressor");
            Ok(Step::Model(model))
        }
        Step::Transformer(_) | Step::Passthrough | Step::Drop => {
            Err(state.malformed("estimator_", "is not a regressor"))
        }
    }
}
