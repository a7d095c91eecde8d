//! Fault injection (issue 13). Runs killed with SIGKILL at random moments — inside checkpoint
//! writes too — and resumed end exactly like uninterrupted runs and never leave a file
//! half-written under its real name; damaged files of every persisted kind are refused with exit
//! code 2 naming the file; mutated inputs to every parser never panic. Each test prints its counts
//! (`cargo test --test faults -- --nocapture`).

mod common;

use common::*;
use lepton_agents::run::checkpoint::{self, Checkpoint};
use lepton_agents::run::{config::ron_options, files};
use lepton_perception::dataset::{Dataset, FrameShape, read_chunk};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills per interrupted run before it is let finish.
const MAX_KILLS: usize = 8;

/// Kills per run at most while none has yet landed inside a write (see [`Kills`]).
const MAX_KILLS_FOR_A_WRITE: usize = 40;

/// What the kills of one interrupted run did.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Kills {
    /// SIGKILLs sent before the run was let finish.
    total: usize,
    /// Of those, the ones that landed inside a write: the killed process left a staging folder
    /// or temporary file of its own behind (one it made, not an earlier process's).
    in_write: usize,
}

/// Runs `lepton first`, killing it after a random delay in `delays` (ms) and running `again`
/// (or `first` again when `use_first` says so) until a try finishes or `done` says the work is
/// complete; `check` inspects the files after every kill and says whether the kill landed inside
/// a write. With `writes_in`, the folder the writes happen in: while no kill has landed inside
/// one, the kills go on past [`MAX_KILLS`] (up to [`MAX_KILLS_FOR_A_WRITE`]), and from the
/// `MAX_KILLS / 2`-th on each comes the moment the process starts a write there (a new staging
/// folder appears) instead of at a random time — a write takes milliseconds, so random moments
/// alone may miss every one — so that the test proves what it claims on any machine.
#[allow(clippy::too_many_arguments)]
fn kill_until_done(
    writes_in: Option<&Path>,
    first: &[String],
    again: &[String],
    delays: std::ops::Range<u64>,
    rng: &mut ChaCha8Rng,
    use_first: impl Fn() -> bool,
    done: impl Fn() -> bool,
    mut check: impl FnMut() -> bool,
) -> Kills {
    let mut kills = Kills { total: 0, in_write: 0 };
    let mut args = first;
    loop {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lepton"))
            .args(args)
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lepton runs");
        let wanting_a_write = writes_in.is_some() && kills.in_write == 0;
        let more = kills.total < MAX_KILLS || (wanting_a_write && kills.total < MAX_KILLS_FOR_A_WRITE);
        // Watch for the next write to start: any staging folder not there at the spawn.
        let watched = writes_in.filter(|_| more && wanting_a_write && kills.total >= MAX_KILLS / 2);
        let before = watched.map(writes_in_progress);
        let deadline = (more && watched.is_none())
            .then(|| Instant::now() + Duration::from_millis(rng.random_range(delays.clone())));
        let finished = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            let writing = || {
                let (dir, before) = (watched.unwrap(), before.as_ref().unwrap());
                writes_in_progress(dir).iter().any(|w| !before.contains(w))
            };
            if deadline.is_some_and(|d| Instant::now() >= d) || (watched.is_some() && writing()) {
                child.kill().unwrap();
                child.wait().unwrap();
                break None;
            }
            std::thread::sleep(Duration::from_millis(if watched.is_some() { 1 } else { 3 }));
        };
        match finished {
            Some(status) => {
                let mut err = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
                assert!(status.success(), "lepton {args:?}: exit {status}: {err}");
                return kills;
            }
            None => {
                kills.total += 1;
                kills.in_write += usize::from(check());
                if done() {
                    return kills;
                }
                args = if use_first() { first } else { again };
            }
        }
    }
}

/// metrics.csv without its wall-clock column (steps_per_second).
fn metrics_without_timing(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join(files::METRICS))
        .unwrap()
        .lines()
        .map(|l| {
            l.split(',').enumerate().filter(|(i, _)| *i != 9).map(|(_, c)| c).collect::<Vec<_>>().join(",")
        })
        .collect()
}

