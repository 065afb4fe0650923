//! The one place every prediction is seen, whichever protocol asked for it: the seed form,
//! V1, V2 over REST (JSON or binary) and gRPC, and `skserve predict`. Features that must see
//! every prediction (model health, shadow scoring, an audit log) implement [`Observer`];
//! `crate::inference::infer` calls it once per request.
//!
//! An observer runs on the request's thread, after the prediction and before the answer is
//! encoded: it must be cheap (count, do not compute), must not block, and cannot fail the
//! request.

use std::fmt;
use std::sync::Arc;

use super::InferError;
use crate::model::{Frame, Prediction};
use crate::registry::LoadedModel;

/// Sees every prediction, and every request the model's checks refused.
pub trait Observer: fmt::Debug + Send + Sync {
    /// A request was answered: the model, the input it took, what it predicted.
    fn answered(&self, seen: &Seen<'_>);
    /// A request named `model` but its input or its outputs were refused (a 4xx).
    fn refused(&self, _model: &LoadedModel, _error: &InferError) {}
}

/// One answered request, as the model took it.
#[derive(Clone, Copy, Debug)]
pub struct Seen<'a> {
    pub model: &'a LoadedModel,
    pub input: SeenInput<'a>,
    /// `predict`'s answer; `None` for a model that only transforms.
    pub predicted: Option<&'a Prediction>,
    pub n_rows: usize,
}

/// The input a model took.
#[derive(Clone, Copy, Debug)]
pub enum SeenInput<'a> {
    /// Positional rows of numbers, row-major, `n_features` each.
    Rows {
        values: &'a [f64],
        n_features: usize,
    },
    /// Named columns of their own types.
    Frame(&'a Frame),
}

/// Sees nothing: the observer of a server with no per-prediction feature on.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unobserved;

impl Observer for Unobserved {
    fn answered(&self, _seen: &Seen<'_>) {}
}

/// Two observers, each seeing every prediction (model health, and another a test installs).
#[derive(Debug)]
pub struct Both(pub Arc<dyn Observer>, pub Arc<dyn Observer>);

impl Observer for Both {
    fn answered(&self, seen: &Seen<'_>) {
        self.0.answered(seen);
        self.1.answered(seen);
    }

    fn refused(&self, model: &LoadedModel, error: &InferError) {
        self.0.refused(model, error);
        self.1.refused(model, error);
    }
}
