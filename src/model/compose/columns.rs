//! A ColumnTransformer's column selection resolved to input positions, as
//! `_get_column_indices` resolves it: a name or index, a list of either, an integer or
//! string array, a boolean mask, or a slice (of positions, Python's rules; of names, both
//! ends included). Every position is checked against the input's width.

use crate::model::LoadError;
use crate::model::allow::{Callable, SkClass};
use crate::model::state::State;
use crate::model::value::{Elements, Node, Value};

/// One selector item.
enum Key<'a> {
    Index(i64),
    Name(&'a str),
    Bool(bool),
}

/// The input positions `value` selects, in its order.
pub fn resolve(
    state: &State<'_>,
    attr: &str,
    value: Value,
    n_features: usize,
    names: Option<&[String]>,
) -> Result<Vec<usize>, LoadError> {
    let heap = state.heap;
    let bad = |problem: String| state.malformed(attr, problem);
    let keys: Vec<Key<'_>> = match (value, heap.node(value)) {
        (Value::Int(i), _) => vec![Key::Index(i)],
        (Value::Bool(b), _) => vec![Key::Bool(b)],
        (_, Some(Node::Str(s))) => vec![Key::Name(s)],
        (_, Some(Node::List(items) | Node::Tuple(items))) => items
            .iter()
            .map(|v| match (v, heap.str(*v)) {
                (Value::Int(i), _) => Ok(Key::Index(*i)),
                (Value::Bool(b), _) => Ok(Key::Bool(*b)),
                (_, Some(s)) => Ok(Key::Name(s)),
                _ => Err(bad(
                    "holds something other than column names, indices or booleans".into(),
                )),
            })
            .collect::<Result<_, _>>()?,
        (_, Some(Node::Array(array))) => match &array.elements {
            Elements::Int(v) => v.iter().map(|&i| Key::Index(i)).collect(),
            Elements::UInt(v) => v.iter().map(|&i| Key::Index(i as i64)).collect(),
            Elements::Bool(v) => v.iter().map(|&b| Key::Bool(b)).collect(),
            Elements::Str(v) => v.iter().map(|s| Key::Name(s)).collect(),
            Elements::Object(values) => values
                .iter()
                .map(|v| {
                    heap.str(*v)
                        .map(Key::Name)
                        .ok_or_else(|| bad("holds objects other than column names".into()))
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(bad(
                    "is an array of neither names, integers nor booleans".into()
                ));
            }
        },
        (_, Some(Node::Object(o))) if o.class == Callable::Slice => {
            return slice(state, attr, o.args, n_features, names);
        }
        // scikit-learn 1.5 and 1.6's remainder columns: a list kept as the object's `data`.
        (_, Some(Node::Object(o))) if o.class == Callable::Class(SkClass::RemainderColsList) => {
            let data = o
                .state
                .and_then(|s| heap.str_dict(s))
                .and_then(|d| d.into_iter().find(|(k, _)| *k == "data").map(|(_, v)| v))
                .ok_or_else(|| bad("is a remainder column list without its data".into()))?;
            if matches!(heap.node(data), Some(Node::Object(_))) {
                return Err(bad("is a remainder column list that holds an object".into()));
            }
            return resolve(state, attr, data, n_features, names);
        }
        _ => {
            return Err(bad(
                "is not a column selection skserve knows (names, indices, a slice or a mask)"
                    .into(),
            ));
        }
    };
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let kinds = (
        keys.iter().any(|k| matches!(k, Key::Index(_))),
        keys.iter().any(|k| matches!(k, Key::Name(_))),
        keys.iter().any(|k| matches!(k, Key::Bool(_))),
    );
    match kinds {
        (true, false, false) => keys
            .iter()
            .map(|k| match k {
                Key::Index(i) => position(*i, n_features).ok_or_else(|| {
                    bad(format!(
                        "selects column {i}, outside the {n_features} columns"
                    ))
                }),
                _ => unreachable!(),
            })
            .collect(),
        (false, true, false) => {
            let names = names.ok_or_else(|| {
                bad(
                    "selects columns by name but the ColumnTransformer has no feature_names_in_"
                        .into(),
                )
            })?;
            keys.iter()
                .map(|k| match k {
                    Key::Name(n) => names.iter().position(|c| c == n).ok_or_else(|| {
                        bad(format!(
                            "selects the column {n:?}, which is not among feature_names_in_"
                        ))
                    }),
                    _ => unreachable!(),
                })
                .collect()
        }
        (false, false, true) => {
            if keys.len() != n_features {
                return Err(bad(format!(
                    "is a mask of {} for {n_features} columns",
                    keys.len()
                )));
            }
            Ok(keys
                .iter()
                .enumerate()
                .filter(|(_, k)| matches!(k, Key::Bool(true)))
                .map(|(i, _)| i)
                .collect())
        }
        _ => Err(bad("mixes names, indices and booleans".into())),
    }
}