/// What a killed run must never leave behind: a checkpoint (last or best, or their kept `.old`)
/// that does not check out whole, a metrics file shorter than its checkpoint counted, a
/// configuration, scenario or evaluation that does not parse.
fn check_run_files(run: &Path) {
    for name in [files::LAST, files::BEST] {
        let Some(dir) = checkpoint::locate(&run.join(name)) else { continue };
        let opened = Checkpoint::open(&dir).unwrap_or_else(|e| panic!("a half-written checkpoint: {e}"));
        for file in opened.listed() {
            opened.read(file).unwrap_or_else(|e| panic!("a half-written checkpoint file: {e}"));
        }
        if name == files::LAST {
            let rows = std::fs::read_to_string(run.join(files::METRICS)).unwrap().lines().count() as u64;
            assert!(rows > opened.state.metrics_rows, "metrics.csv lost rows its checkpoint counted");
        }
    }
    if let Ok(text) = std::fs::read_to_string(run.join(files::CONFIG)) {
        ron_options().from_str::<lepton_agents::run::RunConfig>(&text).expect("config.ron whole");
    }
    if run.join(files::SCENARIO).exists() {
        lepton_sim::scenario::load(&run.join(files::SCENARIO)).expect("scenario.ron whole");
    }
    if let Ok(text) = std::fs::read_to_string(run.join(files::EVAL)) {
        serde_json::from_str::<serde_json::Value>(&text).expect("eval.json whole");
    }
}

/// Two runs are the same run: metrics (but wall-clock rates), final evaluation, and the last and
/// best checkpoints file for file. The one exception is the Adam state, which burn writes in the
/// order of a HashMap: its bytes differ run to run, its contents do not (the metrics after a
/// resume prove it).
fn assert_same_run(a: &Path, b: &Path) {
    assert_eq!(metrics_without_timing(a), metrics_without_timing(b), "metrics.csv");
    assert_eq!(std::fs::read(a.join(files::EVAL)).unwrap(), std::fs::read(b.join(files::EVAL)).unwrap());
    for name in [files::LAST, files::BEST] {
        let list = |run: &Path| {
            let mut names: Vec<String> = std::fs::read_dir(run.join(name))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        assert_eq!(list(a), list(b), "{name}");
        for file in list(a) {
            let (x, y) = (a.join(name).join(&file), b.join(name).join(&file));
            match file.as_str() {
                "optimizer.bpk" => {}
                checkpoint::STATE_FILE => {
                    let json = |p: &Path| -> serde_json::Value {
                        let mut v: serde_json::Value =
                            serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
                        v["files"].as_object_mut().unwrap().remove("optimizer.bpk");
                        v.as_object_mut().unwrap().remove("check");
                        v
                    };
                    assert_eq!(json(&x), json(&y), "{name}/{file}");
                }
                _ => {
                    assert!(std::fs::read(&x).unwrap() == std::fs::read(&y).unwrap(), "{name}/{file} differs")
                }
            }
        }
    }
}

/// tiny.ron with a 48×48 camera (the Nature CNN needs 36 px or more).
fn tiny48(dir: &Path) -> String {
    let tiny = std::fs::read_to_string(root().join("sim/scenarios/tiny.ron")).unwrap();
    write(
        dir,
        "tiny48.ron",
        &tiny.replace("camera: (width: 32, height: 32", "camera: (width: 48, height: 48"),
    )
}

/// The staging folders and temporary files under `dir` (recursively) — `NAME.tmp` and
/// `NAME.old` checkpoint folders, `.NAME.XXXXXX.tmp.EXT` files — each with the inode and change
/// time that tell one made by a later process from one left by an earlier.
fn writes_in_progress(dir: &Path) -> std::collections::BTreeSet<(std::path::PathBuf, u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let mut found = std::collections::BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let (path, name) = (entry.path(), entry.file_name().to_string_lossy().into_owned());
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            let staging = name.ends_with(".tmp") || name.ends_with(".old") || name.contains(".tmp.");
            if staging {
                found.insert((path.clone(), meta.ino(), meta.ctime(), meta.ctime_nsec()));
            }
            if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    found
}

/// A check after each kill that says whether the killed process was inside a write: a staging
/// folder or temporary file is there that was not after the kill before.
fn landed_inside_a_write(dir: &Path) -> impl FnMut() -> bool + '_ {
    let mut seen = std::collections::BTreeSet::new();
    move || {
        let now = writes_in_progress(dir);
        let new = now.iter().any(|w| !seen.contains(w));
        seen = now;
        new
    }
}

