//! Training writes TensorBoard event files that TensorBoard itself reads (its EventAccumulator,
//! run with the Python on PATH: scripts/test installs `tensorboard` into the libtorch virtual
//! environment), holding exactly the rows of metrics.csv under CleanRL's names — also after a
//! run killed past its checkpoint is resumed (its extra events are dropped, not doubled).

mod common;

use common::*;
use lepton_agents::run::metrics::{self, tensorboard_scalars};
use std::collections::BTreeMap;
use std::path::Path;

const READ: &str = r#"
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
acc.Reload()
print(json.dumps({t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}))
"#;

/// The scalars TensorBoard reads from `dir`, by tag; `None` where this machine has no
/// TensorBoard and `LEPTON_NO_TENSORBOARD=1` says so.
fn tensorboard_reads(dir: &Path) -> Option<BTreeMap<String, Vec<(u64, f32)>>> {
    let out = std::process::Command::new("python").args(["-c", READ, dir.to_str().unwrap()]).output();
    match out {
        Ok(o) if o.status.success() => Some(serde_json::from_slice(&o.stdout).unwrap()),
        _ if std::env::var_os("LEPTON_NO_TENSORBOARD").is_some() => None,
        other => panic!(
            "TensorBoard's reader did not run ({other:?}): run the tests through scripts/test, or \
             `pip install tensorboard`, or set LEPTON_NO_TENSORBOARD=1"
        ),
    }
}

/// What metrics.csv says TensorBoard should hold.
fn expected(run: &Path) -> BTreeMap<String, Vec<(u64, f32)>> {
    let mut out: BTreeMap<String, Vec<(u64, f32)>> = BTreeMap::new();
    for row in metrics::read(&run.join("metrics.csv")).unwrap() {
        for (tag, value) in tensorboard_scalars(&row) {
            out.entry(tag.to_string()).or_default().push((row.step, value as f32));
        }
    }
    out
}

#[test]
fn event_files_hold_the_metrics_and_a_resume_after_a_kill_does_not_double_them() {
    let dir = scratch("tensorboard");
    let config = write(
        &dir,
        "c.ron",
        "(eval_every: 200, eval_episodes: 2, checkpoint_every: 200, log_every: 100,
          agent: Dqn(learning_starts: 100, buffer_size: 2000, batch_size: 16, network: (hidden: [16])))",
    );
    let run = dir.join("r");
    let train = |steps: &str, resume: bool| {
        let mut args = vec!["train", "tiny", "--agent", "dqn", "--perception", "ground-truth", "--envs", "2"];
        args.extend(["--steps", steps, "--out", run.to_str().unwrap()]);
        if resume {
            args.push("--resume");
        } else {
            args.extend(["--config", &config]);
        }
        json(&lepton(&args))
    };
    train("400", false);
    // A run that logs to 600 and is "killed" before its checkpoint there: its last checkpoint
    // is the one at 400.
    let last = run.join("checkpoints/last");
    let at_400 = dir.join("last-at-400");
    let copied = std::process::Command::new("cp")
        .args(["-r", last.to_str().unwrap(), at_400.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(copied.success());
    train("600", true);
    std::fs::remove_dir_all(&last).unwrap();
    std::fs::rename(&at_400, &last).unwrap();
    train("800", true);

    let files = std::fs::read_dir(run.join("tb")).unwrap().count();
    assert_eq!(files, 3, "one event file per start");
    let want = expected(&run);
    for tag in [
        "charts/episodic_return",
        "charts/episodic_length",
        "losses/td_loss",
        "charts/epsilon",
        "eval/mean_return",
        "eval/success_rate",
    ] {
        assert!(want.get(tag).is_some_and(|v| !v.is_empty()), "metrics.csv has {tag}");
    }
    // Lepton's own reader: every record's checksums hold.
    for entry in std::fs::read_dir(run.join("tb")).unwrap() {
        lepton_artifacts::tensorboard::read_scalars(&entry.unwrap().path()).unwrap();
    }
    let Some(got) = tensorboard_reads(&run.join("tb")) else { return };
    let timing = |m: &BTreeMap<String, Vec<(u64, f32)>>| {
        m.iter()
            .filter(|(t, _)| *t != "charts/SPS")
            .map(|(t, v)| (t.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(timing(&got), timing(&want), "TensorBoard holds exactly metrics.csv's rows");
    assert_eq!(got["charts/SPS"].len(), want["charts/SPS"].len());
    std::fs::remove_dir_all(dir).unwrap();
}
