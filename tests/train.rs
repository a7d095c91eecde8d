//! End-to-end tests of `lepton train`, `eval` and `plot` on the tiny scenario.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};

/// What both agents' runs share.
const RUN: &str = "eval_every: 400, eval_episodes: 2, checkpoint_every: 200, log_every: 100,";

/// The DQN's settings: small, quick and exploring for 600 steps.
const DQN: &str = "agent: Dqn(learning_starts: 200, buffer_size: 4000, batch_size: 16,
    target_update: Hard(every: 50), network: (hidden: [32], cnn_hidden: 64, dueling: true),
    epsilon: Linear(start: 1.0, end: 0.1, steps: 600)),";

/// The run configuration for `agent`.
fn config(agent: &str) -> String {
    if agent == "dqn" { format!("({RUN}\n{DQN})") } else { format!("({RUN})") }
}

/// `lepton train` on tiny.ron: DQN on the ground-truth state, two envs.
const DQN_ON_TINY: [&str; 8] =
    ["train", "tiny", "--agent", "dqn", "--perception", "ground-truth", "--envs", "2"];

/// metrics.csv without its wall-clock column (steps_per_second), which differs run to run.
fn metrics_without_timing(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .map(|l| {
            l.split(',').enumerate().filter(|(i, _)| *i != 9).map(|(_, c)| c).collect::<Vec<_>>().join(",")
        })
        .collect()
}

