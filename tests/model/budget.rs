//! The loading budget (`--max-model-bytes`) against files that attack memory rather than run
//! code: the hand-made ones of `tests/common/resources.rs` and the real-model bombs of
//! `tests/fixtures/hostile/`. Each is refused by the loader, by `predict`, `inspect` and
//! `serve` at start (exit 2, the message saying what was too large, no panic, no abort), with
//! every process in a 1 GiB address space so that an allocation without bound fails the test
//! rather than the machine; and a process loading any of them peaks within the budget plus
//! the stated overhead (`LOAD_OVERHEAD_BYTES`), read from its own `/proc/self/status`
//! (VmHWM). A running server's refresher is checked in `tests/api/budget.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use skserve::model::budget::{DEFAULT_MAX_MODEL_BYTES, LOAD_OVERHEAD_BYTES};
use skserve::model::{LoadError, LoadLimits, Model};

#[path = "../common/resources.rs"]
mod resources;
use resources::{Hostile, TOO_LARGE, hostile_resource_files};

use crate::helpers::{close, large_forests, read_json, repo};

const MIB: u64 = 1 << 20;

/// The address space of every process these tests start.
const ADDRESS_SPACE: u64 = 1 << 30;

/// The smaller budget the files are also refused within.
const SMALL_BUDGET: u64 = 64 * MIB;

fn limits(max_model_bytes: u64) -> LoadLimits {
    LoadLimits { max_model_bytes }
}

/// The hand-made files and the real-model bombs of `tests/fixtures/hostile/`.
fn every_file() -> Vec<Hostile> {
    let mut files = hostile_resource_files();
    for name in [
        "joblib_zlib_bomb.joblib",
        "joblib_gzip_bomb.joblib",
        "joblib_bz2_bomb.joblib",
    ] {
        files.push(Hostile {
            name,
            bytes: std::fs::read(repo().join("tests/fixtures/hostile").join(name)).unwrap(),
            refused: TOO_LARGE,
            too_large: true,
        });
    }
    files
}

