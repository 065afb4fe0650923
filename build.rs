//! Build script: records the git commit in `SKSERVE_GIT_SHA` for `skserve_build_info`.
//! A packaging step without `.git` can set `SKSERVE_GIT_SHA` itself; otherwise it is `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SKSERVE_GIT_SHA");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    if std::env::var_os("SKSERVE_GIT_SHA").is_some() {
        return;
    }
    let sha = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(sha) = sha {
        println!("cargo:rustc-env=SKSERVE_GIT_SHA={sha}");
    }
}
