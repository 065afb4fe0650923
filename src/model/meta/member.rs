//! The estimators a meta-estimator holds ("members"), read through the catalog's
//! [`StepReader`] so that any served class may be one, and what each is given.
//!
//! A member given the meta-estimator's own input (a voter, a bagged estimator, a calibrated
//! classifier) may be a Pipeline: its transformers are lifted out into one [`Fan`] that runs
//! before the meta-estimator, every member's steps side by side, so that a string column or a
//! missing value is refused naming the client's column, as at the top of a Pipeline. Each
//! member then reads its own block of the fan's output ([`Route::Range`]). When no member has
//! steps there is no fan: every member reads the input itself, or the columns it was fitted on
//! ([`Route::Columns`], a bagged estimator's feature subset).
//!
//! A member given what the meta-estimator computes (a stacked ensemble's final estimator, a
//! link of a chain) keeps its steps ([`Inner`]): they run inside on numbers.
//!
//! What must not live here: what any one meta-estimator does with its members' answers.

use ndarray::{Array2, ArrayView2, Axis, CowArray, Ix2, Slice};

use crate::model::LoadError;
use crate::model::classes::Classes;
use crate::model::compose::{self, Step, StepReader, needs_before};
use crate::model::estimator::{Data, Needs, Prediction, Predictor, Refusal, Target, Transformer};
use crate::model::input::{ColumnKind, Dtype};
use crate::model::state::State;
use crate::model::value::Value;

/// What part of the matrix the meta-estimator is given a member reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// All of it.
    All,
    /// These columns, in this order (`X[:, features]`).
    Columns(Vec<usize>),
    /// A block of the fan's output.
    Range(usize, usize),
}

impl Route {
    /// The member's input out of `x`: a view where it can be one.
    pub fn view<'a>(&self, x: ArrayView2<'a, f64>) -> CowArray<'a, f64, Ix2> {
        match self {
            Self::All => CowArray::from(x),
            Self::Columns(columns) => CowArray::from(gather(x, columns)),
            Self::Range(start, end) => {
                CowArray::from(x.slice_axis_move(Axis(1), Slice::from(*start..*end)))
            }
        }
    }
}

/// `x[:, columns]`, row by row: each row's values read where they lie and written in order
/// (a copy column by column writes every row at a stride).
fn gather(x: ArrayView2<'_, f64>, columns: &[usize]) -> Array2<f64> {
    let mut out = Array2::zeros((x.nrows(), columns.len()));
    for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
        for (o, &c) in o.iter_mut().zip(columns) {
            *o = row[c];
        }
    }
    out
}

/// One estimator of a meta-estimator, given the meta-estimator's input.
#[derive(Debug)]
pub struct Member {
    pub name: String,
    pub predictor: Box<dyn Predictor>,
    pub route: Route,
    /// Wrappers around it (`GridSearchCV`), for `inspect`.
    pub wrappers: Vec<&'static str>,
}

impl Member {
    /// `predict` on the member's part of `x`.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        self.predictor.predict(self.route.view(x).view())
    }

    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.predictor.predict_proba(self.route.view(x).view())
    }

    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.predictor.decision_function(self.route.view(x).view())
    }

    pub fn describe(&self) -> serde_json::Value {
        describe_member(&self.name, self.predictor.as_ref(), &self.wrappers)
    }
}

