//! Damaged and mutated inputs (issue 13).
//!
//! A corpus of damaged files of every persisted kind — bit flips, truncations, empty files, wrong
//! versions, swapped files and hand edits of checkpoints, replay, Q-tables, run configurations,
//! scenarios, metrics, datasets (chunks and manifest) and perception models: the command that
//! reads each one must exit 2 and name the file, never panic, never go on.
//!
//! And a mutation fuzzer of every parser (RON configs and scenarios, model.json, the chunk
//! reader, the manifest, checkpoint state, replay, Q-table, loop state, metrics): seeded random
//! edits of valid inputs, each parsed under `catch_unwind`; any panic fails the test.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// How a file is damaged.
enum Damage {
    /// Bit 4 of the byte in the middle flipped.
    Flip,
    /// The first half kept.
    Truncate,
    Empty,
    /// Replaced by another file (relative to the same folder copy).
    SwapWith(&'static str),
    /// A hand edit: `from` (which must be there) replaced by `to`.
    Edit(&'static str, &'static str),
}

fn apply(path: &Path, damage: &Damage) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let damaged = match damage {
        Damage::Flip => {
            let mut b = bytes.clone();
            let at = b.len() / 2;
            b[at] ^= 0x10;
            b
        }
        Damage::Truncate => bytes[..bytes.len() / 2].to_vec(),
        Damage::Empty => Vec::new(),
        Damage::SwapWith(other) => {
            let other = path.parent().unwrap().join(other);
            std::fs::read(&other).unwrap_or_else(|e| panic!("{}: {e}", other.display()))
        }
        Damage::Edit(from, to) => {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains(from), "{}: no {from:?} to edit", path.display());
            text.replacen(from, to, 1).into_bytes()
        }
    };
    assert_ne!(damaged, std::fs::read(path).unwrap(), "{}: the damage changed nothing", path.display());
    std::fs::write(path, damaged).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The pristine artefacts every case damages a copy of.
struct Pristine {
    dqn: PathBuf,
    qlearning: PathBuf,
    data: PathBuf,
    model: PathBuf,
}

/// The pristine artefacts, made once per test binary.
fn shared() -> &'static Pristine {
    static PRISTINE: std::sync::OnceLock<Pristine> = std::sync::OnceLock::new();
    PRISTINE.get_or_init(|| pristine(&scratch("damaged-pristine")))
}

fn pristine(dir: &Path) -> Pristine {
    let config = write(
        dir,
        "dqn.ron",
        "(eval_every: 200, eval_episodes: 2, checkpoint_every: 100, log_every: 100,
          agent: Dqn(learning_starts: 100, buffer_size: 1000, batch_size: 16, network: (hidden: [16])))",
    );
    let p = Pristine {
        dqn: dir.join("dqn"),
        qlearning: dir.join("q"),
        data: dir.join("data"),
        model: dir.join("model"),
    };
    let s = |p: &Path| p.display().to_string();
    json(&lepton_owned(&train_on_tiny("dqn", &["--steps", "300", "--config", &config, "--out", &s(&p.dqn)])));
    json(&lepton_owned(&train_on_tiny("qlearning", &["--steps", "300", "--out", &s(&p.qlearning)])));
    json(&lepton(&[
        "perception",
        "collect",
        "tiny",
        "--frames",
        "60",
        "--envs",
        "2",
        "--chunk-size",
        "20",
        "--out",
        &s(&p.data),
    ]));
    json(&lepton(&["perception", "train", &s(&p.data), "--epochs", "1", "--out", &s(&p.model)]));
    p
}

