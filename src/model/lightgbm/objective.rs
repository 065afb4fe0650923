//! LightGBM's objectives as prediction sees them (`ObjectiveFunction::ConvertOutput`), in
//! double as LightGBM computes them: the sigmoid `1 / (1 + exp(-σx))`, the softmax (the
//! largest subtracted, exponentials summed in order), `exp`, `log1p(exp(x))`, and `sqrt`'s
//! inverse `sign(x)·x²`.
//!
//! What must not live here: reading the model text (`booster`).

/// How raw scores become predictions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Link {
    /// Regression (l2, l1, huber, fair, quantile, mape), ranking, custom objectives.
    Identity,
    /// `regression` with `reg_sqrt`: `sign(x) · x²`.
    Square,
    /// `binary` and `multiclassova` (per class): `1 / (1 + exp(-σ x))`.
    Sigmoid(f64),
    /// `multiclass`.
    Softmax,
    /// `poisson`, `gamma`, `tweedie`.
    Exp,
    /// `cross_entropy`: `1 / (1 + exp(-x))`.
    Logistic,
    /// `cross_entropy_lambda`: `log1p(exp(x))`.
    Log1pExp,
}

/// What the objective is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    Binary,
    Multiclass,
    Regression,
    Ranking,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// The objective line as the model states it (`binary sigmoid:1`).
    pub text: String,
    pub link: Link,
    pub task: Task,
}

/// The objectives skserve serves, for messages.
pub const SERVED: &str = "binary, multiclass, multiclassova, regression (l2, l1, huber, fair, \
                          quantile, mape, sqrt), poisson, gamma, tweedie, cross_entropy, \
                          cross_entropy_lambda, lambdarank, rank_xendcg, custom";

impl Objective {
    /// The objective of a model's `objective=` line (`None` when the model has none: a custom
    /// objective's raw scores).
    pub fn parse(line: Option<&str>) -> Result<Self, String> {
        let text = line.unwrap_or("custom").trim();
        let mut words = text.split_ascii_whitespace();
        let name = words.next().unwrap_or("custom");
        let mut sigmoid = 1.0;
        let mut sqrt = false;
        for option in words {
            match option.split_once(':') {
                Some(("sigmoid", v)) => {
                    sigmoid = v
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .ok_or_else(|| {
                            format!("objective has sigmoid:{v}, not a positive number")
                        })?;
                }
                None if option == "sqrt" => sqrt = true,
                _ => {}
            }
        }
        let (link, task) = match name {
            "binary" => (Link::Sigmoid(sigmoid), Task::Binary),
            "multiclass" => (Link::Softmax, Task::Multiclass),
            "multiclassova" => (Link::Sigmoid(sigmoid), Task::Multiclass),
            "regression" | "regression_l1" | "huber" | "fair" | "quantile" | "mape" => (
                if sqrt { Link::Square } else { Link::Identity },
                Task::Regression,
            ),
            "poisson" | "gamma" | "tweedie" => (Link::Exp, Task::Regression),
            "cross_entropy" => (Link::Logistic, Task::Regression),
            "cross_entropy_lambda" => (Link::Log1pExp, Task::Regression),
            "lambdarank" | "rank_xendcg" => (Link::Identity, Task::Ranking),
            "custom" | "none" => (Link::Identity, Task::Regression),
            other => {
                return Err(format!(
                    "the objective {other} is not one skserve serves (it serves {SERVED})"
                ));
            }
        };
        Ok(Self {
            text: text.to_owned(),
            link,
            task,
        })
    }

    /// One row's raw scores as predictions, in place.
    pub fn convert(&self, row: &mut [f64]) {
        match self.link {
            Link::Identity => {}
            Link::Square => row
                .iter_mut()
                .for_each(|v| *v = v.signum_or_zero() * *v * *v),
            Link::Sigmoid(sigma) => row
                .iter_mut()
                .for_each(|v| *v = 1.0 / (1.0 + (-sigma * *v).exp())),
            Link::Softmax => softmax(row),
            Link::Exp => row.iter_mut().for_each(|v| *v = v.exp()),
            Link::Logistic => row.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
            Link::Log1pExp => row.iter_mut().for_each(|v| *v = v.exp().ln_1p()),
        }
    }
}

/// `Common::Sign`: -1, 0 or 1.
trait SignOrZero {
    fn signum_or_zero(self) -> f64;
}

impl SignOrZero for f64 {
    fn signum_or_zero(self) -> f64 {
        if self > 0.0 {
            1.0
        } else if self < 0.0 {
            -1.0
        } else {
            0.0
        }
    }
}

/// `Common::Softmax`: exponentials of the scores less the largest, summed in order.
pub fn softmax(row: &mut [f64]) {
    let largest = row[1..]
        .iter()
        .fold(row[0], |m, &v| if v > m { v } else { m });
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - largest).exp();
        sum += *v;
    }
    row.iter_mut().for_each(|v| *v /= sum);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_lines_are_read_with_their_options() {
        let binary = Objective::parse(Some("binary sigmoid:2")).unwrap();
        assert_eq!(binary.link, Link::Sigmoid(2.0));
        let mut row = [0.0];
        binary.convert(&mut row);
        assert_eq!(row[0], 0.5);
        let sqrt = Objective::parse(Some("regression sqrt")).unwrap();
        let mut row = [-3.0];
        sqrt.convert(&mut row);
        assert_eq!(row[0], -9.0);
        assert_eq!(Objective::parse(None).unwrap().link, Link::Identity);
        assert!(Objective::parse(Some("binary sigmoid:-1")).is_err());
        assert!(
            Objective::parse(Some("survival"))
                .unwrap_err()
                .contains("not one skserve serves")
        );
    }
}
