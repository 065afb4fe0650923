//! XGBoost's objectives as prediction sees them: how the intercept (`base_score`) becomes a
//! margin (`ProbToMargin`) and how margins become predictions (`PredTransform`), in float32
//! as XGBoost computes them: `expf` and `logf` (the C library's, as XGBoost's are), its
//! `Sigmoid` (`1 / (expf(min(-x, 88.7)) + 1 + 1e-16)`), its softmax (float exponentials
//! summed in a double), and the first largest margin for `multi:softmax`.
//!
//! What must not live here: reading the document (`booster`), the trees.

use std::fmt;

/// How an objective links margins and predictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// Margins are the predictions: squared, absolute, pseudo-Huber and quantile errors,
    /// `binary:logitraw`, ranking.
    Identity,
    /// `binary:logistic`, `reg:logistic`: XGBoost's sigmoid.
    Logistic,
    /// `binary:hinge`: 1 above 0, else 0.
    Hinge,
    /// `count:poisson`, `reg:gamma`, `reg:tweedie`, `survival:cox`, `survival:aft`: `expf`.
    Exp,
    /// `multi:softprob`: softmax over the classes.
    Softprob,
    /// `multi:softmax`: the index of the largest margin.
    Softmax,
}

/// What the objective is for, which decides how the scikit-learn wrapper reads predictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    Binary,
    Multiclass,
    Regression,
    Ranking,
}

/// An objective by its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Objective {
    pub name: String,
    pub link: Link,
    pub task: Task,
}

/// The objectives skserve serves, for messages.
pub const SERVED: &str = "binary:logistic, binary:logitraw, binary:hinge, multi:softprob, \
                          multi:softmax, reg:squarederror, reg:squaredlogerror, reg:logistic, \
                          reg:absoluteerror, reg:pseudohubererror, reg:quantileerror, \
                          count:poisson, reg:gamma, reg:tweedie, survival:cox, survival:aft, \
                          rank:pairwise, rank:ndcg, rank:map";

impl Objective {
    /// The objective XGBoost names `name`, or `None` for one skserve does not serve.
    pub fn parse(name: &str) -> Option<Self> {
        use Link::*;
        let (link, task) = match name {
            "binary:logistic" => (Logistic, Task::Binary),
            "binary:logitraw" => (Identity, Task::Binary),
            "binary:hinge" => (Hinge, Task::Binary),
            "multi:softprob" => (Softprob, Task::Multiclass),
            "multi:softmax" => (Softmax, Task::Multiclass),
            "reg:logistic" => (Logistic, Task::Regression),
            "reg:squarederror"
            | "reg:linear"
            | "reg:squaredlogerror"
            | "reg:absoluteerror"
            | "reg:pseudohubererror"
            | "reg:quantileerror" => (Identity, Task::Regression),
            "count:poisson" | "reg:gamma" | "reg:tweedie" | "survival:cox" | "survival:aft" => {
                (Exp, Task::Regression)
            }
            "rank:pairwise" | "rank:ndcg" | "rank:map" => (Identity, Task::Ranking),
            _ => return None,
        };
        Some(Self {
            name: name.to_owned(),
            link,
            task,
        })
    }

    /// The margin a row starts from, given the intercept the document stores (a prediction,
    /// not a margin) and the version of XGBoost that saved it.
    pub fn prob_to_margin(&self, base_score: f32, version: (u32, u32)) -> f32 {
        match self.name.as_str() {
            "binary:logistic" | "reg:logistic" => {
                // 3.2 bounds the intercept away from 0 and 1 first.
                let p = if version >= (3, 2) {
                    base_score.clamp(1e-6, 1.0 - 1e-6)
                } else {
                    base_score
                };
                logit(p)
            }
            "count:poisson" | "reg:gamma" | "reg:tweedie" | "survival:cox" | "survival:aft" => {
                base_score.ln()
            }
            _ => base_score,
        }
    }

    /// The predictions of one row's margins, in place (`multi:softmax` leaves its answer in
    /// the first value).
    pub fn transform(&self, margins: &mut [f32]) {
        match self.link {
            Link::Identity => {}
            Link::Logistic => margins.iter_mut().for_each(|m| *m = sigmoid(*m)),
            Link::Hinge => margins
                .iter_mut()
                .for_each(|m| *m = if *m > 0.0 { 1.0 } else { 0.0 }),
            Link::Exp => margins.iter_mut().for_each(|m| *m = m.exp()),
            Link::Softprob => softmax(margins),
            Link::Softmax => margins[0] = first_largest(margins) as f32,
        }
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// `-logf(1 / p - 1)`.
fn logit(p: f32) -> f32 {
    -(1.0 / p - 1.0).ln()
}

/// XGBoost's `common::Sigmoid` in float32.
pub fn sigmoid(x: f32) -> f32 {
    let x = (-x).min(88.7);
    let denominator = x.exp() + 1.0 + 1e-16;
    1.0 / denominator
}

/// XGBoost's `common::Softmax`: float exponentials of the margins less the largest, summed
/// in a double, each divided by the sum as a float.
pub fn softmax(row: &mut [f32]) {
    let largest = row[1..].iter().fold(row[0], |m, &v| v.max(m));
    let mut sum = 0.0f64;
    for v in row.iter_mut() {
        *v = (*v - largest).exp();
        sum += f64::from(*v);
    }
    let sum = sum as f32;
    row.iter_mut().for_each(|v| *v /= sum);
}

/// The index of the first largest value (`std::max_element`).
pub fn first_largest(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate().skip(1) {
        if row[best] < v {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_xgboost() {
        let logistic = Objective::parse("binary:logistic").unwrap();
        assert_eq!(logistic.prob_to_margin(0.5, (2, 1)), 0.0);
        let mut m = [0.0f32];
        logistic.transform(&mut m);
        assert_eq!(m[0], 0.5);
        let raw = Objective::parse("binary:logitraw").unwrap();
        assert_eq!(raw.prob_to_margin(0.5, (2, 1)), 0.5);
        assert_eq!(raw.prob_to_margin(0.5, (1, 7)), 0.5);
        let clamped = logistic.prob_to_margin(1.0, (3, 2));
        assert!(clamped.is_finite() && clamped > 13.0, "{clamped}");
        let mut row = [1.0f32, 3.0, 3.0];
        Objective::parse("multi:softmax")
            .unwrap()
            .transform(&mut row);
        assert_eq!(row[0], 1.0);
        let mut row = [0.0f32, 0.0];
        softmax(&mut row);
        assert_eq!(row, [0.5, 0.5]);
        assert!(Objective::parse("reg:unknown").is_none());
    }
}
