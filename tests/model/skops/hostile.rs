//! Hostile skops archives, made from a real one (a Pipeline written by skops, checked in under
//! tests/fixtures/skops_seeds) by the edits an attacker would make: types that run code, named
//! directly, inside a `functools.partial`, behind a dotted lookalike, as a bound method or an
//! `operator` function (skops's CVE-2025-54413 and CVE-2025-54412), as a loss that names its
//! own constructor, with a list in the file that claims to trust them; and archives that are
//! malformed on purpose: bombs, lying `.npy` headers, object dtypes, members missing,
//! duplicated or climbing out with `..`, nesting too deep; and real models with one attribute
//! edited (`attributes`). Every one is refused with a reason, by the loader and by the command
//! line with exit status 2.

use serde_json::{Value, json};
use skserve::model::format::skops::{self, Limits};
use skserve::model::{Budget, LoadLimits, Model, inspect};
use zip::CompressionMethod;

use super::surgery::*;
use crate::helpers::{repo, skserve};

/// The seed the edits start from: skops's newest protocol, a ColumnTransformer Pipeline.
pub const SEED: &str = "tests/fixtures/skops_seeds/pipeline_ct_ohe_logistic__skops-newest.skops";

pub struct Hostile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    /// Bounds tighter than the default, where reaching the default would take gigabytes.
    pub limits: Option<Limits>,
    /// What the refusal must say.
    pub says: Vec<&'static str>,
}

fn seed() -> Members {
    Members::of(&std::fs::read(repo().join(SEED)).unwrap())
}

/// The seed with its schema edited.
fn schema_edit(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut members = seed();
    let mut schema = members.schema();
    edit(&mut schema);
    members.set_schema(&schema);
    members.stored()
}

fn estimator(schema: &mut Value) -> &mut Value {
    state_of(schema, "LogisticRegression")
}

fn partial_of(module: &str, function: &str) -> Value {
    json!({ "__class__": "partial", "__module__": "functools", "__loader__": "PartialNode",
            "content": { "func": state("FunctionNode", module, function),
                         "args": tuple(vec![text("__import__('os').system('id')")]),
                         "kwds": dict(vec![]), "namespace": dict(vec![]) } })
}

fn case(name: &'static str, bytes: Vec<u8>, says: &[&'static str]) -> Hostile {
    Hostile {
        name,
        bytes,
        limits: None,
        says: says.to_vec(),
    }
}

/// Every hostile archive, with what its refusal must name.
pub fn archives() -> Vec<Hostile> {
    let mut out = names();
    out.extend(malformed());
    out.extend(super::attributes::archives());
    out
}

