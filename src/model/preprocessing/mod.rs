//! The transformers of `sklearn.preprocessing` and `sklearn.impute`, read from their fitted
//! state and validated, each a [`Transformer`].
//!
//! # Layout
//! - `scalers`: StandardScaler, MinMaxScaler, RobustScaler, MaxAbsScaler.
//! - `categories`: one feature's categories and the infrequent grouping encoders share.
//! - `encoders`: OneHotEncoder, OrdinalEncoder.
//! - `impute`: SimpleImputer, MissingIndicator.
//! - `function`: FunctionTransformer: the identity, or a numpy ufunc (`ufunc`).
//! - `label`: LabelEncoder and LabelBinarizer served alone (MultiLabelBinarizer refused).
//! - `rows`: Normalizer, Binarizer.
//! - `polynomial`: PolynomialFeatures; `spline`: SplineTransformer.
//! - `discretize`: KBinsDiscretizer.
//! - `distribution`: PowerTransformer, QuantileTransformer.
//! - `kernel_centerer`: KernelCenterer.
//! - `target_encoder`: TargetEncoder.

pub mod categories;
pub mod discretize;
pub mod distribution;
pub mod encoders;
pub mod function;
pub mod impute;
pub mod kernel_centerer;
pub mod label;
pub mod polynomial;
pub mod rows;
pub mod scalers;
pub mod spline;
pub mod target_encoder;
pub mod ufunc;

use super::LoadError;
use super::allow::SkClass;
use super::estimator::Transformer;
use super::state::State;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        StandardScaler
            | MinMaxScaler
            | RobustScaler
            | MaxAbsScaler
            | OneHotEncoder
            | OrdinalEncoder
            | SimpleImputer
            | MissingIndicator
            | FunctionTransformer
            | Normalizer
            | Binarizer
            | PolynomialFeatures
            | SplineTransformer
            | KBinsDiscretizer
            | LabelEncoder
            | LabelBinarizer
            | MultiLabelBinarizer
            | PowerTransformer
            | QuantileTransformer
            | KernelCenterer
            | TargetEncoder
    )
}

/// Reads the transformer whose state is `state`; `width` is the number of columns it is
/// given, where the caller knows it.
pub fn read(state: &State<'_>, width: Option<usize>) -> Result<Box<dyn Transformer>, LoadError> {
    use SkClass::*;
    Ok(match state.class {
        StandardScaler | MinMaxScaler | RobustScaler | MaxAbsScaler => {
            Box::new(scalers::Scaler::read(state)?)
        }
        OneHotEncoder => Box::new(encoders::OneHotEncoder::read(state)?),
        OrdinalEncoder => Box::new(encoders::OrdinalEncoder::read(state)?),
        SimpleImputer => Box::new(impute::SimpleImputer::read(state)?),
        MissingIndicator => Box::new(impute::MissingIndicator::read(state)?),
        FunctionTransformer => Box::new(function::FunctionTransformer::read(state, width)?),
        Normalizer | Binarizer => Box::new(rows::RowTransformer::read(state, width)?),
        PolynomialFeatures => Box::new(polynomial::PolynomialFeatures::read(state)?),
        SplineTransformer => Box::new(spline::SplineTransformer::read(state)?),
        KBinsDiscretizer => Box::new(discretize::KBinsDiscretizer::read(state)?),
        LabelEncoder | LabelBinarizer | MultiLabelBinarizer => {
            Box::new(label::LabelTransformer::read(state)?)
        }
        PowerTransformer => Box::new(distribution::PowerTransformer::read(state)?),
        QuantileTransformer => Box::new(distribution::QuantileTransformer::read(state)?),
        KernelCenterer => Box::new(kernel_centerer::KernelCenterer::read(state)?),
        TargetEncoder => Box::new(target_encoder::TargetEncoder::read(state)?),
        other => unreachable!("{other:?} is not a preprocessing class"),
    })
}
