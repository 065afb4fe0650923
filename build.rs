//! Build script: records the git commit in `SKSERVE_GIT_SHA` for `skserve_build_info`.
//! A packaging step without `.git` can set `SKSERVE_GIT_SHA` itself; otherwise it is `unknown`.
//!
//! It asks git which files say what HEAD is (HEAD itself, the branch it names, `packed-refs`)
//! and has cargo watch exactly those. Watching `.git/HEAD` by a fixed path would not do: in a
//! linked worktree `.git` is a file, and cargo reruns a build script whose watched path is
//! missing on every build, so every `cargo` command would compile the crate again.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SKSERVE_GIT_SHA");
    // Without git files to watch, only a change to this script runs it again.
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("SKSERVE_GIT_SHA").is_some() {
        return;
    }
    let Some(sha) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return;
    };
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]).map(PathBuf::from)
            && path.exists()
        {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rustc-env=SKSERVE_GIT_SHA={sha}");
}

/// git's answer, trimmed, when git runs and answers something.
fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}