/// Archives naming what could run code.
fn names() -> Vec<Hostile> {
    let eval = || state("FunctionNode", "builtins", "eval");
    vec![
        case(
            "eval_as_the_estimator",
            schema_edit(|s| *estimator(s) = eval()),
            &["builtins.eval"],
        ),
        case(
            "system_as_the_pipeline",
            schema_edit(|s| {
                s["__module__"] = json!("os");
                s["__class__"] = json!("system");
            }),
            &["os.system"],
        ),
        case(
            "eval_and_system_both_named",
            schema_edit(|s| {
                add_attr(estimator(s), "a", eval());
                add_attr(estimator(s), "b", state("TypeNode", "os", "system"));
            }),
            &["builtins.eval", "os.system"],
        ),
        case(
            "partial_of_eval",
            schema_edit(|s| add_attr(estimator(s), "evil", partial_of("builtins", "eval"))),
            &["functools.partial of builtins.eval"],
        ),
        case(
            "partial_of_system",
            schema_edit(|s| add_attr(estimator(s), "evil", partial_of("os", "system"))),
            &["functools.partial of os.system"],
        ),
        case(
            "partial_of_an_allowed_function",
            schema_edit(|s| {
                add_attr(
                    estimator(s),
                    "evil",
                    partial_of("sklearn.metrics._regression", "r2_score"),
                )
            }),
            &["functools.partial of sklearn.metrics._regression.r2_score"],
        ),
        case(
            "dotted_module_lookalike",
            schema_edit(|s| {
                estimator(s)["__module__"] = json!("sklearn.linear_model._logistic.os")
            }),
            &["sklearn.linear_model._logistic.os.LogisticRegression"],
        ),
        case(
            "dotted_class_lookalike",
            schema_edit(|s| estimator(s)["__class__"] = json!("LogisticRegression.__reduce__")),
            &["sklearn.linear_model._logistic.LogisticRegression.__reduce__"],
        ),
        case(
            "trusted_list_claims_them",
            schema_edit(|s| {
                add_attr(estimator(s), "a", eval());
                add_attr(estimator(s), "b", state("ObjectNode", "os", "system"));
                let trusted = json!(["builtins.eval", "os.system", "functools.partial"]);
                s["trusted"] = trusted.clone();
                estimator(s)["trusted"] = trusted;
            }),
            &["builtins.eval", "os.system"],
        ),
        case(
            "bound_method",
            schema_edit(|s| {
                let obj = estimator(s).clone();
                let mut method = state(
                    "MethodNode",
                    "sklearn.linear_model._logistic",
                    "LogisticRegression",
                );
                method["content"] = json!({ "func": "__reduce__", "obj": obj });
                add_attr(estimator(s), "evil", method);
            }),
            &["LogisticRegression.__reduce__ (a bound method)"],
        ),
        case(
            "operator_function_claiming_a_trusted_module",
            schema_edit(|s| {
                let mut op = state("OperatorFuncNode", "sklearn.pipeline", "methodcaller");
                op["attrs"] = tuple(vec![text("__reduce__")]);
                add_attr(estimator(s), "evil", op);
            }),
            &["sklearn.pipeline.methodcaller (an operator function)"],
        ),
        case(
            "loss_naming_its_own_constructor",
            schema_edit(|s| {
                let mut loss = state("LossNode", "malicious_mod", "Payload");
                loss["__reduce__"] = json!({ "args": tuple(vec![]) });
                loss["content"] = dict(vec![]);
                add_attr(estimator(s), "evil", loss);
            }),
            &["malicious_mod.Payload"],
        ),
        case(
            "tree_naming_eval",
            schema_edit(|s| {
                let mut tree = state("TreeNode", "builtins", "eval");
                tree["__reduce__"] = json!({ "args": tuple(vec![]) });
                tree["content"] = dict(vec![]);
                add_attr(estimator(s), "evil", tree);
            }),
            &["builtins.eval"],
        ),
        case(
            "key_type_eval",
            schema_edit(|s| {
                estimator(s)["content"]["key_types"]["content"][0] =
                    state("TypeNode", "builtins", "eval")
            }),
            &["builtins.eval"],
        ),
        case(
            "cached_node",
            schema_edit(|s| {
                let mut cached = state("CachedNode", "builtins", "eval");
                cached["__id__"] = json!(1);
                add_attr(estimator(s), "evil", cached);
            }),
            &["builtins.eval (CachedNode)"],
        ),
        case(
            "numpy_load_as_an_array",
            schema_edit(|s| add_attr(estimator(s), "evil", state("NdArrayNode", "numpy", "load"))),
            &["numpy.load"],
        ),
    ]
}

