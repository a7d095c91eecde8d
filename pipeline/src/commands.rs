//! The stages' commands: every stage is one `lepton` command run as a child process, so a stage
//! is exactly what a person could have typed, and its progress shows on our stderr. Gates run
//! theirs with `--json` and read the figures back typed.

use crate::error::{PipelineError, Result};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The `lepton` program the stages run.
#[derive(Debug, Clone)]
pub struct Lepton {
    program: PathBuf,
    identity: OnceLock<String>,
}

impl Lepton {
    /// The `lepton` program at `program` (a path, or a name looked up on PATH).
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self { program: program.into(), identity: OnceLock::new() }
    }

    /// What the stages' outputs depend on besides their inputs: this library's version and git
    /// commit and the XXH3-64 of the program's own bytes, so that any other build — another
    /// commit, a tree with uncommitted changes, a build outside git — reruns every stage.
    pub fn identity(&self) -> Result<&str> {
        if let Some(known) = self.identity.get() {
            return Ok(known);
        }
        let path = self.path();
        let bytes = std::fs::read(&path)
            .map_err(|source| PipelineError::Spawn { command: format!("({})", path.display()), source })?;
        let identity = format!(
            "{}+{:016x}",
            crate::stage::code_version(),
            lepton_artifacts::checksum::content_hash(&bytes)
        );
        Ok(self.identity.get_or_init(|| identity))
    }

    /// The program's file: the path given, or the first match of a bare name on PATH.
    fn path(&self) -> PathBuf {
        if self.program.components().count() > 1 {
            return self.program.clone();
        }
        let found = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths).map(|dir| dir.join(&self.program)).find(|p| Path::is_file(p))
        });
        found.unwrap_or_else(|| self.program.clone())
    }

    /// The running program itself: the command line runs a pipeline's stages with its own build.
    pub fn this_program() -> Result<Self> {
        let program = std::env::current_exe()
            .map_err(|e| PipelineError::Refused(format!("cannot find the lepton program: {e}")))?;
        Ok(Self::new(program))
    }

    /// Runs `lepton ARGS` with its progress on our stderr; an exit other than 0 stops the
    /// pipeline with the command named. Returns the arguments, for the stage's record.
    pub fn run(&self, args: Vec<String>) -> Result<Vec<String>> {
        let status = Command::new(&self.program)
            .args(&args)
            .stdout(Stdio::null())
            .status()
            .map_err(|source| PipelineError::Spawn { command: args.join(" "), source })?;
        if !status.success() {
            return Err(PipelineError::Stage { command: args.join(" "), status });
        }
        Ok(args)
    }

    /// Runs a gate's `lepton ARGS --json`: the arguments, its figures as `T` (`what` names them
    /// in an error), and whether it exited 0 (1: fell short of its thresholds).
    pub fn gate<T: DeserializeOwned>(
        &self,
        args: Vec<String>,
        what: &'static str,
    ) -> Result<(Vec<String>, T, bool)> {
        let output = Command::new(&self.program)
            .args(&args)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|source| PipelineError::Spawn { command: args.join(" "), source })?;
        let code = output.status.code();
        if !matches!(code, Some(0) | Some(1)) {
            return Err(PipelineError::Gate { command: args.join(" "), status: output.status });
        }
        let figures = serde_json::from_slice(&output.stdout).map_err(|e| PipelineError::Figures {
            command: args.join(" "),
            what,
            message: e.to_string(),
        })?;
        Ok((args, figures, code == Some(0)))
    }
}

/// Owned command-line arguments.
pub fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