/// The files written to a directory of this test, removed on drop.
struct Written {
    dir: PathBuf,
    files: Vec<(PathBuf, &'static str)>,
}

impl Written {
    fn new(test: &str, files: &[Hostile]) -> Self {
        let dir = std::env::temp_dir().join(format!("skserve-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = files
            .iter()
            .map(|h| {
                let path = dir.join(format!("{}.pkl", h.name));
                std::fs::write(&path, &h.bytes).unwrap();
                (path, h.refused)
            })
            .collect();
        Self { dir, files }
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The built binary in a 1 GiB address space.
fn limited_skserve() -> Command {
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--as={ADDRESS_SPACE}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_skserve"));
    command
}

#[test]
fn every_file_is_refused_within_the_default_budget_and_a_smaller_one() {
    let mut failures = Vec::new();
    for h in every_file() {
        for budget in [DEFAULT_MAX_MODEL_BYTES, SMALL_BUDGET] {
            match Model::from_bytes_within(&h.bytes, limits(budget)) {
                Ok(_) => failures.push(format!("{} loaded within {budget}", h.name)),
                Err(e) => {
                    let message = e.explain("the file");
                    if !message.contains(h.refused) {
                        failures.push(format!("{}: '{message}' lacks '{}'", h.name, h.refused));
                    }
                    if h.too_large != matches!(e, LoadError::TooLarge(_)) {
                        failures.push(format!("{}: {e:?} is not TooLarge", h.name));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_command_line_refuses_every_file_with_exit_2_in_a_limited_address_space() {
    let files = every_file();
    let written = Written::new("cli", &files);
    let mut failures = Vec::new();
    for (path, refused) in &written.files {
        let name = path.file_name().unwrap().to_string_lossy();
        let runs: [(&str, Vec<&str>); 3] = [
            ("predict", vec!["predict", "--input", "-", "--model"]),
            ("inspect", vec!["inspect", "--model"]),
            ("serve", vec!["serve", "--listen", "127.0.0.1:0", "--model"]),
        ];
        for (command, args) in runs {
            let out = limited_skserve()
                .args(&args)
                .arg(path)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(2)
                || !stderr.contains(refused)
                || stderr.contains("panicked")
                || stderr.contains("memory allocation")
            {
                failures.push(format!(
                    "{command} {name}: exit {:?}, expected 2 naming '{refused}': {stderr}",
                    out.status
                ));
            }
            if command == "inspect" {
                let report: serde_json::Value = serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("inspect {name} printed no JSON: {e}"));
                if report["loadable"] != false {
                    failures.push(format!("inspect {name}: loadable"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Makes this test the measured child when set: `COMMAND\tFILE\tBUDGET`.
const MEASURE: &str = "SKSERVE_MEASURE_LOAD";

/// What a measured child reports on standard output.
#[derive(Debug)]
struct Measured {
    /// Peak resident memory, bytes.
    peak: u64,
    /// The command's exit status (0 loaded, 2 refused).
    exit: u8,
    message: String,
}

/// Runs `command` (`predict`, `inspect`, `serve`) on `file` within `budget` in a child
/// process (this test binary again, in a 1 GiB address space, or three times a budget raised
/// past a third of it: a load that uses its budget reserves more address space than it holds,
/// a malloc arena per thread and a growing vector's old and new blocks at once) and reads its
/// peak memory.
fn measure(command: &str, file: &Path, budget: u64) -> Measured {
    let address_space = ADDRESS_SPACE.max(3 * budget);
    let out = Command::new("prlimit")
        .arg(format!("--as={address_space}"))
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([
            "budget::loading_peaks_within_the_budget_plus_the_stated_overhead",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MEASURE, format!("{command}\t{}\t{budget}", file.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("panicked"),
        "the measured {command} of {} failed: {:?}\n{stdout}\n{stderr}",
        file.display(),
        out.status
    );
    // libtest prints the test's name on the line the child's output starts.
    let line = stdout
        .split_once("measured\t")
        .and_then(|(_, rest)| rest.lines().next())
        .unwrap_or_else(|| panic!("no measurement in:\n{stdout}"));
    let fields: Vec<&str> = line.splitn(3, '\t').collect();
    Measured {
        peak: fields[0].parse().unwrap(),
        exit: fields[1].parse().unwrap(),
        message: fields[2].to_owned(),
    }
}

/// The measured child: runs the command as the binary would, then prints its peak.
fn measured_child(task: &str) {
    use skserve::commands::{CommandError, inspect, predict};
    let [command, file, budget] = task.split('\t').collect::<Vec<_>>()[..] else {
        panic!("bad task {task:?}");
    };
    let (file, limits) = (Path::new(file), limits(budget.parse().unwrap()));
    let result: Result<(), CommandError> = match command {
        "predict" => predict(file, Path::new("/dev/null"), limits, &mut std::io::sink())
            // A model that loads then finds no rows in /dev/null.
            .or_else(|e| match e {
                CommandError::Other(m) if m.contains("no rows") => Ok(()),
                other => Err(other),
            }),
        "inspect" => inspect(file, limits, &mut std::io::sink()),
        "serve" => serve_at_start(file, limits),
        other => panic!("no command {other}"),
    };
    let (exit, message) = match &result {
        Ok(()) => (0, String::new()),
        Err(e) => (e.exit_code(), e.to_string().replace(['\t', '\n'], " ")),
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    println!("measured\t{}\t{exit}\t{message}", peak_kib * 1024);
}

/// `skserve serve --model FILE` up to listening: the first load, then the service is dropped.
fn serve_at_start(file: &Path, limits: LoadLimits) -> Result<(), skserve::commands::CommandError> {
    use skserve::commands::CommandError;
    use skserve::config::ServeSettings;
    use skserve::registry::ModelLoadError;
    use skserve::startup::{Application, StartError};
    use skserve::store::ModelSource;
    let settings = ServeSettings {
        model: ModelSource::File(file.to_owned()),
        model_name: "m".into(),
        load_limits: limits,
        ..ServeSettings::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match Application::build(&settings).await {
            Ok(_) => Ok(()),
            Err(StartError::Model(ModelLoadError::Model { message, .. })) => {
                Err(CommandError::Model(message))
            }
            Err(other) => Err(CommandError::Other(other.to_string())),
        }
    })
}

#[test]
fn loading_peaks_within_the_budget_plus_the_stated_overhead() {
    if let Ok(task) = std::env::var(MEASURE) {
        return measured_child(&task);
    }
    let files = every_file();
    let written = Written::new("peak", &files);
    let mut runs: Vec<(PathBuf, &str, u64, u8)> = Vec::new();
    for (path, refused) in &written.files {
        runs.push((path.clone(), refused, SMALL_BUDGET, 2));
    }
    // The bombs at the default budget too, and models that load.
    for (path, refused) in &written.files {
        if path.to_string_lossy().contains("bomb") {
            runs.push((path.clone(), refused, DEFAULT_MAX_MODEL_BYTES, 2));
        }
    }
    let mut loadable = vec![repo().join("model-files/pickle_model.pkl")];
    for entry in std::fs::read_dir(repo().join("tests/fixtures/tree_seeds")).unwrap() {
        loadable.push(entry.unwrap().path());
    }
    for path in loadable {
        runs.push((path, "", SMALL_BUDGET, 0));
    }
    let mut failures = Vec::new();
    let mut highest = 0u64;
    for (path, refused, budget, exit) in &runs {
        for command in ["predict", "inspect", "serve"] {
            let measured = measure(command, path, *budget);
            let name = path.file_name().unwrap().to_string_lossy();
            let bound = budget + LOAD_OVERHEAD_BYTES;
            highest = highest.max(measured.peak.saturating_sub(*budget));
            if measured.exit != *exit || !measured.message.contains(refused) {
                failures.push(format!(
                    "{command} {name} within {budget}: exit {} ({}), expected {exit} naming \
                     '{refused}'",
                    measured.exit, measured.message
                ));
            }
            if measured.peak > bound {
                failures.push(format!(
                    "{command} {name} within {} MiB peaked at {:.1} MiB, over the budget plus \
                     {} MiB",
                    budget / MIB,
                    measured.peak as f64 / MIB as f64,
                    LOAD_OVERHEAD_BYTES / MIB
                ));
            }
        }
    }
    eprintln!(
        "{} measured loads; the most any took beyond its budget: {:.1} MiB",
        runs.len() * 3,
        highest as f64 / MIB as f64
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `skserve` raises `--max-model-bytes` for a file larger than the budget, refused before it
/// is read, and for a model whose load needs more than it: each refusal names the flag (and
/// its environment variable), and a higher limit loads the model.
#[test]
fn the_flag_sets_the_budget_and_a_higher_one_loads_the_model() {
    let model = repo().join("model-files/pickle_model.pkl");
    let size = std::fs::metadata(&model).unwrap().len();
    let predict = |budget: Option<&str>, env: Option<&str>| {
        let mut command = limited_skserve();
        command.args(["predict", "--input", "model-files/x_test.csv", "--model"]);
        command.arg(&model).current_dir(repo());
        if let Some(budget) = budget {
            command.args(["--max-model-bytes", budget]);
        }
        command.env_remove("SKSERVE_MAX_MODEL_BYTES");
        if let Some(env) = env {
            command.env("SKSERVE_MAX_MODEL_BYTES", env);
        }
        command.output().unwrap()
    };
    let out = predict(Some("512"), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("the file is {size} bytes, beyond the 512 bytes that --max-model-bytes (SKSERVE_MAX_MODEL_BYTES)")),
        "{stderr}"
    );
    let out = predict(None, Some("1KiB"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("too large") && stderr.contains("1 KiB that --max-model-bytes"),
        "{stderr}"
    );
    for budget in ["1MiB", "1048576", "1GiB"] {
        let out = predict(Some(budget), None);
        assert!(
            out.status.success(),
            "{budget}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 22_508);
    }
    let out = predict(Some("12 parsecs"), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("--max-model-bytes"),
        "{stderr}"
    );
}

#[derive(serde::Deserialize)]
struct Listed {
    file: String,
    refused: String,
}

/// Dotted names that reach functions off the list through listed modules (protocols 4 and 5)
/// are refused by `predict` and marked refused in `inspect`'s audit.
#[test]
fn dotted_names_are_refused_and_audited_as_refused() {
    let dir = repo().join("tests/fixtures/hostile");
    let listed: Vec<Listed> = read_json(&dir.join("manifest.json"));
    let dotted: Vec<&Listed> = listed
        .iter()
        .filter(|l| l.file.starts_with("dotted_"))
        .collect();
    assert_eq!(dotted.len(), 3, "the dotted-name fixtures");
    for l in dotted {
        let out = limited_skserve()
            .args(["predict", "--input", "-", "--model"])
            .arg(dir.join(&l.file))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", l.file);
        assert!(
            stderr.contains(&format!(
                "it references {}, which is not an allowed",
                l.refused
            )),
            "{}: {stderr}",
            l.file
        );
        let out = limited_skserve()
            .args(["inspect", "--model"])
            .arg(dir.join(&l.file))
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let audited = report["globals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == l.refused.as_str())
            .unwrap_or_else(|| panic!("{}: {} not audited: {report}", l.file, l.refused));
        assert_eq!(audited["allowed"], false, "{}", l.file);
        assert_eq!(report["loadable"], false);
    }
}

/// Rows of a CSV of numbers, and the values scikit-learn predicted for them.
fn rows_and_predictions(dir: &Path, model: &str) -> (Vec<f64>, Vec<f64>) {
    let numbers = |file: &str| -> Vec<f64> {
        std::fs::read_to_string(dir.join(file))
            .unwrap()
            .split([',', '\n'])
            .filter(|f| !f.trim().is_empty())
            .map(|f| f.trim().parse().unwrap())
            .collect()
    };
    (numbers("rows.csv"), numbers(&format!("{model}.csv")))
}

fn assert_predicts_as_scikit_learn(model: &Model, dir: &Path, name: &str) {
    let (rows, expected) = rows_and_predictions(dir, name);
    let features = model.rows(&rows).unwrap();
    let skserve::model::Prediction::Values(values) = model.predict(&features) else {
        panic!("{name} is a regressor");
    };
    for (got, want) in values.iter().zip(&expected) {
        assert!(close(*got, *want, 1e-9, 1e-12), "{name}: {got} vs {want}");
    }
}

/// Real forests sized against the default budget (`tests/python/trees/
/// make_large_forests.py`): one whose load takes most of it loads within it (and not within
/// half of it), and predicts as scikit-learn did; one whose load takes more is refused, naming
/// the flag, by the loader and `predict`, and loads once the flag is raised. Each load peaks
/// within its budget plus the stated overhead.
#[test]
#[ignore = "full tier: needs scikit-learn (tests/run.sh)"]
fn real_forests_near_and_over_the_default_budget() {
    let dir = large_forests();
    let near = std::fs::read(dir.join("near_budget.pkl")).unwrap();
    let model = Model::from_bytes(&near).expect("the forest near the budget loads within it");
    assert_predicts_as_scikit_learn(&model, &dir, "near_budget");
    drop(model);
    let half = Model::from_bytes_within(&near, limits(DEFAULT_MAX_MODEL_BYTES / 2));
    assert!(
        matches!(half, Err(LoadError::TooLarge(_))),
        "the forest near the budget needs more than half of it"
    );

    let over = std::fs::read(dir.join("over_budget.pkl")).unwrap();
    let err = Model::from_bytes(&over).expect_err("the forest over the budget loads within it");
    assert!(matches!(err, LoadError::TooLarge(_)), "{err}");
    assert!(err.to_string().contains(TOO_LARGE), "{err}");
    let model = Model::from_bytes_within(&over, limits(2 * DEFAULT_MAX_MODEL_BYTES))
        .expect("the forest over the budget loads within twice it");
    assert_predicts_as_scikit_learn(&model, &dir, "over_budget");
    drop(model);

    let predict = |budget: &str| {
        limited_skserve()
            .args(["predict", "--input"])
            .arg(dir.join("rows.csv"))
            .arg("--model")
            .arg(dir.join("over_budget.pkl"))
            .args(["--max-model-bytes", budget])
            .output()
            .unwrap()
    };
    let out = predict("256MiB");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("256 MiB that --max-model-bytes"),
        "{stderr}"
    );
    let out = predict("512MiB");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for (file, budget) in [
        ("near_budget.pkl", DEFAULT_MAX_MODEL_BYTES),
        ("over_budget.pkl", 2 * DEFAULT_MAX_MODEL_BYTES),
    ] {
        for command in ["predict", "serve"] {
            let measured = measure(command, &dir.join(file), budget);
            assert_eq!(measured.exit, 0, "{command} {file}: {}", measured.message);
            eprintln!(
                "{command} {file} within {} MiB: peak {:.1} MiB",
                budget / MIB,
                measured.peak as f64 / MIB as f64
            );
            assert!(
                measured.peak <= budget + LOAD_OVERHEAD_BYTES,
                "{command} {file} peaked at {} bytes",
                measured.peak
            );
        }
    }
}