fn train(dir: &Path, name: &str, agent: &str, extra: &[&str]) -> serde_json::Value {
    let config = write(dir, &format!("{agent}.ron"), &config(agent));
    let out = dir.join(name);
    let mut args =
        vec!["train", "tiny", "--agent", agent, "--config", &config, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    json(&lepton(&args))
}

#[test]
fn train_writes_metrics_checkpoints_and_a_curve_and_eval_and_plot_read_them() {
    let dir = scratch("train");
    let summary =
        train(&dir, "q", "qlearning", &["--perception", "ground-truth", "--steps", "800", "--envs", "2"]);
    assert_eq!(summary["steps"], 800);
    assert!(summary["episodes"].as_u64().unwrap() >= 8);
    let run = dir.join("q");
    for file in ["config.ron", "scenario.ron", "metrics.csv", "eval.json", "reward_curve.png"] {
        assert!(run.join(file).exists(), "{file}");
    }
    assert!(
        run.join("checkpoints/last/state.json").exists() && run.join("checkpoints/best/qtable.json").exists()
    );
    let png = image::open(run.join("reward_curve.png")).unwrap();
    assert!(png.width() >= 800 && png.height() >= 600);

    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let kinds: Vec<&str> = metrics.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    for kind in ["episode", "train", "eval"] {
        assert!(kinds.contains(&kind), "metrics has {kind} rows");
    }
    let episode = metrics.lines().find(|l| l.starts_with("episode,")).unwrap();
    let cells: Vec<&str> = episode.split(',').collect();
    assert!(
        !cells[3].is_empty() && !cells[4].is_empty() && !cells[5].is_empty(),
        "return, length, end reason"
    );

    let eval = json(&lepton(&["eval", run.to_str().unwrap(), "--episodes", "3", "--json"]));
    assert_eq!(eval["episodes"], 3);
    for key in ["mean_return", "std_return", "success_rate", "collisions", "off_road", "mean_abs_lane_offset"]
    {
        assert!(!eval[key].is_null(), "{key}");
    }
    let again = json(&lepton(&["eval", run.to_str().unwrap(), "--episodes", "3", "--json"]));
    assert_eq!(eval, again, "evaluation seeds are fixed");

    let d = train(&dir, "d", "dqn", &["--perception", "ground-truth", "--steps", "600", "--envs", "2"]);
    assert!(d["updates"].as_u64().unwrap() > 50);
    assert!(d["replay_bytes_per_transition"].as_f64().unwrap() > 0.0);
    for (name, out) in [("png", dir.join("both.png")), ("svg", dir.join("both.svg"))] {
        let plotted = lepton(&[
            "plot",
            run.to_str().unwrap(),
            dir.join("d").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(plotted.status.success(), "{name}: {}", stderr(&plotted));
        assert!(std::fs::metadata(&out).unwrap().len() > 1000);
    }
    assert!(std::fs::read_to_string(dir.join("both.svg")).unwrap().contains("<svg"));

    // Bad input: an existing run without --resume, a missing run, a broken config.
    let clash = lepton(&[
        "train",
        "tiny",
        "--agent",
        "qlearning",
        "--perception",
        "ground-truth",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(clash.status.code(), Some(2));
    assert!(stderr(&clash).contains("--resume"));
    let missing = lepton(&["eval", dir.join("nope").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    let broken = write(&dir, "broken.ron", "(envs: 0,\n steps: )");
    let bad = lepton(&[
        "train",
        "tiny",
        "--agent",
        "dqn",
        "--config",
        &broken,
        "--out",
        dir.join("x").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("broken.ron:2:"), "{}", stderr(&bad));
    let no_model =
        lepton(&["train", "tiny", "--agent", "qlearning", "--out", dir.join("y").to_str().unwrap()]);
    assert_eq!(no_model.status.code(), Some(2));
    assert!(stderr(&no_model).contains("--model"), "{}", stderr(&no_model));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_same_seed_gives_identical_metrics() {
    let dir = scratch("train-seed");
    let args = ["--perception", "ground-truth", "--steps", "500", "--envs", "2", "--seed", "7"];
    train(&dir, "a", "dqn", &args);
    train(&dir, "b", "dqn", &args);
    assert_eq!(metrics_without_timing(&dir.join("a")), metrics_without_timing(&dir.join("b")));
    let other = ["--perception", "ground-truth", "--steps", "500", "--envs", "2", "--seed", "8"];
    train(&dir, "c", "dqn", &other);
    assert_ne!(metrics_without_timing(&dir.join("a")), metrics_without_timing(&dir.join("c")));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn learning_overlapped_with_stepping_is_reproducible_and_makes_as_many_updates() {
    let dir = scratch("train-overlap");
    let overlapped = write(&dir, "overlap.ron", &format!("({RUN} overlap_learning: true,\n{DQN})"));
    let run = |name: &str, config: &str| {
        let out = dir.join(name);
        let mut args = DQN_ON_TINY.to_vec();
        args.extend(["--steps", "500", "--seed", "3", "--config", config, "--out", out.to_str().unwrap()]);
        json(&lepton(&args))
    };
    let a = run("a", &overlapped);
    let b = run("b", &overlapped);
    assert_eq!(metrics_without_timing(&dir.join("a")), metrics_without_timing(&dir.join("b")));
    let serial = write(&dir, "serial.ron", &config("dqn"));
    let s = run("s", &serial);
    // The same update-to-data ratio: as many updates as the serial loop.
    assert_eq!(a["updates"], s["updates"]);
    assert!(a["updates"].as_u64().unwrap() > 0);
    assert_eq!(a["updates"], b["updates"]);
    // Each update learns from the replay one step earlier, so the runs differ.
    assert_ne!(metrics_without_timing(&dir.join("a")), metrics_without_timing(&dir.join("s")));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_run_killed_with_sigkill_resumes_from_its_last_checkpoint() {
    let dir = scratch("train-kill");
    let config = write(&dir, "config.ron", &config("dqn"));
    let run = dir.join("r");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lepton"))
        .args(DQN_ON_TINY)
        .args(["--steps", "100000"])
        .args(["--config", &config, "--out", run.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for a checkpoint past the first one, then kill without warning.
    let state = run.join("checkpoints/last/state.json");
    let started = std::time::Instant::now();
    loop {
        let step = std::fs::read_to_string(&state)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["step"].as_u64());
        if step.is_some_and(|s| s >= 400) {
            break;
        }
        assert!(started.elapsed().as_secs() < 120, "no checkpoint written");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("checkpoints/last/state.json")).unwrap())
            .unwrap();
    let saved_step = saved["step"].as_u64().unwrap();

    let steps = (saved_step + 400).to_string();
    let mut args = DQN_ON_TINY.to_vec();
    args.extend(["--steps", &steps, "--out", run.to_str().unwrap(), "--resume"]);
    let resumed = json(&lepton(&args));
    assert_eq!(resumed["resumed_from_step"].as_u64(), Some(saved_step));
    assert_eq!(resumed["steps"].as_u64(), Some(saved_step + 400));
    assert!(resumed["updates"].as_u64().unwrap() > saved["updates"].as_u64().unwrap(), "updates carry on");

    // Metrics carry on: training rows strictly increase in step, with no rows duplicated from
    // the work redone after the checkpoint, and ε continues along its schedule (not from 1).
    let rows: Vec<Vec<String>> = std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let train_steps: Vec<u64> =
        rows.iter().filter(|r| r[0] == "train").map(|r| r[1].parse().unwrap()).collect();
    assert!(train_steps.windows(2).all(|w| w[0] < w[1]), "{train_steps:?}");
    assert!(*train_steps.last().unwrap() >= saved_step + 300);
    let first_after: f64 = rows
        .iter()
        .find(|r| r[0] == "train" && r[1].parse::<u64>().unwrap() > saved_step)
        .map(|r| r[7].parse().unwrap())
        .unwrap();
    assert!(first_after < 1.0 - (saved_step as f64 / 600.0) * 0.9 + 0.05, "ε {first_after} after resume");
    std::fs::remove_dir_all(dir).unwrap();
}