/// Trains `args` + `--out` uninterrupted, and again with SIGKILLs at random moments and resumes;
/// asserts both are the same run, and that some kill landed inside a checkpoint write (the
/// moment a torn file would come from). Returns the kills survived.
///
/// The kills come 1/50 to 1/5 of the uninterrupted run's time after each start, so that on any
/// machine several land before the run can finish.
fn killed_and_resumed_equals_uninterrupted(dir: &Path, args: &[&str], seed: u64) -> Kills {
    let (reference, killed) = (dir.join("reference"), dir.join("killed"));
    let with_out = |out: &Path, resume: bool| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(["--out".into(), out.display().to_string()]);
        if resume {
            // A resume names no configuration: the run's own is the truth.
            if let Some(i) = v.iter().position(|a| a == "--config") {
                v.drain(i..i + 2);
            }
            v.push("--resume".into());
        }
        v
    };
    let started = Instant::now();
    json(&lepton(&with_out(&reference, false).iter().map(String::as_str).collect::<Vec<_>>()));
    let took = started.elapsed().as_millis() as u64;
    let delays = (took / 50).max(10)..(took / 5).max(20);
    let (first, again) = (with_out(&killed, false), with_out(&killed, true));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let checkpoints = killed.join("checkpoints");
    let mut in_write = landed_inside_a_write(&checkpoints);
    let kills = kill_until_done(
        Some(&checkpoints),
        &first,
        &again,
        delays,
        &mut rng,
        // Killed before it wrote its configuration: nothing to resume yet, start it again.
        || !killed.join(files::CONFIG).is_file(),
        || false,
        || {
            check_run_files(&killed);
            in_write()
        },
    );
    assert_same_run(&reference, &killed);
    assert!(kills.total >= 3, "only {} kills landed", kills.total);
    assert!(kills.in_write >= 1, "no kill of {} landed inside a checkpoint write", kills.total);
    kills
}