#[test]
fn every_damaged_file_is_refused_with_exit_2_naming_it() {
    use Damage::*;
    let dir = scratch("damaged");
    let p = shared();
    let resume = |agent: &'static str| {
        move |run: &str| -> Vec<String> {
            let args = ["train", "tiny", "--agent", agent, "--perception", "ground-truth", "--steps", "400"];
            args.iter()
                .map(|a| a.to_string())
                .chain(["--out".into(), run.into(), "--resume".into()])
                .collect()
        }
    };
    let (resume_dqn, resume_q) = (resume("dqn"), resume("qlearning"));
    let eval_run = |run: &str| vec!["eval".to_string(), run.to_string(), "--episodes".into(), "2".into()];
    let eval_last = |run: &str| {
        vec!["eval".to_string(), run.to_string(), "--episodes".into(), "2".into(), "--last".into()]
    };
    let data = p.data.display().to_string();
    let model = p.model.display().to_string();
    let eval_model = |m: &str| vec!["perception".to_string(), "eval".into(), m.to_string(), data.clone()];
    let eval_on_data = |d: &str| vec!["perception".to_string(), "eval".into(), model.clone(), d.to_string()];
    let train_on_data = |d: &str| {
        vec![
            "perception".to_string(),
            "train".into(),
            d.to_string(),
            "--epochs".into(),
            "1".into(),
            "--out".into(),
            format!("{d}-model"),
        ]
    };

    type Command<'a> = &'a dyn Fn(&str) -> Vec<String>;
    // (artefact, file inside it, damage, the command that reads it)
    let cases: Vec<(&Path, &str, Damage, Command)> = vec![
        // The DQN checkpoint a resume reads: every file flipped, truncated, emptied or swapped.
        (&p.dqn, "checkpoints/last/state.json", Flip, &resume_dqn),
        (&p.dqn, "checkpoints/last/state.json", Truncate, &resume_dqn),
        (&p.dqn, "checkpoints/last/state.json", Edit("\"format\": 2", "\"format\": 1"), &resume_dqn),
        (&p.dqn, "checkpoints/last/state.json", Edit("\"step\": 300", "\"step\": 200"), &resume_dqn),
        (&p.dqn, "checkpoints/last/online.bpk", Flip, &resume_dqn),
        (&p.dqn, "checkpoints/last/online.bpk", Truncate, &resume_dqn),
        (&p.dqn, "checkpoints/last/online.bpk", SwapWith("target.bpk"), &resume_dqn),
        (&p.dqn, "checkpoints/last/target.bpk", Empty, &resume_dqn),
        (&p.dqn, "checkpoints/last/optimizer.bpk", Flip, &resume_dqn),
        (&p.dqn, "checkpoints/last/replay.bin", Flip, &resume_dqn),
        (&p.dqn, "checkpoints/last/replay.bin", Truncate, &resume_dqn),
        (&p.dqn, "checkpoints/last/loop.json", Flip, &resume_dqn),
        (&p.dqn, "checkpoints/last/loop.json", SwapWith("learner.json"), &resume_dqn),
        (&p.dqn, "checkpoints/last/learner.json", Edit("", "1"), &resume_dqn),
        // The best checkpoint an evaluation reads.
        (&p.dqn, "checkpoints/best/online.bpk", Flip, &eval_run),
        (&p.dqn, "checkpoints/best/state.json", Truncate, &eval_run),
        // The run's configuration and scenario, read by a resume and by eval; metrics by a resume.
        (&p.dqn, "config.ron", Edit("envs: 2", "envs: 0"), &eval_run),
        (&p.dqn, "config.ron", Truncate, &resume_dqn),
        (&p.dqn, "config.ron", Edit("gamma:", "gamma: \"high\", was:"), &resume_dqn),
        (&p.dqn, "scenario.ron", Truncate, &eval_run),
        (&p.dqn, "scenario.ron", Edit("max_steps: 100", "max_steps: 0"), &eval_run),
        (&p.dqn, "metrics.csv", Truncate, &resume_dqn),
        (&p.dqn, "metrics.csv", Empty, &resume_dqn),
        // The Q-table.
        (&p.qlearning, "checkpoints/last/qtable.json", Flip, &eval_last),
        (&p.qlearning, "checkpoints/last/qtable.json", Truncate, &resume_q),
        (&p.qlearning, "checkpoints/last/qtable.json", SwapWith("loop.json"), &eval_last),
        // A dataset: its manifest and chunks.
        (&p.data, "manifest.json", Truncate, &eval_on_data),
        (&p.data, "manifest.json", Edit("\"format_version\": 2", "\"format_version\": 9"), &eval_on_data),
        (&p.data, "manifest.json", Edit("\"samples\": 60", "\"samples\": 61"), &eval_on_data),
        (&p.data, "manifest.json", Edit("\"width\": 32", "\"width\": 3200000"), &eval_on_data),
        (&p.data, "chunk-00001.lpd", Flip, &eval_on_data),
        (&p.data, "chunk-00001.lpd", Truncate, &train_on_data),
        (&p.data, "chunk-00001.lpd", SwapWith("chunk-00002.lpd"), &eval_on_data),
        (&p.data, "chunk-00000.lpd", Empty, &train_on_data),
        // A perception model: metadata and weights.
        (&p.model, "model.json", Truncate, &eval_model),
        (&p.model, "model.json", Edit("\"format_version\": 2", "\"format_version\": 7"), &eval_model),
        (&p.model, "model.json", Edit("\"regression_std\": [", "\"regression_std\": [1.0, "), &eval_model),
        (&p.model, "model.json", Edit("\"input_std\": 0.25", "\"input_std\": 0.0"), &eval_model),
        (&p.model, "model.json", Edit("\"flag_names\": [", "\"flag_names\": [\"sunny\", "), &eval_model),
        (&p.model, "model.bpk", Flip, &eval_model),
        (&p.model, "model.bpk", Truncate, &eval_model),
        (&p.model, "model.bpk", Empty, &eval_model),
    ];
    let mut detected = 0;
    for (k, (artefact, file, damage, command)) in cases.iter().enumerate() {
        let copy = dir.join(format!("case-{k}"));
        copy_dir(artefact, &copy);
        apply(&copy.join(file), damage);
        let args = command(copy.to_str().unwrap());
        let out = lepton(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        assert_eq!(out.status.code(), Some(2), "case {k} ({file}): exit {:?}: {}", out.status, stderr(&out));
        assert!(stderr(&out).contains(name), "case {k}: the error names {name}: {}", stderr(&out));
        detected += 1;
        std::fs::remove_dir_all(&copy).unwrap();
    }
    eprintln!(
        "faults: {detected} damaged files of {} kinds detected, each exit 2 naming its file, 0 panics",
        13
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A valid input edited at random: bits flipped, bytes set, ranges deleted, duplicated or
/// inserted, the end cut off, or (in text) a number swapped for an extreme one.
fn mutate(input: &[u8], rng: &mut rand_chacha::ChaCha8Rng) -> Vec<u8> {
    use rand::Rng;
    let mut b = input.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        let len = b.len().max(1);
        let at = rng.random_range(0..len).min(b.len());
        match rng.random_range(0..7) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << rng.random_range(0..8);
            }
            1 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] = rng.random();
            }
            2 => {
                let end = (at + rng.random_range(1..64)).min(b.len());
                b.drain(at..end);
            }
            3 => {
                let end = (at + rng.random_range(1..64)).min(b.len());
                let copy = b[at..end].to_vec();
                b.splice(at..at, copy);
            }
            4 => {
                let junk: Vec<u8> = (0..rng.random_range(1..16)).map(|_| rng.random()).collect();
                b.splice(at..at, junk);
            }
            5 => b.truncate(at),
            _ => {
                // A number (ASCII digits) replaced by an extreme value.
                let Some(start) = (at..b.len()).find(|&i| b[i].is_ascii_digit()) else { continue };
                let end =
                    (start..b.len()).find(|&i| !b[i].is_ascii_digit() && b[i] != b'.').unwrap_or(b.len());
                let extreme = ["0", "-1", "1e40", "-0.0", "NaN", "inf", "18446744073709551615", "4294967296"]
                    [rng.random_range(0..8)];
                b.splice(start..end, extreme.bytes());
            }
        }
    }
    if b == input {
        // Every input differs from the valid one.
        let i = rng.random_range(0..b.len().max(1));
        if b.is_empty() { b.push(0) } else { b[i] ^= 1 }
    }
    b
}