/// Archives malformed on purpose.
fn malformed() -> Vec<Hostile> {
    let mut out = vec![
        case(
            "json_node_holding_code",
            schema_edit(|s| {
                add_attr(estimator(s), "evil", {
                    let mut t = text("x");
                    t["content"] = json!("__import__('os').system('id')");
                    t
                })
            }),
            &["is not a JSON scalar"],
        ),
        case(
            "protocol_from_the_future",
            schema_edit(|s| s["protocol"] = json!(3)),
            &["protocol 3"],
        ),
        case(
            "schema_nested_too_deep",
            schema_edit(|s| {
                let mut deep = text("bottom");
                for _ in 0..100 {
                    deep = json!({ "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                                   "content": [deep] });
                }
                add_attr(estimator(s), "deep", deep);
            }),
            &["nests deeper than 128"],
        ),
    ];
    let seed = seed();
    let array = |needle: &str| seed.array_with(needle);
    let npy_edit = |name: &'static str, needle: &str, from: &str, to: &str, says: &'static str| {
        let mut members = seed.clone();
        let member = array(needle);
        members.set(&member, edit_npy_header(members.get(&member), from, to));
        case(name, members.stored(), &[says])
    };
    out.push(npy_edit(
        "npy_shape_larger_than_its_bytes",
        "'<f8'",
        "'shape': (",
        "'shape': (9",
        "bytes but the file holds",
    ));
    out.push(npy_edit(
        "npy_dtype_complex",
        "'<f8'",
        "'<f8'",
        "'<c16'",
        "unsupported numpy dtype",
    ));
    out.push(npy_edit(
        "npy_dtype_lies_about_its_width",
        "'<f8'",
        "'<f8'",
        "'<f4'",
        "bytes but the file holds",
    ));
    out.push(npy_edit(
        "npy_object_dtype",
        "'<f8'",
        "'<f8'",
        "'|O'",
        "an object array",
    ));
    out.push(npy_edit(
        "npy_shape_overflows",
        "'<f8'",
        "'shape': (",
        "'shape': (4611686018427387904, 4611686018427387904,",
        "impossibly large",
    ));

    let mut missing = seed.clone();
    missing.remove(&array("'<f8'"));
    out.push(case("member_missing", missing.stored(), &["does not hold"]));

    // A second member under an existing name: written under a name of the same length, then
    // renamed in the zip's own headers.
    let mut twice = seed.clone();
    let existing = array("'<f8'");
    let stand_in = "x".repeat(existing.len());
    twice.set(&stand_in, b"\x93NUMPY other bytes".to_vec());
    let mut bytes = twice.stored();
    patch_bytes(&mut bytes, stand_in.as_bytes(), existing.as_bytes());
    out.push(case(
        "member_duplicated",
        bytes,
        &["two members of the same name"],
    ));

    for (name, path) in [
        ("member_climbs_out", "../../etc/cron.d/evil"),
        ("member_at_the_root", "/etc/passwd"),
    ] {
        let mut members = seed.clone();
        members.set(path, b"evil".to_vec());
        out.push(case(
            name,
            members.stored(),
            &["a path outside the archive"],
        ));
    }

    // A member that claims 3 GB.
    let mut bytes = seed.stored();
    patch_size(&mut bytes, 0, 3_000_000_000);
    out.push(case("member_claims_gigabytes", bytes, &["claim"]));

    // A deflated bomb, honest about its size, then lying about it: 64 MiB of zeros in place
    // of an array the schema reads, against a budget of 16 MiB.
    let small = Limits {
        max_total_bytes: 16 << 20,
        ..Limits::DEFAULT
    };
    let mut bomb = seed.clone();
    let target = array("'<f8'");
    let mut zeros = bomb.get(&target)[..128].to_vec();
    zeros.resize(64 << 20, 0);
    bomb.set(&target, zeros);
    let honest = bomb.zip(CompressionMethod::Deflated);
    let index = bomb.0.iter().position(|(n, _)| *n == target).unwrap();
    let mut lying = honest.clone();
    patch_size(&mut lying, index, 1000);
    out.push(Hostile {
        name: "zip_bomb",
        bytes: honest,
        limits: Some(small),
        says: vec!["claim"],
    });
    out.push(Hostile {
        name: "zip_bomb_lying_about_its_size",
        bytes: lying,
        limits: Some(small),
        says: vec!["larger than its declared uncompressed size"],
    });

    let few = Limits {
        max_members: 4,
        ..Limits::DEFAULT
    };
    out.push(Hostile {
        name: "too_many_members",
        bytes: seed.stored(),
        limits: Some(few),
        says: vec!["members (at most 4"],
    });
    // The default bound, reached with empty members.
    let mut crowd = seed.clone();
    crowd
        .0
        .extend((0..Limits::DEFAULT.max_members).map(|i| (i.to_string(), Vec::new())));
    out.push(case(
        "more_members_than_the_default_bound",
        crowd.stored(),
        &["members (at most 100000"],
    ));

    let mut bytes = seed.stored();
    patch_method(&mut bytes, 0, 12);
    out.push(case(
        "member_compressed_with_bzip2",
        bytes,
        &["compressed with Bzip2"],
    ));
    let mut bytes = seed.stored();
    patch_encrypted(&mut bytes, 0);
    out.push(case("member_encrypted", bytes, &["encrypted"]));
    let mut bytes = seed.stored();
    patch_shared(&mut bytes, 1, 0);
    out.push(case("members_sharing_bytes", bytes, &["share bytes"]));

    let mut no_schema = seed.clone();
    no_schema.remove("schema.json");
    out.push(case(
        "zip_without_a_schema",
        no_schema.stored(),
        &["not a skops archive"],
    ));
    out.push(case(
        "empty_zip",
        Members(Vec::new()).stored(),
        &["not a skops archive"],
    ));
    out
}

fn load(h: &Hostile) -> Result<Model, String> {
    let budget = Budget::new(LoadLimits::default());
    skops::load(&h.bytes, h.limits.unwrap_or(Limits::DEFAULT), &budget)
        .map_err(|e| e.explain(h.name))
}

#[test]
fn every_hostile_archive_is_refused_with_its_reason() {
    let archives = archives();
    assert!(archives.len() >= 35, "{} archives", archives.len());
    let mut failures = Vec::new();
    for h in &archives {
        match load(h) {
            Ok(_) => failures.push(format!("{} loaded", h.name)),
            Err(message) => {
                eprintln!("{}: {message}", h.name);
                for says in &h.says {
                    if !message.contains(says) {
                        failures.push(format!("{}: '{message}' does not say '{says}'", h.name));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_refusal_names_every_type_that_is_not_allowed_and_the_audit_lists_them() {
    let h = names()
        .into_iter()
        .find(|h| h.name == "trusted_list_claims_them")
        .unwrap();
    let message = load(&h).unwrap_err();
    assert!(message.starts_with("refusing to load"), "{message}");
    let report = inspect(&h.bytes, h.name);
    assert_eq!(
        (report.format, report.protocol, report.loadable),
        ("skops", Some(2), false)
    );
    let refused: Vec<&str> = report
        .globals
        .iter()
        .filter(|g| !g.allowed)
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(refused, ["builtins.eval", "os.system"]);
    assert!(
        report
            .globals
            .iter()
            .any(|g| g.allowed && g.name == "sklearn.pipeline.Pipeline")
    );
}

/// Each archive refused by `skserve predict` and `skserve inspect` with exit status 2 and the
/// reason on stderr, and never a panic (the ones that need tighter bounds than the defaults
/// are the loader's alone).
#[test]
fn the_command_line_refuses_every_hostile_archive_with_exit_2() {
    let dir = std::env::temp_dir().join(format!("skserve-hostile-skops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for h in archives().into_iter().filter(|h| h.limits.is_none()) {
        let path = dir.join(format!("{}.skops", h.name));
        std::fs::write(&path, &h.bytes).unwrap();
        let out = skserve()
            .args(["predict", "--input", "-", "--model"])
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", h.name);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", h.name);
        for says in &h.says {
            assert!(stderr.contains(says), "{}: {stderr}", h.name);
        }
        let out = skserve()
            .args(["inspect", "--model"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "inspect {}", h.name);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("inspect {} printed no JSON: {e}", h.name));
        assert_eq!(report["loadable"], false, "{}", h.name);
    }
    std::fs::remove_dir_all(&dir).ok();
}