/// A position from a Python index (negative counts from the end).
fn position(index: i64, n: usize) -> Option<usize> {
    let n = n as i64;
    let at = if index < 0 { index + n } else { index };
    (0..n).contains(&at).then_some(at as usize)
}

/// `slice(start, stop, step)`.
fn slice(
    state: &State<'_>,
    attr: &str,
    args: Value,
    n_features: usize,
    names: Option<&[String]>,
) -> Result<Vec<usize>, LoadError> {
    let heap = state.heap;
    let bad = |problem: &str| state.malformed(attr, problem);
    let parts = heap
        .tuple(args)
        .filter(|t| t.len() == 3)
        .ok_or_else(|| bad("is a slice without (start, stop, step)"))?;
    let by_name = parts[..2].iter().any(|v| heap.str(*v).is_some());
    if by_name {
        if parts[2] != Value::None && parts[2] != Value::Int(1) {
            return Err(bad("is a slice of names with a step"));
        }
        let names = names.ok_or_else(|| {
            bad("is a slice of names but the ColumnTransformer has no feature_names_in_")
        })?;
        let find =
            |v: Value| -> Result<Option<usize>, LoadError> {
                match (v, heap.str(v)) {
                    (Value::None, _) => Ok(None),
                    (_, Some(s)) => names.iter().position(|c| c == s).map(Some).ok_or_else(|| {
                        bad("is a slice from or to a name not among feature_names_in_")
                    }),
                    _ => Err(bad("is a slice mixing names and indices")),
                }
            };
        let start = find(parts[0])?.unwrap_or(0);
        let stop = find(parts[1])?.map_or(n_features, |s| s + 1);
        return Ok((start..stop.max(start)).collect());
    }
    let int = |v: Value| match v {
        Value::None => Ok(None),
        Value::Int(i) => Ok(Some(i)),
        _ => Err(bad("is a slice of something other than integers or names")),
    };
    let (start, stop, step) = (int(parts[0])?, int(parts[1])?, int(parts[2])?.unwrap_or(1));
    if step == 0 {
        return Err(bad("is a slice with step 0"));
    }
    let n = n_features as i64;
    // Python's slice.indices(n).
    let clamp = |v: Option<i64>, default: i64| -> i64 {
        match v {
            None => default,
            Some(v) if v < 0 => {
                let v = v + n;
                if v < 0 {
                    if step < 0 { -1 } else { 0 }
                } else {
                    v
                }
            }
            Some(v) if v >= n => {
                if step < 0 {
                    n - 1
                } else {
                    n
                }
            }
            Some(v) => v,
        }
    };
    let (start, stop) = if step > 0 {
        (clamp(start, 0), clamp(stop, n))
    } else {
        (clamp(start, n - 1), clamp(stop, -1))
    };
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(i as usize);
        i += step;
    }
    Ok(out)
}