/// What `inspect` shows of a member: its own description, named.
pub fn describe_member(
    name: &str,
    predictor: &dyn Predictor,
    wrappers: &[&'static str],
) -> serde_json::Value {
    let mut d = predictor.describe();
    if let Some(obj) = d.as_object_mut() {
        obj.insert("name".into(), name.into());
        if !wrappers.is_empty() {
            obj.insert("wrappers".into(), wrappers.to_vec().into());
        }
    }
    d
}

/// A member as read, before its transformers are lifted out.
pub struct Read {
    pub name: String,
    pub model: compose::Model,
    /// The input columns it was fitted on, when not all of them.
    pub columns: Option<Vec<usize>>,
}

/// Reads the estimator at `value` (a member named `name`, fitted on `width` columns) as a
/// model: transformers ending in a predictor.
pub fn read_model(
    state: &State<'_>,
    reader: &dyn StepReader,
    attr: &str,
    value: Value,
    name: &str,
    width: usize,
) -> Result<compose::Model, LoadError> {
    let path = state.path.join(name);
    match reader.read(value, &path, Some(width))? {
        Step::Model(model) => {
            let takes = model
                .transformers
                .first()
                .map_or(model.predictor.n_features_in(), |(_, t)| t.n_features_in());
            if takes != width {
                return Err(state.malformed(
                    attr,
                    format!("holds '{name}', which takes {takes} features but is given {width}"),
                ));
            }
            Ok(model)
        }
        Step::Transformer(t) => Err(LoadError::Unsupported(format!(
            "step {path} ({}) only transforms; {} needs an estimator that predicts there",
            t.class(),
            state.class.name()
        ))),
        Step::Passthrough | Step::Drop => Err(state.malformed(attr, "is not an estimator")),
    }
}

/// The members given the meta-estimator's input of `width` columns, with the fan their
/// transformers run in (if any has some), and the block of the fan's output the input itself
/// takes when `passthrough` asks for it beside theirs.
pub struct Assembled {
    pub fan: Option<Fan>,
    pub members: Vec<Member>,
    pub passthrough: Option<Route>,
}

pub fn assemble(
    label: &str,
    width: usize,
    reads: Vec<Read>,
    passthrough: bool,
) -> Result<Assembled, LoadError> {
    let lifted = reads.iter().any(|r| !r.model.transformers.is_empty());
    if !lifted {
        let members = reads
            .into_iter()
            .map(|r| Member {
                name: r.name,
                predictor: r.model.predictor,
                route: r.columns.map_or(Route::All, Route::Columns),
                wrappers: r.model.wrappers,
            })
            .collect();
        return Ok(Assembled {
            fan: None,
            members,
            passthrough: passthrough.then_some(Route::All),
        });
    }
    let mut parts = Vec::with_capacity(reads.len() + 1);
    let mut members = Vec::with_capacity(reads.len());
    let mut at = 0;
    for r in reads {
        let out = r
            .model
            .transformers
            .last()
            .map_or(r.columns.as_ref().map_or(width, Vec::len), |(_, t)| {
                t.sources().len()
            });
        members.push(Member {
            name: r.name.clone(),
            predictor: r.model.predictor,
            route: Route::Range(at, at + out),
            wrappers: r.model.wrappers,
        });
        at += out;
        parts.push(FanPart {
            name: r.name,
            columns: r.columns,
            steps: r.model.transformers,
        });
    }
    let passthrough = passthrough.then(|| {
        parts.push(FanPart {
            name: "passthrough".into(),
            columns: None,
            steps: Vec::new(),
        });
        Route::Range(at, at + width)
    });
    Ok(Assembled {
        fan: Some(Fan {
            label: label.to_owned(),
            n_features: width,
            parts,
            refuses_missing: None,
        }),
        members,
        passthrough,
    })
}

/// One member's steps in a [`Fan`].
#[derive(Debug)]
struct FanPart {
    name: String,
    /// The input columns it is given, when not all of them.
    columns: Option<Vec<usize>>,
    steps: Vec<(String, Box<dyn Transformer>)>,
}

impl FanPart {
    /// For each output feature, the input column it comes from.
    fn sources(&self, n_features: usize) -> Vec<usize> {
        let mut sources: Vec<usize> = self
            .columns
            .clone()
            .unwrap_or_else(|| (0..n_features).collect());
        for (_, step) in &self.steps {
            sources = step.sources().iter().map(|&s| sources[s]).collect();
        }
        sources
    }
}

/// The transformers of a meta-estimator's members, each on its own copy of the input, their
/// outputs side by side in the members' order.
#[derive(Debug)]
pub struct Fan {
    /// The meta-estimator, as messages name it.
    label: String,
    n_features: usize,
    parts: Vec<FanPart>,
    /// The meta-estimator that refuses a missing value before its members see it.
    refuses_missing: Option<&'static str>,
}

impl Fan {
    /// The same fan, refusing a missing value in its input as `step` does.
    pub fn refusing_missing(self, step: &'static str) -> Self {
        Self {
            refuses_missing: Some(step),
            ..self
        }
    }

    fn check_missing(&self, data: &Data, step: &str) -> Result<(), Refusal> {
        for feature in 0..data.n_columns() {
            for row in 0..data.n_rows() {
                if matches!(data.cell(row, feature), crate::model::input::Cell::Missing) {
                    return Err(Refusal {
                        row,
                        feature,
                        problem: crate::model::estimator::Problem::Missing {
                            step: step.to_owned(),
                        },
                    });
                }
            }
        }
        Ok(())
    }
}

impl Transformer for Fan {
    fn class(&self) -> &'static str {
        "members' steps"
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        self.parts
            .iter()
            .flat_map(|p| p.sources(self.n_features))
            .collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for part in &self.parts {
            let mut names: Vec<String> = match &part.columns {
                Some(columns) => columns.iter().map(|&c| input[c].clone()).collect(),
                None => input.to_vec(),
            };
            for (_, step) in &part.steps {
                names = step.feature_names_out(&names);
            }
            out.extend(names.into_iter().map(|n| format!("{}__{n}", part.name)));
        }
        out
    }

    fn needs(&self) -> Vec<Needs> {
        let mut per_column: Vec<Vec<Needs>> = vec![Vec::new(); self.n_features];
        for part in &self.parts {
            let mut needs = vec![
                Needs::AsOutput;
                part.steps
                    .last()
                    .map_or(part.sources(self.n_features).len(), |(_, t)| t
                        .sources()
                        .len())
            ];
            for (_, step) in part.steps.iter().rev() {
                needs = needs_before(step.as_ref(), &needs);
            }
            let columns: Vec<usize> = part
                .columns
                .clone()
                .unwrap_or_else(|| (0..self.n_features).collect());
            for (need, column) in needs.into_iter().zip(columns) {
                per_column[column].push(need);
            }
        }
        per_column
            .into_iter()
            .map(|needs| {
                if needs.is_empty() {
                    Needs::Kind(ColumnKind::Unused)
                } else {
                    compose::combine(needs)
                }
            })
            .collect()
    }

    fn categories(&self, feature: usize) -> Option<Vec<String>> {
        self.parts.iter().find_map(|part| {
            let local = match &part.columns {
                Some(columns) => columns.iter().position(|&c| c == feature)?,
                None => feature,
            };
            part.steps.first()?.1.categories(local)
        })
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        if let Some(step) = self.refuses_missing {
            self.check_missing(&data, step)?;
        }
        let n_rows = data.n_rows();
        let mut outputs = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            let (mut out, mut sources) = match &part.columns {
                Some(columns) => (data.select(columns), columns.clone()),
                None => (data.clone(), (0..self.n_features).collect::<Vec<_>>()),
            };
            for (_, step) in &part.steps {
                out = step.transform(out).map_err(|mut refusal| {
                    refusal.feature = sources[refusal.feature];
                    refusal
                })?;
                sources = step.sources().iter().map(|&s| sources[s]).collect();
            }
            outputs.push(out);
        }
        Ok(Data::hstack(outputs, n_rows))
    }

    fn chain(&self) -> Vec<String> {
        Vec::new()
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let members: Vec<serde_json::Value> = self
            .parts
            .iter()
            .map(|part| {
                let mut names: Vec<String> = match &part.columns {
                    Some(columns) => columns.iter().map(|&c| input[c].clone()).collect(),
                    None => input.to_vec(),
                };
                let steps: Vec<serde_json::Value> = part
                    .steps
                    .iter()
                    .map(|(name, step)| {
                        let mut d = step.describe(&names);
                        if let Some(obj) = d.as_object_mut() {
                            obj.insert("step".into(), name.clone().into());
                        }
                        names = step.feature_names_out(&names);
                        d
                    })
                    .collect();
                serde_json::json!({ "member": part.name, "steps": steps })
            })
            .collect();
        serde_json::json!({
            "class": "members' steps",
            "of": self.label,
            "members": members,
        })
    }
}

