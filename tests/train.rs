//! End-to-end tests of `lepton train`, `eval` and `plot` on the tiny scenario.

mod common;

use common::*;
use std::path::Path;

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
    // By default the episodes are not those that chose checkpoints/best (eval_seed 1,000,000,
    // 2 episodes: env seeds 1,000,000..1,000,002), and the JSON says which seeds it used.
    assert_eq!(eval["best_chosen_on_env_seeds"], serde_json::json!([1_000_000, 1_000_002]));
    assert_eq!(eval["env_seeds"], serde_json::json!([2_000_000, 2_000_003]));
    assert_eq!(eval["held_out"], true);
    assert_eq!(eval["episode_seeds"].as_array().unwrap().len(), 3);
    let in_sample =
        lepton(&["eval", run.to_str().unwrap(), "--episodes", "3", "--seed", "1000001", "--json"]);
    assert_eq!(json(&in_sample)["held_out"], false);
    assert!(stderr(&in_sample).contains("not held-out"), "{}", stderr(&in_sample));

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
    // A scenario with continuous actions is for continuous agents (Python's SAC, PPO).
    let tiny = std::fs::read_to_string(common::root().join("sim/scenarios/tiny.ron")).unwrap();
    let continuous = tiny.replacen("Scenario(", "Scenario(\n    actions: (continuous: ()),", 1);
    let continuous = write(&dir, "continuous.ron", &continuous);
    let out = dir.join("z");
    let refused = lepton(&[
        "train",
        &continuous,
        "--agent",
        "dqn",
        "--perception",
        "ground-truth",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("actions.continuous"), "{}", stderr(&refused));
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
fn a_resume_continues_the_run_as_started_and_refuses_any_other_configuration() {
    let dir = scratch("train-resume");
    let config = write(&dir, "config.ron", &config("dqn"));
    let run = dir.join("r");
    let out = run.to_str().unwrap();
    let mut first = DQN_ON_TINY.to_vec();
    first.extend(["--steps", "400", "--config", &config, "--out", out]);
    json(&lepton(&first));

    // Each incompatible request exits 2 naming the field (the run's files are untouched).
    let before = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let changed_config = |name: &str, text: &str| write(&dir, name, &format!("({RUN}\n{text})"));
    let n_step = changed_config("n_step.ron", &DQN.replace("batch_size: 16,", "batch_size: 16, n_step: 5,"));
    let gamma = changed_config("gamma.ron", &DQN.replace("batch_size: 16,", "batch_size: 16, gamma: 0.5,"));
    let wide = std::fs::read_to_string(common::root().join("sim/scenarios/tiny.ron"))
        .unwrap()
        .replace("camera: (width: 32, height: 32", "camera: (width: 48, height: 48");
    let wide = write(&dir, "tiny48.ron", &wide);
    let resume_with = |scenario: &str, extra: &[&str], perception: &str| {
        let mut args = vec!["train", scenario, "--agent", "dqn", "--perception", perception];
        args.extend_from_slice(extra);
        args.extend(["--steps", "600", "--out", out, "--resume"]);
        lepton(&args)
    };
    let cases: [(&str, &[&str], &str, &str); 6] = [
        ("tiny", &["--envs", "4"], "ground-truth", "envs"),
        ("tiny", &["--config", &n_step], "ground-truth", "agent.Dqn.n_step"),
        ("tiny", &["--config", &gamma], "ground-truth", "agent.Dqn.gamma"),
        ("tiny", &["--seed", "9"], "ground-truth", "seed"),
        ("tiny", &[], "pixels", "perception"),
        (&wide, &[], "ground-truth", "camera.height"),
    ];
    for (scenario, extra, perception, field) in cases {
        let refused = resume_with(scenario, extra, perception);
        assert_eq!(refused.status.code(), Some(2), "{extra:?}: {}", stderr(&refused));
        assert!(stderr(&refused).contains(field), "{extra:?} names {field}: {}", stderr(&refused));
    }
    assert_eq!(std::fs::read_to_string(run.join("metrics.csv")).unwrap(), before);

    // Fewer steps than the run has taken: named. More: the run carries on from its checkpoint.
    let mut fewer = DQN_ON_TINY.to_vec();
    fewer.extend(["--steps", "200", "--out", out, "--resume"]);
    let fewer = lepton(&fewer);
    assert_eq!(fewer.status.code(), Some(2));
    assert!(stderr(&fewer).contains("steps"), "{}", stderr(&fewer));
    let mut more = DQN_ON_TINY.to_vec();
    more.extend(["--steps", "600", "--out", out, "--resume"]);
    let resumed = json(&lepton(&more));
    assert_eq!(resumed["resumed_from_step"], 400);
    assert_eq!(resumed["steps"], 600);
    let train_steps: Vec<u64> = std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("train,"))
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(train_steps, (1..=6).map(|k| k * 100).collect::<Vec<u64>>(), "each row once");

    // A run killed while swapping checkpoints leaves only last.old: the resume finds it.
    let last = run.join("checkpoints/last");
    std::fs::rename(&last, run.join("checkpoints/last.old")).unwrap();
    let mut again = DQN_ON_TINY.to_vec();
    again.extend(["--steps", "800", "--out", out, "--resume"]);
    assert_eq!(json(&lepton(&again))["resumed_from_step"], 600);
    assert!(last.join("state.json").is_file() && !run.join("checkpoints/last.old").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn ego_attention_with_temporal_exploration_learns_from_the_object_list_and_resumes_exactly() {
    let dir = scratch("train-attention");
    let attention = DQN
        .replace("cnn_hidden: 64, dueling: true)", "dueling: true, attention: Some(width: 16, heads: 2))")
        .replace("steps: 600)", "steps: 600), exploration: Temporal(mu: 1.5, max_steps: 20)");
    let config = write(&dir, "attention.ron", &format!("({RUN}\n{attention})"));
    let run = |name: &str, steps: &str, resume: bool| {
        let out = dir.join(name);
        let mut args = vec!["train", "tiny", "--agent", "dqn", "--perception", "vehicles", "--envs", "2"];
        args.extend(["--config", &config, "--steps", steps, "--out", out.to_str().unwrap()]);
        if resume {
            args.push("--resume");
        }
        json(&lepton(&args))
    };
    let straight = run("straight", "600", false);
    assert!(straight["updates"].as_u64().unwrap() > 0);
    // The run's scenario carries the sensor it was given, so evaluation lists the same objects.
    let scenario = std::fs::read_to_string(dir.join("straight/scenario.ron")).unwrap();
    assert!(scenario.contains("vehicles: VehicleList("), "{scenario}");
    run("resumed", "400", false);
    let resumed = run("resumed", "600", true);
    assert_eq!(resumed["resumed_from_step"], 400);
    // The held exploration runs and the object lists come back from the checkpoint exactly.
    assert_eq!(metrics_without_timing(&dir.join("straight")), metrics_without_timing(&dir.join("resumed")));
    let eval = json(&lepton(&["eval", dir.join("straight").to_str().unwrap(), "--episodes", "2", "--json"]));
    assert_eq!(eval["episodes"], 2);

    // Attention over anything but an object list is refused, naming the field.
    let refused =
        lepton(&["train", "tiny", "--agent", "dqn", "--perception", "ground-truth", "--config", &config]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("dqn.network.attention"), "{}", stderr(&refused));
    let tabular = lepton(&["train", "tiny", "--agent", "qlearning", "--perception", "vehicles"]);
    assert_eq!(tabular.status.code(), Some(2));
    assert!(stderr(&tabular).contains("not Vehicles"), "{}", stderr(&tabular));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn eval_and_train_record_episodes_as_videos_that_decode_to_their_frames() {
    let dir = scratch("videos");
    let run = dir.join("run");
    let run_arg = run.to_str().unwrap();
    // --video-every 1000: the evaluation at the end (step 1,500) is the first past 1,000.
    let out = lepton_owned(&train_on_tiny(
        "qlearning",
        &["--steps", "1500", "--out", run_arg, "--video-every", "1000"],
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let during = run.join("videos/step-000001500");
    let listed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(during.join("videos.json")).unwrap()).unwrap();
    let eval_episodes = 10;
    assert_eq!(listed.as_array().unwrap().len(), eval_episodes, "one video per evaluation episode");

    let videos = dir.join("videos");
    let out = lepton(&["eval", run_arg, "--episodes", "3", "--json", "--video", videos.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    let recorded = report["videos"].as_array().unwrap();
    assert_eq!(recorded.len(), 3);
    for video in recorded {
        let path = videos.join(video["file"].as_str().unwrap());
        let frames = lepton_render::video::decode_mp4(&path).unwrap();
        // One frame per policy step the episode lasted (its last state is the end: not shown).
        assert_eq!(frames.len() as u64, video["frames"].as_u64().unwrap(), "{}", path.display());
        assert!(frames.len() >= 5);
        assert_eq!((frames[0].width, frames[0].height), (640, 360));
        assert_ne!(frames[0], frames[frames.len() - 1], "the car moves: the pictures change");
        // 12.5 frames a second (policy steps of 4 × 0.02 s): the video plays in real time.
        let seconds = video["seconds"].as_f64().unwrap();
        assert!((seconds - frames.len() as f64 * 0.08).abs() < 1e-3, "{seconds}");
    }
    // The same folder again: its videos are kept, the second evaluation refused (exit 2).
    let before = std::fs::read(videos.join("videos.json")).unwrap();
    let out = lepton(&["eval", run_arg, "--episodes", "1", "--video", videos.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("already holds videos"), "{}", stderr(&out));
    assert_eq!(std::fs::read(videos.join("videos.json")).unwrap(), before);
    // The chase camera's semantic classes as a video: its pixels in the classes' palette (H.264
    // blurs edges, so most pixels, not all, are within a few levels of a class colour).
    let semantic = dir.join("semantic");
    let args = [
        "eval",
        run_arg,
        "--episodes",
        "1",
        "--video",
        semantic.to_str().unwrap(),
        "--video-sensor",
        "semantic",
    ];
    let out = lepton(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let frames = lepton_render::video::decode_mp4(&semantic.join("env0-episode0.mp4")).unwrap();
    let palette: Vec<[u8; 3]> = lepton_render::batch::Class::ALL.iter().map(|c| c.colour()).collect();
    let near = |p: &[u8]| palette.iter().any(|c| c.iter().zip(p).all(|(a, b)| a.abs_diff(*b) <= 12));
    let pixels = frames[0].data.chunks(3);
    let in_palette = pixels.clone().filter(|p| near(p)).count() as f64 / pixels.count() as f64;
    assert!(in_palette > 0.8, "{in_palette} of the pixels are class colours");
    let out = lepton(&["eval", run_arg, "--episodes", "1", "--video-sensor", "depth"]);
    assert_eq!(out.status.code(), Some(2), "--video-sensor needs --video: {}", stderr(&out));
    // A folder that cannot be made is an error naming it (exit 2).
    let blocked = dir.join("file");
    std::fs::write(&blocked, "not a folder").unwrap();
    let out = lepton(&["eval", run_arg, "--episodes", "1", "--video", blocked.join("v").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("file"), "{}", stderr(&out));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn several_cars_train_one_shared_network_and_eval_scores_every_car() {
    let dir = scratch("train-multi-agent");
    let config = write(&dir, "dqn.ron", &config("dqn"));
    let run = |name: &str| {
        let out = dir.join(name);
        json(&lepton(&[
            "train",
            "platoon",
            "--agent",
            "dqn",
            "--config",
            &config,
            "--steps",
            "4000",
            "--envs",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]))
    };
    let summary = run("a");
    // Steps count transitions: one per driving car per world step (up to 8 a step).
    let steps = summary["steps"].as_u64().unwrap();
    assert!((4000..4008).contains(&steps), "{summary}");
    assert!(summary["updates"].as_u64().unwrap() > 0, "the shared network learned: {summary}");
    let eval = &summary["final_eval"];
    // Two world episodes of four cars each.
    assert_eq!(eval["episodes"], 8, "{eval}");
    let a = dir.join("a");
    // Episodes come from the slots of both worlds' cars (slot = world × 4 + car).
    let metrics = std::fs::read_to_string(a.join("metrics.csv")).unwrap();
    let slots: std::collections::BTreeSet<&str> =
        metrics.lines().filter(|l| l.starts_with("episode,")).map(|l| l.split(',').nth(2).unwrap()).collect();
    assert!(slots.len() >= 5, "episodes of many cars: {slots:?}");
    assert!(a.join("checkpoints/best/state.json").exists() && a.join("reward_curve.png").exists());
    // The same seed, the same run.
    run("b");
    assert_eq!(metrics_without_timing(&a), metrics_without_timing(&dir.join("b")));

    // `lepton eval` drives every car with the network.
    let report = json(&lepton(&["eval", a.to_str().unwrap(), "--episodes", "1", "--json"]));
    assert_eq!(report["episodes"], 4, "{report}");
    assert_eq!(
        report["end_reasons"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>(),
        4
    );

    // What a multi-agent run cannot do yet is refused, naming it, with exit code 2.
    let out = dir.join("c");
    let resume = lepton(&["train", "platoon", "--agent", "dqn", "--resume", "--out", out.to_str().unwrap()]);
    assert_eq!(resume.status.code(), Some(2));
    assert!(
        stderr(&resume).contains("--resume (a multi-agent run keeps no world snapshots yet)"),
        "{}",
        stderr(&resume)
    );
}

#[test]
fn several_cars_learn_from_their_own_cameras() {
    let dir = scratch("train-multi-agent-pixels");
    let config = write(
        &dir,
        "dqn.ron",
        &format!("(eval_every: 0, eval_episodes: 1, checkpoint_every: 400, log_every: 100, {DQN})"),
    );
    let scenario = write(
        &dir,
        "pair.ron",
        r#"Scenario(
            name: "pair",
            road: (segments: [Straight(length: 200.0)], lanes: 2),
            agents: [(spawn: (s: 30.0)), (spawn: (s: 10.0, lane: 1))],
            camera: (width: 40, height: 40, format: Grey),
            episode: (max_steps: 40),
        )"#,
    );
    let out = dir.join("run");
    let summary = json(&lepton(&[
        "train",
        &scenario,
        "--agent",
        "dqn",
        "--perception",
        "pixels",
        "--config",
        &config,
        "--steps",
        "400",
        "--envs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(summary["steps"].as_u64().unwrap() >= 400, "{summary}");
    assert!(summary["updates"].as_u64().unwrap() > 0, "{summary}");
    // Two cars of one world evaluated from their frame stacks.
    assert_eq!(summary["final_eval"]["episodes"], 2, "{summary}");
    assert!(out.join("checkpoints/last/state.json").exists());
}
