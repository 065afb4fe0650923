//! PolynomialFeatures: every product of input features up to `degree` (or between a minimum
//! and a maximum degree), in scikit-learn's column order, each computed as its dense
//! `transform` computes it: a term of degree d is the previous degree's term times one more
//! feature, so products are rounded in the same order and the values are identical. Sparse
//! rows are made dense first (the values are the same products). The number of output
//! columns is computed from the settings, checked against `n_output_features_`, and bounded,
//! so that a file cannot ask for an expansion without end.

use ndarray::Array2;

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer, first_not_finite};
use crate::model::input::{ColumnKind, Dtype};
use crate::model::state::State;

/// The widest expansion served (columns).
pub const MAX_OUTPUT: usize = 1 << 16;

#[derive(Clone, Debug, PartialEq)]
pub struct PolynomialFeatures {
    label: String,
    n_features: usize,
    min_degree: usize,
    max_degree: usize,
    interaction_only: bool,
    include_bias: bool,
    /// The columns of the full expansion (every degree from 0 or 1 to `max_degree`).
    n_out_full: usize,
    n_output: usize,
}

/// The number of terms of degree `d` in `n` features: multisets (or sets, interaction only)
/// of size `d`; `None` past [`MAX_OUTPUT`].
fn terms_of_degree(n: usize, d: usize, interaction_only: bool) -> Option<usize> {
    // C(n + d - 1, d) or C(n, d), built up so that each step stays an integer.
    let top = if interaction_only {
        if d > n {
            return Some(0);
        }
        n
    } else {
        n + d - 1
    };
    let mut count: u128 = 1;
    for i in 0..d {
        count = count * (top - i) as u128 / (i + 1) as u128;
        if count > MAX_OUTPUT as u128 * MAX_OUTPUT as u128 {
            return None;
        }
    }
    usize::try_from(count).ok().filter(|c| *c <= MAX_OUTPUT)
}

