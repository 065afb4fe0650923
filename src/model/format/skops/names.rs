//! What each state of `schema.json` may be, decided by skserve alone: the state's loader
//! (`ObjectNode`, `NdArrayNode`, …) says what kind of value it builds, and its `__module__` and
//! `__class__` are resolved through the allow-list (`crate::model::allow`) exactly as a
//! pickle's GLOBAL is. The name checked is the name built: no loader is trusted to build a
//! type other than the one it names, and a trusted-type list inside the file is never read.
//!
//! skops's own loader was broken twice by that gap (CVE-2025-54412: an `OperatorFuncNode`
//! audited by its `__module__` but built from `operator`; CVE-2025-54413: a `MethodNode`
//! audited by one type and looked up on another). Here the loaders that could only ever be
//! used by calling something (methods, `operator` functions) are refused whatever they name,
//! and nothing a state names is ever called: every kind below is data the rooms read.
//!
//! What must not live here: building the values (`build`), or what the rooms make of them.

use crate::model::allow::{self, Callable, SkClass};
use crate::model::pickle::{GlobalRef, PARTIAL_MAY_WRAP};

use super::json::Json;

/// What a state builds, its name checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `JsonNode`: one JSON scalar.
    Scalar,
    Dict,
    List,
    Tuple,
    Set,
    /// `BytesNode`, `BytearrayNode`: a member's bytes.
    Bytes,
    /// `SliceNode`: `builtins.slice` of its three ends.
    Slice,
    /// `TypeNode`, `FunctionNode`: an allowed global, as a value, never called.
    Global(Callable),
    /// A `TypeNode` among a dict's `key_types`: how the key's text is read.
    Key(Key),
    /// `PartialNode`: `functools.partial` of `check_array`, the one function it may wrap.
    Partial,
    /// `ObjectNode`: an instance of an allowed class, or an inert marker, with its state.
    Object(Callable),
    /// `ConstructorFromReduceNode`: an instance from its constructor's arguments.
    Constructed(Callable),
    /// `TreeNode`, `LossNode`, `SGDNode`: constructor arguments and a state.
    Reduced(Callable),
    /// `NdArrayNode`: an array, or a numpy scalar when the class is a numpy scalar type.
    Array {
        scalar: bool,
    },
    /// `MaskedArrayNode`: kept as an inert marker of its data and mask.
    Masked(Callable),
    /// `DTypeNode`: a dtype, from an empty array of it.
    Dtype,
    /// `RandomStateNode`, `RandomGeneratorNode`: inert, never read.
    Random(Callable),
}

/// How a dict key's text is read, as skops calls the key's type on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Str,
    Int,
    Float,
    Bool,
}

/// Why a state is not built.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// It names a type skserve does not allow (as the audit lists it).
    Name(String),
    /// It is not a state skops writes.
    Malformed(String),
}

/// The types a container loader may name: builtins, which are data.
const BUILTIN: &[(&str, &str, Kind)] = &[
    ("JsonNode", "str", Kind::Scalar),
    ("DictNode", "dict", Kind::Dict),
    ("ListNode", "list", Kind::List),
    ("TupleNode", "tuple", Kind::Tuple),
    ("SetNode", "set", Kind::Set),
    ("BytesNode", "bytes", Kind::Bytes),
    ("BytearrayNode", "bytearray", Kind::Bytes),
    ("SliceNode", "slice", Kind::Slice),
];

/// The loader, module and class a state names.
pub fn parts(state: &Json) -> Result<(&str, &str, &str), Refusal> {
    let field = |key: &str| {
        state.get(key).and_then(Json::str).ok_or_else(|| {
            Refusal::Malformed(format!(
                "a state without a {key} string (not written by skops)"
            ))
        })
    };
    Ok((
        field("__loader__")?,
        field("__module__")?,
        field("__class__")?,
    ))
}