/// An estimator given what its meta-estimator computes (stacked predictions, a chain's
/// earlier links): its own transformers run inside, on numbers.
#[derive(Debug)]
pub struct Inner {
    pub name: String,
    pub steps: Vec<(String, Box<dyn Transformer>)>,
    pub predictor: Box<dyn Predictor>,
    pub wrappers: Vec<&'static str>,
}

impl Inner {
    /// Reads the estimator at `value`, given `width` computed columns. Its steps must take
    /// numbers and know no categories: what reaches them is computed, never a client's column.
    pub fn read(
        state: &State<'_>,
        reader: &dyn StepReader,
        attr: &str,
        value: Value,
        name: &str,
        width: usize,
    ) -> Result<Self, LoadError> {
        let model = read_model(state, reader, attr, value, name, width)?;
        let path = state.path.join(name);
        for (step, t) in &model.transformers {
            let knows_categories = (0..t.n_features_in()).any(|i| t.categories(i).is_some());
            let takes_text = t.needs().contains(&Needs::Kind(ColumnKind::Text));
            if knows_categories || takes_text {
                return Err(LoadError::Unsupported(format!(
                    "step {path} > {step} ({}) encodes categories, but it is given the numbers \
                     {} computes",
                    t.class(),
                    state.class.name()
                )));
            }
        }
        Ok(Self {
            name: name.to_owned(),
            steps: model.transformers,
            predictor: model.predictor,
            wrappers: model.wrappers,
        })
    }

