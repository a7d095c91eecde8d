//! Helpers shared by the end-to-end tests: run `lepton`, read its output, scratch folders.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The checkout the tests run in. Read when the test runs, not baked in when it is compiled:
/// clones at other paths share one cargo target folder, and cargo does not rebuild a test when
/// only the checkout's path changed.
pub fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR").into()
}

pub fn lepton(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lepton")).args(args).current_dir(root()).output().expect("lepton runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh scratch folder for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lepton-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

pub fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "exit {:?}: {}", o.status, stderr(o));
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(o)))
}

/// `lepton train tiny --agent AGENT --perception ground-truth --envs 2` and then `extra`: the
/// quick run most tests start from.
pub fn train_on_tiny(agent: &str, extra: &[&str]) -> Vec<String> {
    ["train", "tiny", "--agent", agent, "--perception", "ground-truth", "--envs", "2"]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect()
}

/// `lepton` with owned arguments.
pub fn lepton_owned(args: &[String]) -> Output {
    lepton(&args.iter().map(String::as_str).collect::<Vec<_>>())
}
