//! End-to-end tests of `lepton perception collect|train|eval` on the tiny scenario.

mod common;

use common::*;

#[test]
fn collect_train_and_eval_run_end_to_end_and_eval_thresholds_gate_promotion() {
    let dir = scratch("perception");
    let data = dir.join("data");
    let held_out = dir.join("held-out");
    let model = dir.join("model");
    let (data_s, held_s, model_s) =
        (data.to_str().unwrap(), held_out.to_str().unwrap(), model.to_str().unwrap());

    let collected = json(&lepton(&[
        "perception",
        "collect",
        "tiny",
        "--frames",
        "160",
        "--envs",
        "4",
        "--seed",
        "5",
        "--chunk-size",
        "48",
        "--out",
        data_s,
    ]));
    assert_eq!(collected["samples"], 160);
    assert_eq!(collected["chunks"], 4, "160 samples in chunks of 48");
    assert!(collected["episodes"].as_u64().unwrap() >= 4);
    let rejected = collected["rejected"].as_object().unwrap();
    for reason in
        ["blank_frame", "non_finite_label", "teleport", "flipped", "physics_invalid", "duplicate_frame"]
    {
        assert!(rejected.contains_key(reason), "manifest counts {reason}");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["frame"]["width"], 32);
    assert_eq!(manifest["frame"]["channels"], 1, "tiny's camera is grey");
    assert_eq!(manifest["base_seed"], 5);
    assert!(manifest["label_stats"]["lane_offset"]["std"].as_f64().unwrap() > 0.05, "perturbed driving");

    // Collecting into a folder that holds a dataset is refused, not overwritten.
    let again = lepton(&["perception", "collect", "tiny", "--frames", "10", "--out", data_s]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("manifest.json"));

    json(&lepton(&[
        "perception",
        "collect",
        "tiny",
        "--frames",
        "64",
        "--envs",
        "2",
        "--seed",
        "500",
        "--out",
        held_s,
    ]));

    let trained = json(&lepton(&["perception", "train", data_s, "--out", model_s, "--epochs", "2"]));
    assert_eq!(trained["epochs"].as_array().unwrap().len(), 2);
    for file in ["model.bpk", "model.json", "metrics.csv", "train_config.json"] {
        assert!(model.join(file).exists(), "{file} written");
    }
    // The epochs' figures for TensorBoard too: losses, MAEs and accuracies per epoch.
    let events: Vec<_> = std::fs::read_dir(model.join("tb")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(events.len(), 1);
    let scalars = lepton_artifacts::tensorboard::read_scalars(&events[0]).unwrap();
    let train_loss: Vec<i64> =
        scalars.iter().filter(|(t, _, _)| t == "perception/train_loss").map(|(_, step, _)| *step).collect();
    assert_eq!(train_loss, [1, 2], "one per epoch");
    assert!(scalars.iter().any(|(t, _, _)| t == "perception/mae_lane_offset"));

    let report = json(&lepton(&["perception", "eval", model_s, held_s, "--json"]));
    assert_eq!(report["samples"], 64);
    assert_eq!(report["overlapping_episodes"], 0, "different seeds, disjoint episodes");
    for name in ["lane_offset", "heading_error", "gap_own", "gap_left", "gap_right"] {
        assert!(report["mae"][name].as_f64().unwrap().is_finite(), "{name}");
    }
    assert!(report["accuracy"]["left_free"].as_f64().unwrap() <= 1.0);
    assert!(report["inference_frames_per_second"].as_f64().unwrap() > 0.0);

    let strict = lepton(&["perception", "eval", model_s, held_s, "--max-lane-mae", "0.000001"]);
    assert_eq!(strict.status.code(), Some(1), "a weak model is refused: {}", stderr(&strict));
    assert!(stderr(&strict).contains("lane_offset MAE"));
    let lenient = lepton(&["perception", "eval", model_s, held_s, "--max-lane-mae", "100"]);
    assert_eq!(lenient.status.code(), Some(0), "{}", stderr(&lenient));

    // Bad input: a missing model, a damaged chunk, an unknown device.
    let missing = lepton(&["perception", "eval", dir.join("nope").to_str().unwrap(), held_s]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("model.json"), "{}", stderr(&missing));
    let chunk = held_out.join("chunk-00000.lpd");
    let bytes = std::fs::read(&chunk).unwrap();
    std::fs::write(&chunk, &bytes[..bytes.len() / 2]).unwrap();
    let damaged = lepton(&["perception", "eval", model_s, held_s]);
    assert_eq!(damaged.status.code(), Some(2));
    assert!(stderr(&damaged).contains("chunk-00000.lpd") && stderr(&damaged).contains("truncated"));
    // Training never replaces a model silently.
    let again = lepton(&["perception", "train", data_s, "--out", model_s, "--epochs", "1"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("a trained model already here"), "{}", stderr(&again));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    // --force replaces it in one swap: the new model whole, nothing of the staging left.
    json(&lepton(&["perception", "train", data_s, "--out", model_s, "--epochs", "1", "--force"]));
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model.json")).unwrap()).unwrap();
    assert_eq!(meta["epochs_trained"], 1);
    assert!(!dir.join("model.partial").exists() && !dir.join("model.old").exists());
    // --force replaces a model and nothing else: not a folder of other files, and never the
    // dataset the training reads (even one that also holds a model.json).
    let notes = dir.join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(notes.join("mine.txt"), "keep").unwrap();
    let refused = lepton(&["perception", "train", data_s, "--out", notes.to_str().unwrap(), "--force"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("this is not one"), "{}", stderr(&refused));
    assert_eq!(std::fs::read_to_string(notes.join("mine.txt")).unwrap(), "keep");
    std::fs::copy(model.join("model.json"), data.join("model.json")).unwrap();
    let refused = lepton(&["perception", "train", data_s, "--out", data_s, "--epochs", "1", "--force"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("a dataset this training reads"), "{}", stderr(&refused));
    std::fs::remove_file(data.join("model.json")).unwrap();
    assert!(data.join("manifest.json").is_file(), "the dataset is untouched");
    let fresh = dir.join("fresh-model");
    let fresh_s = fresh.to_str().unwrap();
    let device = lepton(&["perception", "train", data_s, "--out", fresh_s, "--device", "quantum"]);
    assert_eq!(device.status.code(), Some(2));
    assert!(stderr(&device).contains("--device quantum"));
    // A training configuration out of range is named with its file before training starts (a
    // negative Huber threshold used to trip an assertion inside burn).
    let config = write(&dir, "bad-train.ron", "(huber_delta: -1.0)");
    let bad = lepton(&["perception", "train", data_s, "--out", fresh_s, "--config", &config]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("bad-train.ron") && stderr(&bad).contains("huber_delta"),
        "{}",
        stderr(&bad)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn collecting_from_a_scenario_whose_every_frame_is_rejected_stops_with_a_clear_error() {
    let dir = scratch("perception-rejected");
    // A camera looking straight down at ground and road of one colour: every frame is blank.
    let scenario = write(
        &dir,
        "blank.ron",
        "Scenario(name: \"blank\", road: (segments: [Straight(length: 200.0)], lanes: 1),
            camera: (width: 16, height: 16, format: Grey, pitch: -89.0, fov: 20.0),
            look: (ground: (0.4, 0.4, 0.4), road: (0.4, 0.4, 0.4), shoulder: (0.4, 0.4, 0.4),
                   marking: (0.4, 0.4, 0.4), randomise: (brightness: 0.001, colour: 0.0, sun_angle: 0.0)),
            episode: (max_steps: 50))",
    );
    let out = dir.join("data");
    let collect =
        lepton(&["perception", "collect", &scenario, "--frames", "500", "--out", out.to_str().unwrap()]);
    assert_eq!(collect.status.code(), Some(2), "{}", stderr(&collect));
    assert!(stderr(&collect).contains("passed the anomaly checks"), "{}", stderr(&collect));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn depth_and_classes_are_collected_and_train_a_depth_input_model_with_a_segmentation_head() {
    let dir = scratch("perception-sensors");
    let (data, held_out, model) = (dir.join("data"), dir.join("held-out"), dir.join("model"));
    let (data_s, held_s, model_s) =
        (data.to_str().unwrap(), held_out.to_str().unwrap(), model.to_str().unwrap());
    let collect = |out: &str, frames: &str, seed: &str| {
        json(&lepton(&[
            "perception",
            "collect",
            "tiny",
            "--frames",
            frames,
            "--envs",
            "4",
            "--seed",
            seed,
            "--out",
            out,
            "--sensors",
            "depth,semantic",
        ]))
    };
    let collected = collect(data_s, "160", "5");
    assert_eq!(collected["planes"], serde_json::json!({"depth": true, "semantic": true}));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format_version"], 3);
    collect(held_s, "48", "500");

    let trained = json(&lepton(&[
        "perception",
        "train",
        data_s,
        "--out",
        model_s,
        "--epochs",
        "2",
        "--depth-input",
        "--segmentation",
        "1.0",
    ]));
    let last = &trained["epochs"][1];
    assert!(last["validation_pixel_accuracy"].as_f64().unwrap() > 0.0, "{trained}");
    assert!(model.join("segmentation.bpk").exists());
    let report = json(&lepton(&["perception", "eval", model_s, held_s, "--json"]));
    let segmentation = &report["segmentation"];
    assert!(segmentation["pixel_accuracy"].as_f64().unwrap() > 0.3, "{report}");
    assert!(segmentation["iou"]["sky"].as_f64().is_some(), "{report}");
    let text = stdout(&lepton(&["perception", "eval", model_s, held_s]));
    assert!(text.contains("segmentation: pixel accuracy") && text.contains("IoU road"), "{text}");

    // What the data lacks is refused by field, exit 2; a depth model scores only depth data.
    let plain = dir.join("plain");
    json(&lepton(&[
        "perception",
        "collect",
        "tiny",
        "--frames",
        "32",
        "--envs",
        "2",
        "--out",
        plain.to_str().unwrap(),
    ]));
    let refused = lepton(&[
        "perception",
        "train",
        plain.to_str().unwrap(),
        "--out",
        dir.join("m2").to_str().unwrap(),
        "--segmentation",
        "1",
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("segmentation_weight") && stderr(&refused).contains("--sensors semantic")
    );
    let no_depth = lepton(&["perception", "eval", model_s, plain.to_str().unwrap()]);
    assert_eq!(no_depth.status.code(), Some(2), "{}", stderr(&no_depth));
    assert!(stderr(&no_depth).contains("--sensors depth"), "{}", stderr(&no_depth));
    let resize = lepton(&[
        "perception",
        "train",
        data_s,
        "--out",
        dir.join("m3").to_str().unwrap(),
        "--depth-input",
        "--resize",
        "16x16",
    ]);
    assert_eq!(resize.status.code(), Some(2));
    assert!(stderr(&resize).contains("resize"), "{}", stderr(&resize));
    std::fs::remove_dir_all(dir).unwrap();
}