    /// `x` through the steps, as numbers. The steps cannot refuse numbers (checked at load)
    /// but for values none of them takes, the non-finite ones a computation may overflow to;
    /// those are passed on as not-a-number.
    pub fn features<'a>(&self, x: ArrayView2<'a, f64>) -> CowArray<'a, f64, Ix2> {
        if self.steps.is_empty() {
            return CowArray::from(x);
        }
        let mut data = Data::Numbers {
            values: x.to_owned(),
            dtype: Dtype::F64,
        };
        for (_, step) in &self.steps {
            data = match step.transform(data) {
                Ok(data) => data,
                Err(_) => {
                    let width = self.predictor.n_features_in();
                    return CowArray::from(Array2::from_elem((x.nrows(), width), f64::NAN));
                }
            };
        }
        match data.into_numbers(self.predictor.class()) {
            Ok((values, _)) => CowArray::from(values),
            Err(_) => {
                let width = self.predictor.n_features_in();
                CowArray::from(Array2::from_elem((x.nrows(), width), f64::NAN))
            }
        }
    }

    pub fn n_features_in(&self) -> usize {
        self.steps
            .first()
            .map_or(self.predictor.n_features_in(), |(_, t)| t.n_features_in())
    }

    pub fn describe(&self) -> serde_json::Value {
        let mut d = describe_member(&self.name, self.predictor.as_ref(), &self.wrappers);
        if !self.steps.is_empty()
            && let Some(obj) = d.as_object_mut()
        {
            let names: Vec<String> = (0..self.n_features_in()).map(|i| format!("x{i}")).collect();
            let mut names = names;
            let steps: Vec<serde_json::Value> = self
                .steps
                .iter()
                .map(|(name, step)| {
                    let mut d = step.describe(&names);
                    if let Some(o) = d.as_object_mut() {
                        o.insert("step".into(), name.clone().into());
                    }
                    names = step.feature_names_out(&names);
                    d
                })
                .collect();
            obj.insert("steps".into(), steps.into());
        }
        d
    }
}

/// The classes of a member that must be a classifier.
pub fn classes_of<'a>(
    state: &State<'_>,
    attr: &str,
    name: &str,
    predictor: &'a dyn Predictor,
) -> Result<&'a Classes, LoadError> {
    match predictor.target() {
        Target::Classes(classes) => Ok(classes),
        _ => Err(state.malformed(
            attr,
            format!(
                "holds '{name}' ({}), which is not a classifier of one output",
                predictor.class()
            ),
        )),
    }
}

/// The number of outputs of a member that must be a regressor.
pub fn outputs_of(
    state: &State<'_>,
    attr: &str,
    name: &str,
    predictor: &dyn Predictor,
) -> Result<(usize, bool), LoadError> {
    match predictor.target() {
        Target::Values { n_outputs, one_d } if predictor.predicts() => Ok((n_outputs, one_d)),
        _ => Err(state.malformed(
            attr,
            format!(
                "holds '{name}' ({}), which is not a regressor",
                predictor.class()
            ),
        )),
    }
}

/// For each class of a member, its position among `classes` (the meta-estimator's), when
/// every one of them is there.
pub fn positions(member: &Classes, classes: &Classes) -> Option<Vec<usize>> {
    (0..member.len())
        .map(|i| (0..classes.len()).find(|&j| classes.label(j) == member.label(i)))
        .collect()
}

/// A prediction as numbers, as numpy holds it: a classifier's labels as their values (its
/// classes must be numbers), a regressor's values as they are.
pub fn prediction_values(prediction: Prediction, classes: Option<&Classes>) -> Array2<f64> {
    match prediction {
        Prediction::Values(values) => values,
        Prediction::Classes(indices) => {
            let column: Vec<f64> = indices
                .iter()
                .map(|&i| classes.map_or(f64::NAN, |c| label_value(c, i)))
                .collect();
            Array2::from_shape_vec((column.len(), 1), column).expect("one column")
        }
        Prediction::MultiClasses(indices) => indices.mapv(|i| i as f64),
    }
}

/// A numeric label's value (`NaN` for a string, which no caller allows through).
pub fn label_value(classes: &Classes, index: usize) -> f64 {
    match classes {
        Classes::Int(v) => v[index] as f64,
        Classes::Float(v) => v[index],
        Classes::Bool(v) => f64::from(u8::from(v[index])),
        Classes::Str(_) => f64::NAN,
    }
}

/// Whether `predictor` has a `decision_function` (linear models compute one without listing
/// it among their outputs): asked of one row of zeros.
pub fn has_decision(predictor: &dyn Predictor) -> bool {
    if predictor
        .methods()
        .contains(&crate::model::estimator::Method::DecisionFunction)
    {
        return true;
    }
    let probe = Array2::zeros((1, predictor.n_features_in()));
    predictor.decision_function(probe.view()).is_some()
}

/// Whether every label is a number (what a meta-estimator that computes with labels needs).
pub fn numeric(classes: &Classes) -> bool {
    !matches!(classes, Classes::Str(_))
}