impl PolynomialFeatures {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let n_features = state.count("n_features_in_")?.ok_or_else(|| {
            state.malformed(
                "n_features_in_",
                "is missing: the step was saved before it was fitted",
            )
        })?;
        state.check_n_features(n_features, "n_features_in_")?;
        let degree = |name: &str| -> Result<Option<usize>, LoadError> { state.count(name) };
        let (min_degree, max_degree) = match (degree("_min_degree")?, degree("_max_degree")?) {
            (Some(low), Some(high)) => (low, high),
            _ => match state.count("degree") {
                Ok(Some(d)) => (0, d),
                _ => {
                    return Err(
                        state.malformed("_max_degree", "is missing and degree is not a count")
                    );
                }
            },
        };
        if min_degree > max_degree {
            return Err(state.malformed(
                "_min_degree",
                format!("is {min_degree}, above _max_degree {max_degree}"),
            ));
        }
        let interaction_only = state.bool_or("interaction_only", false)?;
        let include_bias = state.bool_or("include_bias", true)?;
        let too_wide = || {
            state.unsupported(format!(
                "degree {max_degree} over {n_features} features expands to more than \
                 {MAX_OUTPUT} columns, more than skserve serves"
            ))
        };
        let mut n_out_full = usize::from(include_bias);
        let mut n_output = n_out_full;
        for d in 1..=max_degree {
            let terms = terms_of_degree(n_features, d, interaction_only).ok_or_else(too_wide)?;
            n_out_full = n_out_full.checked_add(terms).ok_or_else(too_wide)?;
            if d >= min_degree {
                n_output += terms;
            }
        }
        if n_out_full > MAX_OUTPUT {
            return Err(too_wide());
        }
        if let Some(stored) = state.count("_n_out_full")?
            && stored != n_out_full
        {
            return Err(state.malformed(
                "_n_out_full",
                format!("is {stored} but the settings give {n_out_full} columns"),
            ));
        }
        if let Some(stored) = state.count("n_output_features_")?
            && stored != n_output
        {
            return Err(state.malformed(
                "n_output_features_",
                format!("is {stored} but the settings give {n_output} columns"),
            ));
        }
        Ok(Self {
            label: state.label(),
            n_features,
            min_degree,
            max_degree,
            interaction_only,
            include_bias,
            n_out_full,
            n_output,
        })
    }

    /// How scikit-learn fills `XP` past the first degree, the same for every row: each block
    /// is the columns `source..source + len` times feature `f`, written from `dest` on.
    fn plan(&self) -> Vec<Block> {
        let n = self.n_features;
        let mut blocks = Vec::new();
        let mut current = usize::from(self.include_bias);
        if self.max_degree == 0 {
            return blocks;
        }
        let mut index: Vec<usize> = (current..current + n).collect();
        current += n;
        index.push(current);
        for _ in 2..=self.max_degree {
            let mut next_index = Vec::with_capacity(n + 1);
            let end = index[n];
            for f in 0..n {
                let mut start = index[f];
                next_index.push(current);
                if self.interaction_only {
                    start += index[f + 1] - index[f];
                }
                if end <= start {
                    break;
                }
                blocks.push(Block {
                    source: start,
                    len: end - start,
                    feature: f,
                    dest: current,
                });
                current += end - start;
            }
            next_index.push(current);
            // A `break` leaves fewer than n + 1 entries; later degrees stop at the same place.
            next_index.resize(n + 1, current);
            index = next_index;
        }
        blocks
    }

    /// One row's full expansion into `out` (`n_out_full` long) by `plan`, as scikit-learn
    /// fills `XP`, each product rounded to `dtype` as numpy rounds it.
    fn expand(&self, plan: &[Block], x: &[f64], out: &mut [f64], dtype: Dtype) {
        let n = self.n_features;
        let current = usize::from(self.include_bias);
        if self.include_bias {
            out[0] = 1.0;
        }
        if self.max_degree == 0 {
            return;
        }
        out[current..current + n].copy_from_slice(x);
        for block in plan {
            let (done, rest) = out.split_at_mut(block.dest);
            let factor = x[block.feature];
            let sources = &done[block.source..block.source + block.len];
            for (o, v) in rest[..block.len].iter_mut().zip(sources) {
                *o = dtype.round(v * factor);
            }
        }
    }

    /// The powers of each output column, for its name.
    fn powers(&self) -> Vec<Vec<usize>> {
        let mut all = Vec::new();
        if self.include_bias {
            all.push(Vec::new());
        }
        for d in self.min_degree.max(1)..=self.max_degree {
            let mut combo: Vec<usize> = if self.interaction_only {
                (0..d).collect()
            } else {
                vec![0; d]
            };
            if self.interaction_only && d > self.n_features {
                continue;
            }
            loop {
                all.push(combo.clone());
                // The next combination in itertools' order.
                let mut i = d;
                let advanced = loop {
                    if i == 0 {
                        break false;
                    }
                    i -= 1;
                    let limit = if self.interaction_only {
                        self.n_features - d + i
                    } else {
                        self.n_features - 1
                    };
                    if combo[i] < limit {
                        combo[i] += 1;
                        for j in i + 1..d {
                            combo[j] = if self.interaction_only {
                                combo[j - 1] + 1
                            } else {
                                combo[i]
                            };
                        }
                        break true;
                    }
                };
                if !advanced {
                    break;
                }
            }
        }
        all
    }
}

