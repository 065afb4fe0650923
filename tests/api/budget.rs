//! A running server's refresher against files that attack memory (`tests/common/
//! resources.rs`, the real-model bombs of `tests/fixtures/hostile/`, and a file larger than
//! the budget): the built binary in a 1 GiB address space, serving a model from a file (and,
//! in the full tier, from the Cloud Storage emulator). Each bad version is refused and counted
//! (`too_large` when the budget was the cause), the last good model answers throughout, the
//! process never ends, and its peak resident memory (VmHWM) stays within the budget plus the
//! stated overhead, with the allocator settings of the container image (the Dockerfile's
//! `GLIBC_TUNABLES`).

use std::path::{Path, PathBuf};

use skserve::model::budget::LOAD_OVERHEAD_BYTES;

#[path = "../common/resources.rs"]
mod resources;
use resources::{Hostile, hostile_resource_files};

use crate::helpers::{
    BUCKET, GcsEmulator, OBJECT, ServerProcess, challenge_model, other_challenge_model,
    refresh_failures, repo, served_version, spawn_binary_within, wait_for_refresh_failures,
    wait_for_version,
};

/// The address space of the server.
const ADDRESS_SPACE: u64 = 1 << 30;

/// The budget the server loads within.
const BUDGET: u64 = 64 << 20;

/// The bad versions: the hand-made files, the real-model bombs, and a file over the budget.
fn bad_versions() -> Vec<Hostile> {
    let mut files = hostile_resource_files();
    for name in ["joblib_zlib_bomb.joblib", "joblib_bz2_bomb.joblib"] {
        files.push(Hostile {
            name,
            bytes: std::fs::read(repo().join("tests/fixtures/hostile").join(name)).unwrap(),
            refused: resources::TOO_LARGE,
            too_large: true,
        });
    }
    files.push(Hostile {
        name: "a_file_larger_than_the_budget",
        bytes: vec![0x80; BUDGET as usize + 1],
        refused: resources::TOO_LARGE,
        too_large: true,
    });
    files
}

/// The allocator settings the container image runs skserve with (the Dockerfile's
/// `GLIBC_TUNABLES`), with `more`.
fn image_env<'a>(more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    static TUNABLES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let tunables = TUNABLES.get_or_init(|| {
        let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
        dockerfile
            .lines()
            .find_map(|l| l.strip_prefix("ENV GLIBC_TUNABLES="))
            .expect("the Dockerfile sets GLIBC_TUNABLES")
            .to_owned()
    });
    let mut env = vec![("GLIBC_TUNABLES", tunables.as_str())];
    env.extend_from_slice(more);
    env
}

fn reason(h: &Hostile) -> &'static str {
    if h.too_large {
        "too_large"
    } else {
        "malformed"
    }
}

/// Replaces the file at `path` at once (a reader sees the old file or the new one).
fn replace(path: &Path, bytes: &[u8]) {
    let next = path.with_extension("next");
    std::fs::write(&next, bytes).unwrap();
    std::fs::rename(&next, path).unwrap();
}

/// After every bad version a good one, so that the refresher's backoff starts again: the
/// two challenge models in turn, each served once uploaded.
async fn good_again(
    server: &ServerProcess,
    round: usize,
    upload: &impl AsyncFn(Vec<u8>) -> String,
) {
    let bytes = if round.is_multiple_of(2) {
        other_challenge_model()
    } else {
        challenge_model()
    };
    let version = upload(bytes).await;
    wait_for_version(server, &version).await;
}

/// Each bad version, refused and counted while the last good model answers; then the peak.
/// `upload` replaces the model's content and returns the version it will be served as.
async fn refuses_each_and_keeps_serving(
    mut server: ServerProcess,
    upload: impl AsyncFn(Vec<u8>) -> String,
) {
    for (round, bad) in bad_versions().into_iter().enumerate() {
        let (good, reason) = (served_version(&server).await, reason(&bad));
        let before = refresh_failures(&server, reason).await;
        upload(bad.bytes).await;
        wait_for_refresh_failures(&server, reason, before + 1.0).await;
        assert_eq!(served_version(&server).await, good, "after {}", bad.name);
        assert!(server.is_running(), "skserve ended on {}", bad.name);
        good_again(&server, round, &upload).await;
    }
    let peak = server.peak_memory();
    assert!(
        peak <= BUDGET + LOAD_OVERHEAD_BYTES,
        "skserve peaked at {:.1} MiB, over the {} MiB budget plus {} MiB",
        peak as f64 / (1 << 20) as f64,
        BUDGET >> 20,
        LOAD_OVERHEAD_BYTES >> 20
    );
    let (status, log) = {
        server.sigterm();
        server.exit().await
    };
    assert!(status.success(), "{status:?}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        log.contains("--max-model-bytes"),
        "a refusal names the flag: {log}"
    );
}

fn server_args(model: &str) -> Vec<String> {
    [
        "--model",
        model,
        "--model-name",
        "m",
        "--refresh-interval",
        "100ms",
        "--max-model-bytes",
        "64MiB",
    ]
    .map(str::to_owned)
    .to_vec()
}

#[tokio::test]
async fn a_server_refreshing_from_a_file_refuses_every_bad_version_within_its_budget() {
    let dir = std::env::temp_dir().join(format!("skserve-refresh-budget-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("model.pkl");
    std::fs::write(&path, challenge_model()).unwrap();
    let args = server_args(&path.to_string_lossy());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = spawn_binary_within(ADDRESS_SPACE, &args, &image_env(&[])).await;
    refuses_each_and_keeps_serving(server, async |bytes: Vec<u8>| {
        replace(&path, &bytes);
        skserve::store::content_version(&bytes)
    })
    .await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn a_server_refreshing_from_cloud_storage_refuses_every_bad_version_within_its_budget() {
    let emulator = GcsEmulator::start().await;
    emulator.upload(OBJECT, challenge_model()).await;
    let args = server_args(&format!("gs://{BUCKET}/{OBJECT}"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let host = emulator.host();
    let server = spawn_binary_within(
        ADDRESS_SPACE,
        &args,
        &image_env(&[("STORAGE_EMULATOR_HOST", &host)]),
    )
    .await;
    refuses_each_and_keeps_serving(server, async |bytes: Vec<u8>| {
        emulator.upload(OBJECT, bytes).await
    })
    .await;
}