/// What `state` builds; `key` when it is one of a dict's `key_types`.
pub fn kind(state: &Json, key: bool) -> Result<Kind, Refusal> {
    let (loader, module, class) = parts(state)?;
    let name = format!("{module}.{class}");
    let refused = |note: Option<&str>| {
        Refusal::Name(match note {
            Some(note) => format!("{name} ({note})"),
            None => name.clone(),
        })
    };
    if let Some((_, builtin, kind)) = BUILTIN.iter().find(|(l, _, _)| *l == loader) {
        return if module == "builtins" && class == *builtin {
            Ok(kind.clone())
        } else {
            Err(refused(Some(loader)))
        };
    }
    let resolved = allow::resolve(module, class);
    // A name allowed elsewhere but not under this loader says which loader it came with.
    let note = resolved.is_some().then_some(loader);
    let kind = match (loader, resolved) {
        ("TypeNode", _) if key => key_kind(module, class).map(Kind::Key),
        ("TypeNode" | "FunctionNode", Some(c)) => Some(Kind::Global(c)),
        ("PartialNode", Some(Callable::Partial)) => {
            let wrapped = state
                .get("content")
                .and_then(|c| c.get("func"))
                .map(|f| parts(f).map(|(_, m, c)| format!("{m}.{c}")))
                .transpose()?
                .unwrap_or_else(|| "nothing".into());
            if wrapped != PARTIAL_MAY_WRAP {
                return Err(Refusal::Name(format!("functools.partial of {wrapped}")));
            }
            Some(Kind::Partial)
        }
        ("ObjectNode", Some(c @ (Callable::Class(_) | Callable::Inert(_)))) => {
            Some(Kind::Object(c))
        }
        ("ConstructorFromReduceNode", Some(c @ (Callable::Class(_) | Callable::Inert(_)))) => {
            Some(Kind::Constructed(c))
        }
        // skops builds a TreeNode as a Tree whatever it names: only that name is accepted.
        ("TreeNode", Some(c @ Callable::Class(SkClass::Tree))) => Some(Kind::Reduced(c)),
        ("LossNode" | "SGDNode", Some(c @ Callable::Inert(_))) => Some(Kind::Reduced(c)),
        ("NdArrayNode", Some(Callable::NumpyNdarray)) => Some(Kind::Array { scalar: false }),
        ("NdArrayNode", Some(Callable::Inert(_))) if module == "numpy" => {
            Some(Kind::Array { scalar: true })
        }
        ("MaskedArrayNode", Some(c @ Callable::Inert(_))) if class == "MaskedArray" => {
            Some(Kind::Masked(c))
        }
        ("DTypeNode", Some(Callable::NumpyDtype)) => Some(Kind::Dtype),
        ("RandomStateNode" | "RandomGeneratorNode", Some(c @ Callable::Inert(_))) => {
            Some(Kind::Random(c))
        }
        // A bound method is only ever used by calling it: refused whatever it is bound to.
        ("MethodNode", _) => {
            let func = state
                .get("content")
                .and_then(|c| c.get("func"))
                .and_then(Json::str)
                .unwrap_or("?");
            return Err(Refusal::Name(format!("{name}.{func} (a bound method)")));
        }
        ("OperatorFuncNode", _) => return Err(refused(Some("an operator function"))),
        (
            "ObjectNode"
            | "TypeNode"
            | "FunctionNode"
            | "PartialNode"
            | "ConstructorFromReduceNode"
            | "TreeNode"
            | "LossNode"
            | "SGDNode"
            | "NdArrayNode"
            | "MaskedArrayNode"
            | "DTypeNode"
            | "RandomStateNode"
            | "RandomGeneratorNode",
            _,
        ) => None,
        // DefaultDictNode, CachedNode, SparseMatrixNode, QuantileForestNode, and anything
        // newer: not read.
        (other, _) => return Err(refused(Some(other))),
    };
    kind.ok_or_else(|| refused(note))
}

/// A key type skops records for a dict key: Python's own, or a numpy scalar type.
fn key_kind(module: &str, class: &str) -> Option<Key> {
    let numpy =
        module == "numpy" && matches!(allow::resolve(module, class), Some(Callable::Inert(_)));
    match (module, class) {
        ("builtins", "str") => Some(Key::Str),
        ("builtins", "int") => Some(Key::Int),
        ("builtins", "float") => Some(Key::Float),
        ("builtins", "bool") => Some(Key::Bool),
        (_, "str_") if numpy => Some(Key::Str),
        (_, "bool_") if numpy => Some(Key::Bool),
        (_, c) if numpy && c.starts_with("float") => Some(Key::Float),
        (_, c) if numpy && (c.contains("int") || c == "longlong") => Some(Key::Int),
        _ => None,
    }
}

/// Every name the schema's states give, each allowed or refused, in order of first use: what
/// `inspect` lists, and what a load refuses before it reads any member.
pub fn audit(schema: &Json) -> Vec<GlobalRef> {
    let mut out: Vec<GlobalRef> = Vec::new();
    walk(schema, false, &mut out);
    out
}

