//! The encoders of targets, served alone on the one column of labels they transform:
//! LabelEncoder (a label's position in `classes_`; an unseen label refused, as scikit-learn
//! raises) and LabelBinarizer (`pos_label` where the label is, `neg_label` elsewhere: one
//! column for two classes, one per class for more; an unseen label refused). A
//! MultiLabelBinarizer takes a set of labels per row, which no protocol carries as a column,
//! so it is refused with that reason. Inside the meta-estimators that keep them (`le_`,
//! `_label_encoder`, `label_binarizer_`) they are read by those estimators.

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::{Classes, Label, read_classes};
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer};
use crate::model::input::{Cell, ColumnKind, Dtype};
use crate::model::state::State;

#[derive(Clone, Debug, PartialEq)]
pub struct LabelTransformer {
    class: SkClass,
    label: String,
    classes: Classes,
    /// LabelBinarizer's output values.
    binarized: Option<(f64, f64)>,
}

impl LabelTransformer {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let classes = read_classes(state, "classes_")?;
        if classes.is_empty() {
            return Err(state.malformed("classes_", "holds no class"));
        }
        let binarized = match state.class {
            SkClass::LabelEncoder => None,
            SkClass::LabelBinarizer => {
                match state.text_required("y_type_")? {
                    "binary" | "multiclass" => {}
                    other => {
                        return Err(state.unsupported(format!(
                            "was fitted on a {other} target; skserve serves a LabelBinarizer \
                             of one column of labels"
                        )));
                    }
                }
                let number = |name: &str| {
                    state
                        .number(name)?
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| state.malformed(name, "is not a number"))
                };
                Some((number("neg_label")?, number("pos_label")?))
            }
            _ => {
                return Err(state.unsupported(
                    "transforms a set of labels per row, which no request carries as a column",
                ));
            }
        };
        Ok(Self {
            class: state.class,
            label: state.label(),
            classes,
            binarized,
        })
    }

    fn position(&self, cell: Cell<'_>) -> Option<usize> {
        (0..self.classes.len()).find(|&i| match (self.classes.label(i), cell) {
            (Label::Str(a), Cell::Text(b)) => a == b,
            (Label::Int(a), Cell::Number(b)) => a as f64 == b,
            (Label::Float(a), Cell::Number(b)) => a == b,
            (Label::Bool(a), Cell::Number(b)) => f64::from(u8::from(a)) == b,
            _ => false,
        })
    }

    fn width(&self) -> usize {
        match (self.binarized, self.classes.len()) {
            (None, _) | (Some(_), 1 | 2) => 1,
            (Some(_), k) => k,
        }
    }
}

impl Transformer for LabelTransformer {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        1
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.width()]
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        if self.width() == 1 {
            return input.to_vec();
        }
        (0..self.classes.len())
            .map(|i| format!("{}_{}", input[0], self.classes.label(i)))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        let kind = match self.classes {
            Classes::Str(_) => ColumnKind::Text,
            _ => ColumnKind::Number,
        };
        vec![Needs::Kind(kind)]
    }

    fn categories(&self, _feature: usize) -> Option<Vec<String>> {
        Some(
            (0..self.classes.len())
                .map(|i| self.classes.label(i).to_string())
                .collect(),
        )
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let n = data.n_rows();
        let width = self.width();
        let mut values = ndarray::Array2::zeros((n, width));
        for row in 0..n {
            let cell = data.cell(row, 0);
            let Some(position) = self.position(cell) else {
                let problem = match cell {
                    Cell::Missing => Problem::Missing {
                        step: self.label.clone(),
                    },
                    other => Problem::UnknownCategory {
                        value: match other {
                            Cell::Text(t) => t.to_owned(),
                            Cell::Number(v) => crate::model::python_float_or_int(v),
                            Cell::Missing => String::new(),
                        },
                        allowed: self.categories(0).unwrap_or_default().join(", "),
                    },
                };
                return Err(Refusal {
                    row,
                    feature: 0,
                    problem,
                });
            };
            match self.binarized {
                None => values[[row, 0]] = position as f64,
                Some((neg, pos)) => {
                    for c in 0..width {
                        let hit = if width == 1 {
                            position == 1
                        } else {
                            position == c
                        };
                        values[[row, c]] = if hit { pos } else { neg };
                    }
                }
            }
        }
        Ok(Data::Numbers {
            values,
            dtype: Dtype::Int,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "columns": input,
            "classes": self.classes.to_json(),
        })
    }
}
