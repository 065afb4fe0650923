//! GridSearchCV and RandomizedSearchCV, and the successive-halving searches of
//! `sklearn.experimental` (HalvingGridSearchCV, HalvingRandomSearchCV), served as scikit-learn
//! serves them: through `best_estimator_`, the estimator refitted on the best parameters. What the search was
//! configured with (its grid, distributions, CV splitter, scorer, `cv_results_`) is never read.

use super::{Step, StepReader};
use crate::model::LoadError;
use crate::model::state::State;

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Step, LoadError> {
    let Some(best) = state.attr("best_estimator_") else {
        return Err(state.unsupported(
            "has no best_estimator_ (it was fitted with refit=False): there is no model to serve",
        ));
    };
    let wrapper = state.class.name();
    // The step is named after the search too, so that a refusal inside says whose it is.
    let path = state.path.join(&format!("{wrapper}.best_estimator_"));
    match reader.read(best, &path, width)? {
        Step::Model(mut model) => {
            model.wrappers.insert(0, wrapper);
            Ok(Step::Model(model))
        }
        Step::Transformer(t) => Ok(Step::Transformer(t)),
        Step::Passthrough | Step::Drop => {
            Err(state.malformed("best_estimator_", "is not an estimator"))
        }
    }
}