#[test]
fn mutated_inputs_to_every_parser_never_panic() {
    use lepton_agents::qlearning::QTable;
    use lepton_agents::replay::ReplayBuffer;
    use lepton_agents::run::checkpoint::Checkpoint;
    use lepton_agents::run::config::ron_options;
    use lepton_agents::run::loop_state::LoopState;
    use lepton_perception::cnn::{ModelMeta, TrainConfig};
    use lepton_perception::dataset::{Dataset, FrameShape, read_chunk};
    use rand::SeedableRng;

    let p = shared();
    let dir = scratch("fuzz");
    let read = |path: PathBuf| std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let last = p.dqn.join("checkpoints/last");
    let loop_bytes = read(last.join("loop.json"));

    // Each target: a valid input, and what parsing (and validating) it means.
    // A parse returns whether the input was accepted (parsed and valid).
    type Parse<'a> = Box<dyn Fn(&[u8]) -> bool + 'a>;
    let chunk_path = dir.join("chunk.lpd");
    let state_dir = dir.join("checkpoint");
    copy_dir(&last, &state_dir);
    let data_dir = dir.join("data");
    copy_dir(&p.data, &data_dir);
    // A registry with one version, for its channels.json and lineage.json.
    let registry = dir.join("registry");
    let (model_dir, run_dir) = (dir.join("cand-model"), dir.join("cand-run"));
    std::fs::create_dir_all(run_dir.join("checkpoints/best")).unwrap();
    copy_dir(&p.model, &model_dir);
    std::fs::write(run_dir.join("eval.json"), "{}").unwrap();
    let promoted =
        lepton_pipeline::registry::promote(&registry, "fuzz", &model_dir, &run_dir, &[], "tiny", &[])
            .unwrap();
    let channels_path = registry.join("fuzz").join("channels.json");
    let lineage_path = promoted.dir.join("lineage.json");
    // Each registry target puts its file back afterwards: the other one reads it too.
    let (channels_valid, lineage_valid) = (read(channels_path.clone()), read(lineage_path.clone()));
    let work = dir.join("pipeline-work");
    std::fs::create_dir_all(work.join("monitor")).unwrap();
    let targets: Vec<(&str, Vec<u8>, Parse)> = vec![
        (
            "pipeline file (RON)",
            lepton_pipeline::file::template("fuzz").into_bytes(),
            Box::new(|b| {
                lepton_pipeline::PipelineFile::parse(&text(b)).is_ok_and(|f| f.validate().is_empty())
            }),
        ),
        (
            "registry channels.json",
            channels_valid.clone(),
            Box::new(|b| {
                std::fs::write(&channels_path, b).unwrap();
                let ok = lepton_pipeline::registry::production(&registry, "fuzz").is_ok_and(|p| p.is_some());
                std::fs::write(&channels_path, &channels_valid).unwrap();
                ok
            }),
        ),
        (
            "registry lineage.json",
            lineage_valid.clone(),
            Box::new(|b| {
                std::fs::write(&lineage_path, b).unwrap();
                let ok = lepton_pipeline::registry::verify(&promoted.dir).is_ok();
                std::fs::write(&lineage_path, &lineage_valid).unwrap();
                ok
            }),
        ),
        (
            "pipeline field.json",
            br#"{"conditions": ["dusk", "snow"]}"#.to_vec(),
            Box::new(|b| {
                std::fs::write(work.join("field.json"), b).unwrap();
                lepton_pipeline::run::sources::FieldData::read(&work).is_ok()
            }),
        ),
        (
            "monitor history.json",
            br#"[{"check": 1, "started": 5, "version": 1, "conditions": [{"name": "base", "drift": 0.5,
                "drift_feature": "red upper mean", "nearest_training_data": "base", "lane_offset_mae": 0.1,
                "heading_mae_degrees": 2.0, "success_rate": 1.0, "mean_return": 40.0, "alarms": []}],
                "retrain": null}]"#
                .to_vec(),
            Box::new(|b| {
                std::fs::write(work.join("monitor").join("history.json"), b).unwrap();
                lepton_pipeline::history::read(&work).is_ok()
            }),
        ),
        (
            "run config (RON)",
            read(p.dqn.join("config.ron")),
            Box::new(|b| {
                ron_options()
                    .from_str::<lepton_agents::run::RunConfig>(&text(b))
                    .is_ok_and(|c| c.validate().is_ok())
            }),
        ),
        (
            "perception train config (RON)",
            b"(epochs: 3, batch_size: 32, learning_rate: 0.001, huber_delta: 1.0, validation_fraction: 0.2)"
                .to_vec(),
            Box::new(|b| ron::from_str::<TrainConfig>(&text(b)).is_ok_and(|c| c.validate().is_ok())),
        ),
        (
            "scenario (RON)",
            read(p.dqn.join("scenario.ron")),
            Box::new(|b| lepton_sim::scenario::parse_str(&text(b), "<fuzz>").is_ok()),
        ),
        (
            "model.json",
            read(p.model.join("model.json")),
            Box::new(|b| serde_json::from_slice::<ModelMeta>(b).is_ok_and(|m| m.validate().is_ok())),
        ),
        (
            "dataset chunk",
            read(p.data.join("chunk-00000.lpd")),
            Box::new(|b| {
                std::fs::write(&chunk_path, b).unwrap();
                read_chunk(&chunk_path, FrameShape { width: 32, height: 32, channels: 1 }, Default::default())
                    .is_ok()
            }),
        ),
        (
            "dataset manifest",
            read(p.data.join("manifest.json")),
            Box::new(|b| {
                std::fs::write(data_dir.join("manifest.json"), b).unwrap();
                Dataset::open(&data_dir).is_ok_and(|d| (0..d.num_chunks()).all(|i| d.chunk(i).is_ok()))
            }),
        ),
        (
            "checkpoint state.json",
            read(last.join("state.json")),
            Box::new(|b| {
                std::fs::write(state_dir.join("state.json"), b).unwrap();
                Checkpoint::open(&state_dir).is_ok_and(|c| c.listed().all(|f| c.read(f).is_ok()))
            }),
        ),
        ("replay buffer", read(last.join("replay.bin")), Box::new(|b| ReplayBuffer::from_bytes(b).is_ok())),
        (
            "Q-table",
            read(p.qlearning.join("checkpoints/last/qtable.json")),
            Box::new(|b| QTable::from_bytes(b).is_ok()),
        ),
        (
            "loop state",
            loop_bytes.clone(),
            Box::new(|b| {
                let read = |f: &str| -> Result<Vec<u8>, lepton_agents::agent::PartError> {
                    Ok(if f == "loop.json" { b.to_vec() } else { Vec::new() })
                };
                LoopState::from_parts(&read, 2, None).is_ok()
            }),
        ),
        (
            "metrics.csv",
            read(p.dqn.join("metrics.csv")),
            Box::new(|b| {
                let path = dir.join("metrics.csv");
                std::fs::write(&path, b).unwrap();
                lepton_agents::run::metrics::read(&path).is_ok()
            }),
        ),
    ];

    let per_target = 300;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    // Before panics are silenced, so a failure here says which.
    for (name, valid, parse) in &targets {
        assert!(parse(valid), "{name}: the valid input is accepted");
    }
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut panics = Vec::new();
    let (mut fuzzed, mut accepted) = (0, Vec::new());
    for (name, valid, parse) in &targets {
        let mut ok = 0;
        for _ in 0..per_target {
            let input = mutate(valid, &mut rng);
            fuzzed += 1;
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&input))) {
                Ok(true) => ok += 1,
                Ok(false) => {}
                Err(_) => {
                    let saved = dir.join(format!("panic-{}.bin", panics.len()));
                    std::fs::write(&saved, &input).unwrap();
                    panics.push(format!("{name}: input saved as {}", saved.display()));
                }
            }
        }
        accepted.push(format!("{name} {ok}"));
    }
    std::panic::set_hook(quiet);
    eprintln!(
        "faults: {fuzzed} mutated inputs to {} parsers, {} panics (still accepted: {})",
        targets.len(),
        panics.len(),
        accepted.join(", ")
    );
    assert!(panics.is_empty(), "{panics:#?}");
    drop(targets);
    std::fs::remove_dir_all(dir).unwrap();
}