#[test]
fn dqn_from_pixels_killed_at_random_moments_resumes_exactly() {
    let dir = scratch("faults-dqn");
    let scenario = tiny48(&dir);
    // Checkpoints every 40 steps, so that kills land inside checkpoint writes too; learning
    // overlapped with stepping, as the shipped pixel configuration does.
    let config = write(
        &dir,
        "dqn.ron",
        "(eval_every: 200, eval_episodes: 2, checkpoint_every: 40, log_every: 50, overlap_learning: true,
          agent: Dqn(learning_starts: 100, buffer_size: 2000, batch_size: 16,
            target_update: Hard(every: 50), network: (hidden: [32], cnn_hidden: 64, dueling: true),
            epsilon: Linear(start: 1.0, end: 0.1, steps: 400)))",
    );
    let args = [
        "train",
        &scenario,
        "--agent",
        "dqn",
        "--perception",
        "pixels",
        "--envs",
        "2",
        "--steps",
        "500",
        "--config",
        &config,
    ];
    let kills = killed_and_resumed_equals_uninterrupted(&dir, &args, 13);
    eprintln!(
        "faults: DQN from pixels survived {} SIGKILLs ({} inside a checkpoint write), resumed exactly",
        kills.total, kills.in_write
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn qlearning_killed_at_random_moments_resumes_exactly() {
    let dir = scratch("faults-q");
    let config =
        write(&dir, "q.ron", "(eval_every: 2000, eval_episodes: 2, checkpoint_every: 100, log_every: 500)");
    let args = train_on_tiny("qlearning", &["--steps", "20000", "--config", &config]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let kills = killed_and_resumed_equals_uninterrupted(&dir, &args, 17);
    eprintln!(
        "faults: Q-learning survived {} SIGKILLs ({} inside a checkpoint write), resumed exactly",
        kills.total, kills.in_write
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn perception_collect_and_train_killed_at_random_moments_leave_nothing_half_written() {
    let dir = scratch("faults-perception");
    let collect = |out: &Path| -> Vec<String> {
        [
            "perception",
            "collect",
            "tiny",
            "--frames",
            "240",
            "--envs",
            "2",
            "--chunk-size",
            "20",
            "--seed",
            "3",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
    };
    let (reference, killed) = (dir.join("data"), dir.join("data-killed"));
    let started = Instant::now();
    json(&lepton(&collect(&reference).iter().map(String::as_str).collect::<Vec<_>>()));
    let took = started.elapsed().as_millis() as u64;
    let args = collect(&killed);
    let shape = FrameShape { width: 32, height: 32, channels: 1 };
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let mut chunk_write = landed_inside_a_write(&killed);
    let collect_kills = kill_until_done(
        None,
        &args,
        &args,
        (took / 50).max(10)..(took / 5).max(20),
        &mut rng,
        || true,
        || killed.join("manifest.json").exists(),
        || {
            // Every chunk under its real name is whole; a manifest, if any, checks out.
            for entry in std::fs::read_dir(&killed).into_iter().flatten() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "lpd") {
                    read_chunk(&path, shape, Default::default())
                        .unwrap_or_else(|e| panic!("half-written chunk: {e}"));
                }
            }
            if killed.join("manifest.json").exists() {
                let data = Dataset::open(&killed).unwrap();
                (0..data.num_chunks()).for_each(|i| drop(data.chunk(i).unwrap()));
            }
            chunk_write()
        },
    );
    let a = Dataset::open(&reference).unwrap();
    let b = Dataset::open(&killed).unwrap();
    assert_eq!(a.manifest, b.manifest, "the re-run collects the same dataset");
    for chunk in &a.manifest.chunks {
        assert!(
            std::fs::read(reference.join(&chunk.file)).unwrap()
                == std::fs::read(killed.join(&chunk.file)).unwrap()
        );
    }

    let train = |out: &Path| -> Vec<String> {
        ["perception", "train", reference.to_str().unwrap(), "--epochs", "3", "--out"]
            .iter()
            .map(|s| s.to_string())
            .chain([out.display().to_string()])
            .collect()
    };
    let (model, model_killed) = (dir.join("model"), dir.join("model-killed"));
    let started = Instant::now();
    json(&lepton(&train(&model).iter().map(String::as_str).collect::<Vec<_>>()));
    let took = started.elapsed().as_millis() as u64;
    let args = train(&model_killed);
    let device = burn::prelude::Device::flex();
    let train_kills = kill_until_done(
        None,
        &args,
        &args,
        (took / 50).max(10)..(took / 5).max(20),
        &mut rng,
        || true,
        || model_killed.join("model.json").exists(),
        || {
            // The model folder is absent or whole; only the staging folder is ever partial.
            if model_killed.exists() {
                lepton_perception::cnn::CnnModel::load(&model_killed, &device)
                    .unwrap_or_else(|e| panic!("half-written model: {e}"));
            }
            false
        },
    );
    let eval = |m: &Path| {
        let mut report = json(&lepton(&[
            "perception",
            "eval",
            m.to_str().unwrap(),
            reference.to_str().unwrap(),
            "--json",
        ]));
        for rate in ["inference_frames_per_second", "preprocess_frames_per_second"] {
            report.as_object_mut().unwrap().remove(rate);
        }
        report
    };
    assert_eq!(eval(&model), eval(&model_killed), "the re-run trains the same model");
    for file in ["model.bpk", "model.json"] {
        let (a, b) =
            (std::fs::read(model.join(file)).unwrap(), std::fs::read(model_killed.join(file)).unwrap());
        assert!(a == b, "{file}: the re-run writes the same bytes");
    }
    eprintln!(
        "faults: perception collect survived {} SIGKILLs ({} inside a chunk write), perception train {}; \
         no half-written file",
        collect_kills.total, collect_kills.in_write, train_kills.total
    );
    assert!(collect_kills.total >= 3 && train_kills.total >= 3, "too few kills landed");
    std::fs::remove_dir_all(dir).unwrap();
}