fn walk(value: &Json, key: bool, out: &mut Vec<GlobalRef>) {
    let mut record = |name: String, allowed: bool| {
        if !out.iter().any(|g| g.name == name) {
            out.push(GlobalRef { name, allowed });
        }
    };
    match value {
        Json::Object(fields) => {
            let loader = value.get("__loader__").and_then(Json::str);
            if loader.is_some() {
                match (kind(value, key), parts(value)) {
                    (Ok(_), Ok((_, module, class))) => record(format!("{module}.{class}"), true),
                    (Err(Refusal::Name(name)), _) => record(name, false),
                    (Err(Refusal::Malformed(_)), _) | (_, Err(_)) => {}
                }
            }
            for (field, child) in fields {
                // A dict's key types are its `key_types` list's items.
                let child_key = (loader == Some("DictNode") && field == "key_types")
                    || (key && loader == Some("ListNode") && field == "content");
                walk(child, child_key, out);
            }
        }
        Json::Array(items) => items.iter().for_each(|item| walk(item, key, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(loader: &str, module: &str, class: &str) -> Json {
        Json::Object(vec![
            ("__class__".into(), Json::Str(class.into())),
            ("__module__".into(), Json::Str(module.into())),
            ("__loader__".into(), Json::Str(loader.into())),
        ])
    }

    fn refused(loader: &str, module: &str, class: &str) -> String {
        match kind(&state(loader, module, class), false) {
            Err(Refusal::Name(name)) => name,
            other => panic!("{loader} {module}.{class}: {other:?}"),
        }
    }

    #[test]
    fn code_running_names_are_refused_under_every_loader() {
        for loader in [
            "ObjectNode",
            "TypeNode",
            "FunctionNode",
            "ConstructorFromReduceNode",
            "TreeNode",
            "LossNode",
            "NdArrayNode",
            "RandomStateNode",
            "OperatorFuncNode",
            "MethodNode",
            "DefaultDictNode",
            "CachedNode",
        ] {
            for (module, class) in [("builtins", "eval"), ("os", "system"), ("posix", "system")] {
                let name = refused(loader, module, class);
                assert!(name.starts_with(&format!("{module}.{class}")), "{name}");
            }
        }
    }

    #[test]
    fn container_loaders_name_only_their_builtin() {
        assert_eq!(
            kind(&state("DictNode", "builtins", "dict"), false),
            Ok(Kind::Dict)
        );
        assert_eq!(
            refused("DictNode", "collections", "OrderedDict"),
            "collections.OrderedDict (DictNode)"
        );
        assert_eq!(
            refused("JsonNode", "builtins", "eval"),
            "builtins.eval (JsonNode)"
        );
        assert_eq!(
            refused("TupleNode", "collections", "namedtuple"),
            "collections.namedtuple (TupleNode)"
        );
    }

    #[test]
    fn a_loader_builds_only_the_kind_it_names() {
        // A Tree only under TreeNode and as itself; a class never under TypeNode's key rule.
        assert!(matches!(
            kind(&state("TreeNode", "sklearn.tree._tree", "Tree"), false),
            Ok(Kind::Reduced(Callable::Class(SkClass::Tree)))
        ));
        assert!(refused("TreeNode", "sklearn.pipeline", "Pipeline").contains("TreeNode"));
        assert!(refused("NdArrayNode", "sklearn.pipeline", "Pipeline").contains("NdArrayNode"));
        assert!(
            refused("ObjectNode", "numpy.core.multiarray", "_reconstruct").starts_with("numpy")
        );
        assert!(matches!(
            kind(&state("NdArrayNode", "numpy", "float64"), false),
            Ok(Kind::Array { scalar: true })
        ));
        assert_eq!(
            kind(&state("TypeNode", "builtins", "int"), true),
            Ok(Kind::Key(Key::Int))
        );
        assert_eq!(
            kind(&state("TypeNode", "numpy", "int64"), true),
            Ok(Kind::Key(Key::Int))
        );
    }

    #[test]
    fn dotted_lookalikes_are_refused() {
        for (module, class) in [
            (
                "sklearn.linear_model._logistic",
                "LogisticRegression.__init__",
            ),
            ("sklearn.linear_model._logistic.os", "LogisticRegression"),
            ("sklearn.linear_model", "_logistic.LogisticRegression"),
            ("os.sklearn.linear_model._logistic", "LogisticRegression"),
        ] {
            refused("ObjectNode", module, class);
        }
    }

    #[test]
    fn a_partial_may_wrap_only_check_array() {
        let partial = |module: &str, class: &str| {
            let mut p = state("PartialNode", "functools", "partial");
            let content = Json::Object(vec![("func".into(), state("FunctionNode", module, class))]);
            if let Json::Object(fields) = &mut p {
                fields.push(("content".into(), content));
            }
            kind(&p, false)
        };
        assert_eq!(
            partial("sklearn.utils.validation", "check_array"),
            Ok(Kind::Partial)
        );
        assert_eq!(
            partial("builtins", "eval"),
            Err(Refusal::Name("functools.partial of builtins.eval".into()))
        );
        assert_eq!(
            partial("sklearn.metrics._regression", "r2_score"),
            Err(Refusal::Name(
                "functools.partial of sklearn.metrics._regression.r2_score".into()
            ))
        );
    }

    #[test]
    fn the_audit_lists_every_name_once_in_order() {
        let schema = Json::parse(
            br#"{"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
                 "content": {"a": {"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"},
                             "b": {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode", "content": "1"}},
                 "key_types": {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                               "content": [{"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"},
                                           {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"}]},
                 "trusted": ["os.system"]}"#,
            &crate::model::Budget::default(),
        )
        .unwrap();
        let names: Vec<(String, bool)> = audit(&schema)
            .into_iter()
            .map(|g| (g.name, g.allowed))
            .collect();
        assert_eq!(
            names,
            [
                ("builtins.dict".to_owned(), true),
                ("os.system".to_owned(), false),
                ("builtins.str".to_owned(), true),
                ("builtins.list".to_owned(), true),
            ]
        );
    }
}
