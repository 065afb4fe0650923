//! LightGBM's model text (`Booster.save_model`, `model_to_string`, and what a pickled
//! `Booster` keeps) parsed into its fields, as `GBDT::LoadModelFromString` and
//! `Tree::Tree(const char*)` read it: a header of `key=value` lines, then one block per tree
//! (`Tree=i`, its fields, a blank line), then `end of trees`, the feature importances, the
//! training parameters, and `pandas_categorical:` with the categories of a DataFrame's
//! categorical columns.
//!
//! Numbers are read from their text as LightGBM reads them (doubles correctly rounded; LightGBM
//! writes 17 significant digits, which read back exactly). Every array's length is checked
//! against the count the tree states before the tree is used.
//!
//! What must not live here: what the fields mean (`booster`).

use std::collections::HashMap;

/// One tree's fields, by name, as text.
#[derive(Debug, Default)]
pub struct TreeText<'a> {
    pub fields: HashMap<&'a str, &'a str>,
}

/// A model text cut into its parts.
#[derive(Debug)]
pub struct ModelText<'a> {
    pub header: HashMap<&'a str, &'a str>,
    pub trees: Vec<TreeText<'a>>,
    /// The lines between `parameters:` and `end of parameters` (`[linear_tree: 1]`).
    pub parameters: Vec<&'a str>,
    /// The JSON after `pandas_categorical:` (`null`, or a list of lists of categories).
    pub pandas_categorical: Option<&'a str>,
}

/// Trees a model may hold: real ones hold thousands.
pub const MAX_TREES: usize = 1 << 20;

/// `text` cut into header, trees, parameters and categories.
pub fn parse(text: &str) -> Result<ModelText<'_>, String> {
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r')).peekable();
    let mut header = HashMap::new();
    while let Some(&line) = lines.peek() {
        if line.starts_with("Tree=") || line == "end of trees" {
            break;
        }
        lines.next();
        if line.is_empty() {
            continue;
        }
        match line.split_once('=') {
            Some((key, value)) => {
                header.insert(key, value);
            }
            None => {
                header.insert(line, "");
            }
        }
    }
    let mut trees = Vec::new();
    while let Some(&line) = lines.peek() {
        let Some(index) = line.strip_prefix("Tree=") else {
            break;
        };
        lines.next();
        if index.trim().parse::<usize>().ok() != Some(trees.len()) {
            return Err(format!(
                "the tree after Tree={} is numbered {index:?}",
                trees.len().saturating_sub(1)
            ));
        }
        if trees.len() >= MAX_TREES {
            return Err(format!("the model holds more than {MAX_TREES} trees"));
        }
        let mut tree = TreeText::default();
        while let Some(line) = lines.next_if(|l| !l.is_empty()) {
            let (key, value) = line.split_once('=').ok_or_else(|| {
                format!("Tree={index}: the line {:?} is not key=value", short(line))
            })?;
            if tree.fields.insert(key, value).is_some() {
                return Err(format!("Tree={index}: {key} is given twice"));
            }
        }
        trees.push(tree);
        while lines.next_if(|l| l.is_empty()).is_some() {}
    }
    let mut parameters = Vec::new();
    let mut pandas_categorical = None;
    let mut in_parameters = false;
    for line in lines {
        if line == "parameters:" {
            in_parameters = true;
        } else if line == "end of parameters" {
            in_parameters = false;
        } else if in_parameters {
            parameters.push(line);
        } else if let Some(json) = line.strip_prefix("pandas_categorical:") {
            pandas_categorical = Some(json);
        }
    }
    Ok(ModelText {
        header,
        trees,
        parameters,
        pandas_categorical,
    })
}

/// The first characters of a line, for messages.
fn short(line: &str) -> &str {
    &line[..line.floor_char_boundary(60)]
}

impl<'a> TreeText<'a> {
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.fields.get(key).copied()
    }
}

/// `len` numbers of a space-separated field, or why not.
pub fn numbers<T: std::str::FromStr>(
    text: Option<&str>,
    field: &str,
    len: usize,
) -> Result<Vec<T>, String> {
    let text = text.ok_or_else(|| format!("{field} is missing"))?;
    let mut out = Vec::with_capacity(len.min(text.len() / 2 + 1));
    for (i, item) in text.split_ascii_whitespace().enumerate() {
        if i >= len {
            return Err(format!("{field} holds more than {len} values"));
        }
        out.push(
            item.parse::<T>()
                .map_err(|_| format!("{field}[{i}] is {:?}, not a number", short(item)))?,
        );
    }
    if out.len() != len {
        return Err(format!(
            "{field} holds {} values, expected {len}",
            out.len()
        ));
    }
    Ok(out)
}

/// A count from the header or a tree (`num_leaves=31`), at most `max`.
pub fn count(text: Option<&str>, field: &str, max: usize) -> Result<usize, String> {
    let text = text.ok_or_else(|| format!("{field} is missing"))?;
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|&n| n <= max)
        .ok_or_else(|| format!("{field} is {:?}, not a count up to {max}", short(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "tree\nversion=v4\nnum_class=1\nmax_feature_idx=1\n\nTree=0\nnum_leaves=2\n\
                         threshold=0.5\n\nTree=1\nnum_leaves=1\n\n\nend of trees\n\nparameters:\n\
                         [linear_tree: 0]\nend of parameters\n\npandas_categorical:null\n";

    #[test]
    fn a_model_text_is_cut_into_its_parts() {
        let model = parse(MODEL).unwrap();
        assert_eq!(model.header["version"], "v4");
        assert_eq!(model.trees.len(), 2);
        assert_eq!(model.trees[0].get("threshold"), Some("0.5"));
        assert_eq!(model.parameters, vec!["[linear_tree: 0]"]);
        assert_eq!(model.pandas_categorical, Some("null"));
        let values: Vec<f64> = numbers(Some("1 2.5  -3e-2"), "x", 3).unwrap();
        assert_eq!(values, vec![1.0, 2.5, -0.03]);
        assert!(
            numbers::<f64>(Some("1 2"), "x", 3)
                .unwrap_err()
                .contains("holds 2 values")
        );
        assert!(
            numbers::<f64>(Some("1 2 3 4"), "x", 3)
                .unwrap_err()
                .contains("more than 3")
        );
    }

    #[test]
    fn trees_out_of_order_are_refused() {
        let text = MODEL.replace("Tree=1", "Tree=5");
        assert!(parse(&text).unwrap_err().contains("numbered \"5\""));
    }
}