impl Transformer for PolynomialFeatures {
    fn class(&self) -> &'static str {
        SkClass::PolynomialFeatures.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        self.powers()
            .iter()
            .map(|p| p.first().copied().unwrap_or(0))
            .collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        self.powers()
            .iter()
            .map(|combo| {
                if combo.is_empty() {
                    return "1".to_owned();
                }
                let mut parts = Vec::new();
                let mut i = 0;
                while i < combo.len() {
                    let f = combo[i];
                    let run = combo[i..].iter().take_while(|&&g| g == f).count();
                    parts.push(if run == 1 {
                        input[f].clone()
                    } else {
                        format!("{}^{run}", input[f])
                    });
                    i += run;
                }
                parts.join(" ")
            })
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let (x, dtype) = data.into_floats(&self.label)?;
        if let Some((row, feature)) = first_not_finite(x.view()) {
            return Err(Refusal {
                row,
                feature,
                problem: Problem::Missing {
                    step: self.label.clone(),
                },
            });
        }
        let x = x.as_standard_layout();
        let plan = self.plan();
        let mut values = Array2::zeros((x.nrows(), self.n_output));
        // With a minimum degree, the bias (if any) and then the last columns of the full
        // expansion; without, the expansion is the output row itself.
        let skip = self.n_out_full - self.n_output;
        let mut full = vec![0.0; if skip == 0 { 0 } else { self.n_out_full }];
        for (row, mut o) in x.rows().into_iter().zip(values.rows_mut()) {
            let row = row.to_slice().expect("standard layout");
            if skip == 0 {
                let o = o.into_slice().expect("a new array is contiguous");
                self.expand(&plan, row, o, dtype);
            } else {
                self.expand(&plan, row, &mut full, dtype);
                let bias = usize::from(self.include_bias);
                for j in 0..bias {
                    o[j] = 1.0;
                }
                for j in bias..self.n_output {
                    o[j] = full[skip + j];
                }
            }
        }
        Ok(Data::Numbers { values, dtype })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class(),
            "columns": input,
            "degree": [self.min_degree, self.max_degree],
            "interaction_only": self.interaction_only,
            "include_bias": self.include_bias,
            "n_output_features": self.n_output,
        })
    }
}

/// One step of [`PolynomialFeatures::plan`].
#[derive(Clone, Copy, Debug)]
struct Block {
    source: usize,
    len: usize,
    feature: usize,
    dest: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn poly(min_degree: usize, max_degree: usize, interaction_only: bool) -> PolynomialFeatures {
        let n = 3;
        let mut full = 1;
        let mut output = 1;
        for d in 1..=max_degree {
            let t = terms_of_degree(n, d, interaction_only).unwrap();
            full += t;
            if d >= min_degree {
                output += t;
            }
        }
        PolynomialFeatures {
            label: "PolynomialFeatures".into(),
            n_features: n,
            min_degree,
            max_degree,
            interaction_only,
            include_bias: true,
            n_out_full: full,
            n_output: output,
        }
    }

    #[test]
    fn columns_follow_scikit_learns_order_and_names() {
        let p = poly(0, 2, false);
        let names = p.feature_names_out(&["a".into(), "b".into(), "c".into()]);
        assert_eq!(
            names,
            ["1", "a", "b", "c", "a^2", "a b", "a c", "b^2", "b c", "c^2"]
        );
        let Data::Numbers { values, .. } = p
            .transform(Data::Numbers {
                values: array![[2.0, 3.0, 5.0]],
                dtype: Dtype::F64,
            })
            .unwrap()
        else {
            unreachable!()
        };
        assert_eq!(
            values.row(0).to_vec(),
            [1.0, 2.0, 3.0, 5.0, 4.0, 6.0, 10.0, 9.0, 15.0, 25.0]
        );
    }

    #[test]
    fn interaction_only_and_a_minimum_degree() {
        let p = poly(2, 3, true);
        let names = p.feature_names_out(&["a".into(), "b".into(), "c".into()]);
        assert_eq!(names, ["1", "a b", "a c", "b c", "a b c"]);
        let Data::Numbers { values, .. } = p
            .transform(Data::Numbers {
                values: array![[2.0, 3.0, 5.0]],
                dtype: Dtype::F64,
            })
            .unwrap()
        else {
            unreachable!()
        };
        assert_eq!(values.row(0).to_vec(), [1.0, 6.0, 10.0, 15.0, 30.0]);
    }

    #[test]
    fn an_expansion_without_end_is_counted_without_overflow() {
        assert_eq!(terms_of_degree(1000, 40, false), None);
        assert_eq!(terms_of_degree(4, 2, false), Some(10));
        assert_eq!(terms_of_degree(4, 5, true), Some(0));
    }
}
