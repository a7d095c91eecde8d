//! Build script: the git commit this build is of, for `lepton --version` and the pipeline's
//! cache keys (a different build may give different outputs; `unknown` outside a git checkout),
//! and the libtorch run-time path for feature `tch` (see ../build/libtorch_rpath.rs).

include!("../build/libtorch_rpath.rs");

fn main() {
    libtorch_rpath();
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
    // Appended to by every commit, checkout and reset: a new HEAD always reruns this.
    println!("cargo:rerun-if-changed=../.git/logs/HEAD");
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LEPTON_GIT_COMMIT={commit}");
}
