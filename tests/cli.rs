//! End-to-end tests of the `lepton` command: exit codes, stdout/stderr contracts, files written.

mod common;

use common::*;
use std::process::Command;

#[test]
fn rollout_prints_a_summary_and_writes_one_trace_row_per_step() {
    let dir = scratch("rollout");
    let trace = dir.join("trace.csv");
    let out =
        lepton(&["rollout", "tiny", "--seed", "3", "--steps", "250", "--trace", trace.to_str().unwrap()]);
    let summary = json(&out);
    assert_eq!(summary["steps"], 250);
    assert_eq!(summary["policy"], "keep_lane");
    let episodes = summary["episodes"].as_u64().unwrap();
    assert!(episodes >= 2, "tiny's episodes are at most 100 steps");
    assert_eq!(summary["returns"].as_array().unwrap().len() as u64, episodes);
    assert_eq!(summary["end_reasons"].as_array().unwrap().len() as u64, episodes);

    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "step,episode,x,y,z,yaw,speed,s,d,action,reward,terminated,truncated,reason,events"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 250);
    assert!(rows.iter().all(|r| r.len() == 15));
    assert!(rows.iter().all(|r| r[14].is_empty()), "tiny has no events");
    let ended = rows.iter().filter(|r| r[11] == "1" || r[12] == "1").count() as u64;
    assert_eq!(ended, episodes);
    assert!(rows.iter().filter(|r| !r[13].is_empty()).count() as u64 == episodes);
    // The car moves forward along the road.
    let s0: f32 = rows[0][7].parse().unwrap();
    let s9: f32 = rows[9][7].parse().unwrap();
    assert!(s9 > s0);
}

#[test]
fn rollout_is_reproducible_by_seed() {
    let dir = scratch("seeds");
    let run = |seed: &str, name: &str| {
        let path = dir.join(name);
        let out = lepton(&[
            "rollout",
            "highway",
            "--seed",
            seed,
            "--steps",
            "120",
            "--policy",
            "random",
            "--trace",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::read_to_string(path).unwrap()
    };
    let a = run("5", "a.csv");
    assert_eq!(a, run("5", "b.csv"));
    assert_ne!(a, run("6", "c.csv"));
}

#[test]
fn bad_input_exits_2_with_a_message_naming_it() {
    let out = lepton(&["rollout", "no_such_scenario.ron"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no_such_scenario.ron"), "{}", stderr(&out));

    let dir = scratch("bad");
    let broken = write(&dir, "broken.ron", "Scenario(\n    road: (lanez: 2),\n)\n");
    let out = lepton(&["rollout", &broken]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&format!("{broken}:2:")), "{}", stderr(&out));

    // A folder cannot be made under a plain file.
    let blocked = format!("{broken}/trace.csv");
    let out = lepton(&["rollout", "tiny", "--trace", &blocked]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&broken), "{}", stderr(&out));

    let out = lepton(&["bench", "sim", "--scenario", "tiny", "--envs", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn scenario_check_accepts_the_shipped_files_and_rejects_broken_ones() {
    let shipped = [
        "sim/scenarios/lane_keep.ron",
        "sim/scenarios/obstacles.ron",
        "sim/scenarios/highway.ron",
        "sim/scenarios/tiny.ron",
        "sim/scenarios/merge.ron",
        "sim/scenarios/intersection.ron",
        "sim/scenarios/roundabout.ron",
    ];
    let out = lepton(&[&["scenario", "check"][..], &shipped[..]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let dir = scratch("check");
    let syntax = write(&dir, "syntax.ron", "Scenario(\n  road: (\n    lanez: 3,\n  ),\n)\n");
    let meaning = write(&dir, "meaning.ron", "Scenario(road: (lanes: 0))\n");
    let out = lepton(&["scenario", "check", "sim/scenarios/tiny.ron", &syntax, &meaning]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.lines().any(|l| l.starts_with(&format!("{syntax}:3:")) && l.contains("lanez")), "{err}");
    assert!(err.lines().any(|l| l.starts_with(&format!("{meaning}: road.lanes:"))), "{err}");
    assert!(!err.contains("tiny.ron"), "valid files report no problems: {err}");
}

#[test]
fn scenario_new_prints_a_template_that_checks_and_show_fills_every_default() {
    let dir = scratch("new");
    let out = lepton(&["scenario", "new", "my_road"]);
    assert!(out.status.success());
    let template = write(&dir, "my_road.ron", &stdout(&out));
    assert!(stdout(&out).contains("//"), "the template is commented");
    let out = lepton(&["scenario", "check", &template]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = lepton(&["scenario", "show", "tiny"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    for field in ["lane_width", "engine_force", "stuck_time", "target_speed", "success", "sun_elevation"] {
        assert!(shown.contains(field), "show lists {field}");
    }
    let path = write(&dir, "shown.ron", &shown);
    let out = lepton(&["scenario", "check", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn bench_sim_reports_env_steps_per_second_as_json() {
    let out = lepton(&["bench", "sim", "--scenario", "tiny", "--envs", "3", "--steps", "50", "--json"]);
    let result = json(&out);
    assert_eq!(result["envs"], 3);
    assert_eq!(result["action_repeat"], 4);
    let rate = result["env_steps_per_second"].as_f64().unwrap();
    let physics = result["physics_steps_per_second"].as_f64().unwrap();
    assert!(rate > 0.0 && (physics / rate - 4.0).abs() < 1e-6);
}

#[test]
fn bench_sim_takes_an_npc_count_and_refuses_one_that_does_not_fit() {
    let args = ["bench", "sim", "--scenario", "intersection", "--envs", "2", "--steps", "20", "--json"];
    let result = json(&lepton(&[&args[..], &["--npcs", "16"]].concat()));
    assert_eq!((result["scenario"].as_str(), result["npcs"].as_u64()), (Some("intersection"), Some(16)));
    assert!(result["env_steps_per_second"].as_f64().unwrap() > 0.0);
    let out = lepton(&[&args[..], &["--npcs", "100000"]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("intersection with --npcs 100000: traffic.count"), "{}", stderr(&out));
}

#[test]
fn scenario_import_turns_an_opendrive_file_into_a_scenario_that_checks_and_names_what_it_left_out() {
    let dir = scratch("import");
    let out_file = dir.join("t_junction.ron");
    let out_path = out_file.to_str().unwrap();
    let out = lepton(&["scenario", "import", "sim/tests/opendrive/t_junction.xodr", "-o", out_path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.lines().any(|l| l.starts_with("note: ")), "what was left out is listed: {err}");
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        text.starts_with("// Imported by `lepton scenario import` from sim/tests/opendrive/t_junction.xodr")
    );
    let out = lepton(&["scenario", "check", out_path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // An existing file is kept without --force.
    let again = lepton(&["scenario", "import", "sim/tests/opendrive/t_junction.xodr", "-o", out_path]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));

    // A malformed file: exit 2, the file, the line and the element.
    let broken = write(
        &dir,
        "broken.xodr",
        "<OpenDRIVE>\n<header revMajor=\"1\" revMinor=\"6\"/>\n<road id=\"1\" length=\"ten\" junction=\"-1\">\n</road>\n</OpenDRIVE>\n",
    );
    let out = lepton(&["scenario", "import", &broken]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with(&format!("{broken}:3: road")), "{}", stderr(&out));
    let out = lepton(&["scenario", "import", "no_such_file.xodr"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no_such_file.xodr"), "{}", stderr(&out));
}

#[test]
fn render_writes_a_png_of_every_tile() {
    let dir = scratch("render");
    let png = dir.join("agent.png");
    let out = lepton(&["render", "tiny", "-o", png.to_str().unwrap(), "--envs", "3", "--steps", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let image = image::open(&png).expect("a PNG").to_rgb8();
    // tiny's 32×32 frames scaled ×8 on a 2×2 grid with 2-pixel gutters.
    assert_eq!(image.dimensions(), (2 * (32 * 8 + 2) + 2, 2 * (32 * 8 + 2) + 2));
    let first_tile: std::collections::HashSet<_> =
        (2..258).flat_map(|y| (2..258).map(move |x| (x, y))).map(|(x, y)| image.get_pixel(x, y).0).collect();
    assert!(first_tile.len() > 3, "the tile shows a scene, not a flat colour");
}

#[test]
fn render_draws_every_cars_own_view_in_a_multi_agent_world() {
    let dir = scratch("render_cars");
    let png = dir.join("platoon.png");
    let args = [
        "render",
        "platoon",
        "-o",
        png.to_str().unwrap(),
        "--envs",
        "1",
        "--steps",
        "3",
        "--sensor",
        "semantic",
    ];
    let out = lepton(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("4 tiles"), "a tile per car: {}", stderr(&out));
    let image = image::open(&png).expect("a PNG").to_rgb8();
    // 84×84 tiles scaled ×3 on a 2×2 grid with 2-pixel gutters.
    assert_eq!(image.dimensions(), (2 * (84 * 3 + 2) + 2, 2 * (84 * 3 + 2) + 2));
    // Car 1 (second tile) sees car 0 ahead: vehicle-class pixels, Cityscapes' dark blue.
    let tile = |i: u32| {
        let (x0, y0) = (2 + (i % 2) * 254, 2 + (i / 2) * 254);
        (y0..y0 + 252).flat_map(move |y| (x0..x0 + 252).map(move |x| (x, y)))
    };
    let vehicle = [0, 0, 142];
    assert!(tile(1).filter(|&(x, y)| image.get_pixel(x, y).0 == vehicle).count() > 100);
    assert_eq!(tile(0).filter(|&(x, y)| image.get_pixel(x, y).0 == vehicle).count(), 0, "car 0 leads");
}

#[test]
fn render_sensor_lidar_draws_range_images_and_points_without_a_gpu() {
    let dir = scratch("render_lidar");
    let png = dir.join("lidar.png");
    let args =
        ["render", "tiny", "-o", png.to_str().unwrap(), "--envs", "2", "--steps", "3", "--sensor", "lidar"];
    // No graphics adapter needed: rays are cast in the physics world.
    let out = without_adapter(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let image = image::open(&png).expect("a PNG").to_rgb8();
    // The default lidar's 32 × 360 beams at 2 × 4 pixels, above a 360-pixel view from above, per env.
    assert_eq!(image.dimensions(), (720 + 8, 2 * (128 + 4 + 360 + 4) + 4));
    let colours: std::collections::HashSet<_> = image.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 20, "range images in many shades, not a flat colour: {}", colours.len());
    let out = lepton(&["render", "tiny", "-o", png.to_str().unwrap(), "--sensor", "radar"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn render_sensor_depth_and_semantic_draw_the_camera_pass_images_and_bench_render_prices_them() {
    let dir = scratch("render_sensors");
    let mut colours = Vec::new();
    for sensor in ["depth", "semantic"] {
        let png = dir.join(format!("{sensor}.png"));
        let out = lepton(&["render", "tiny", "-o", png.to_str().unwrap(), "--envs", "1", "--sensor", sensor]);
        assert!(out.status.success(), "{}", stderr(&out));
        let image = image::open(&png).expect("a PNG").to_rgb8();
        let seen: std::collections::HashSet<_> = image.pixels().map(|p| p.0).collect();
        colours.push(seen);
    }
    // Depth in shades of grey; the classes in their palette: road's purple, the sky's blue.
    assert!(colours[0].len() > 10 && colours[0].iter().all(|[r, g, b]| r == g && g == b));
    assert!(colours[1].contains(&[128, 64, 128]) && colours[1].contains(&[70, 130, 180]), "{:?}", colours[1]);
    let args = [
        "bench",
        "render",
        "--scenario",
        "tiny",
        "--envs",
        "2",
        "--steps",
        "3",
        "--sensors",
        "rgb,depth,semantic",
    ];
    let result = json(&lepton(&[&args[..], &["--json"]].concat()));
    assert_eq!(result["sensors"].as_str(), Some("rgb,depth,semantic"));
    assert!(result["cost_against_rgb"].as_f64().unwrap() > 0.0);
    let out = lepton(&["bench", "render", "--scenario", "tiny", "--sensors", "sonar"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_lidar_reports_rays_per_second_and_refuses_a_sensor_without_rays() {
    let args =
        ["bench", "lidar", "--scenario", "tiny", "--envs", "2", "--steps", "5", "--rays", "90", "--json"];
    let result = json(&lepton(&args));
    assert_eq!((result["channels"].as_u64(), result["rays"].as_u64()), (Some(32), Some(90)));
    let (steps, rays) =
        (result["env_steps_per_second"].as_f64().unwrap(), result["rays_per_second"].as_f64().unwrap());
    assert!(steps > 0.0 && (rays / steps - 32.0 * 90.0).abs() < 1e-3 * rays / steps);
    assert!(result["speedup_over_definition"].as_f64().unwrap() > 0.0);
    let dir = scratch("bench_lidar");
    let file = write(&dir, "zero.ron", "Scenario(lidar: Some((rays: 0)))\n");
    let out = lepton(&["bench", "lidar", "--scenario", &file, "--steps", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("lidar.rays: must be at least 1 (got 0)"), "{}", stderr(&out));
}

/// `lepton ARGS` on a machine where Vulkan finds no driver at all.
fn without_adapter(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lepton"))
        .args(args)
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .output()
        .unwrap()
}

#[test]
fn rendering_without_an_adapter_exits_2_and_says_how_to_get_one() {
    let dir = scratch("noadapter");
    let png = dir.join("x.png");
    let out = without_adapter(&["render", "tiny", "-o", png.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("mesa-vulkan-drivers"), "{}", stderr(&out));
    assert!(!png.exists());
}

#[test]
fn bench_render_reports_frames_per_second_as_json() {
    let out = lepton(&[
        "bench",
        "render",
        "--scenario",
        "tiny",
        "--envs",
        "2",
        "--steps",
        "3",
        "--width",
        "16",
        "--height",
        "16",
        "--grey",
        "--json",
    ]);
    let result = json(&out);
    assert_eq!((result["width"].as_u64(), result["format"].as_str()), (Some(16), Some("grey")));
    assert!(result["camera_frames_per_second"].as_f64().unwrap() > 0.0);
    assert!(result["env_steps_per_second"].as_f64().unwrap() > 0.0);
}

#[test]
fn bench_run_times_q_learning_on_cnn_perception_and_refuses_frames_too_small_for_dqn() {
    let out = lepton(&[
        "bench",
        "run",
        "--agent",
        "qlearning-cnn",
        "--scenario",
        "tiny",
        "--steps",
        "120",
        "--envs",
        "2",
        "--json",
    ]);
    let result = json(&out);
    assert_eq!((result["agent"].as_str(), result["envs"].as_u64()), (Some("qlearning-cnn"), Some(2)));
    assert!(result["env_steps_per_second"].as_f64().unwrap() > 0.0);
    // tiny's 32×32 camera is below the Nature CNN's 36 px.
    let bad = lepton(&["bench", "run", "--scenario", "tiny", "--steps", "120"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("too small for the Nature CNN"), "{}", stderr(&bad));
}

#[test]
fn bench_train_and_perception_report_their_rates_as_json() {
    let train = json(&lepton(&["bench", "train", "--updates", "3", "--size", "0", "--json"]));
    assert!(train["learner_updates_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(train["network"], "mlp");
    let cnn =
        json(&lepton(&["bench", "train", "--updates", "1", "--batch-size", "4", "--size", "36", "--json"]));
    assert!(cnn["learner_updates_per_second"].as_f64().unwrap() > 0.0);
    // The update's profile: every phase timed, and together no more than the whole update.
    let phases = ["inputs", "target_next", "online_next", "forward_loss", "backward", "clip", "optimizer"];
    let ms: Vec<f64> = phases.iter().map(|p| cnn[format!("update_ms_{p}")].as_f64().unwrap()).collect();
    assert!(ms.iter().all(|&m| m >= 0.0) && ms[4] > 0.0, "{ms:?}");
    let per_update_ms = 1e3 / cnn["learner_updates_per_second"].as_f64().unwrap();
    assert!(ms.iter().sum::<f64>() <= per_update_ms * 1.001, "{ms:?} vs {per_update_ms} ms per update");
    assert_eq!(cnn["kernels"], "lepton");
    // burn's own kernels, for a before-and-after in one binary.
    let args = ["bench", "train", "--updates", "1", "--batch-size", "2", "--size", "36", "--kernels", "burn"];
    let burns = json(&lepton(&[&args[..], &["--json"]].concat()));
    assert_eq!(burns["kernels"], "burn");
    let bad = lepton(&["bench", "train", "--kernels", "mkl"]);
    assert_eq!(bad.status.code(), Some(2));
    let perception = json(&lepton(&[
        "bench",
        "perception",
        "--batches",
        "1",
        "--batch-size",
        "4",
        "--size",
        "32",
        "--json",
    ]));
    assert!(perception["frames_per_second"].as_f64().unwrap() > 0.0);
    // A CUDA device no machine has (a CUDA machine runs plain tch-cuda): exit 2, named.
    let bad = lepton(&["bench", "train", "--device", "tch-cuda:99"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("tch-cuda"), "{}", stderr(&bad));
}

#[test]
fn the_rollout_trace_lists_each_scripted_event_on_the_step_it_happens() {
    let dir = scratch("events");
    let trace = dir.join("trace.csv");
    let out = lepton(&["rollout", "emergency_brake", "--steps", "600", "--trace", trace.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&trace).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let first_episode: Vec<&Vec<&str>> = rows.iter().filter(|r| r[1] == "0").collect();
    let happened: Vec<(usize, &str)> = first_episode
        .iter()
        .enumerate()
        .filter(|(_, r)| !r[14].is_empty())
        .map(|(k, r)| (k, r[14]))
        .collect();
    let names: Vec<&str> = happened.iter().map(|(_, n)| *n).collect();
    // The scripted driver stops behind the stopped lead car, so it never reaches the debris mark.
    assert_eq!(names, ["lead_brakes", "dusk"], "{happened:?}");
    // lead_brakes: on the step during which the ego car passes s = 90 m.
    let k = happened[0].0;
    let s_at = |k: usize| first_episode[k][7].parse::<f32>().unwrap();
    assert!(s_at(k - 1) < 90.0 && s_at(k) >= 90.0, "{} → {}", s_at(k - 1), s_at(k));
    // dusk: at 15 s, the physics step starting at 15.0 s (policy steps of 0.08 s).
    assert_eq!(happened[1].0, 187);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn scenario_map_draws_the_road_from_above_and_changes_with_the_file() {
    let dir = scratch("map");
    let png = dir.join("tiny.png");
    let out = lepton(&["scenario", "map", "tiny", "-o", png.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let picture = image::open(&png).unwrap().to_rgb8();
    let count = |rgb: [u8; 3]| picture.pixels().filter(|p| p.0 == rgb).count();
    // Asphalt, grass and the ego's blue are all there; a cone's orange dot too (beyond the
    // legend's 14×14 swatch of each colour).
    let swatch = 14 * 14;
    assert!(count([88, 90, 96]) > 2_000, "asphalt: {}", count([88, 90, 96]));
    assert!(count([196, 222, 178]) > 20_000, "grass");
    assert!(count([30, 100, 230]) > swatch + 50, "the ego car");
    assert!(count([245, 130, 20]) > swatch + 10, "tiny's cone");
    assert_eq!(count([210, 30, 30]), swatch, "tiny has no barrier: only the legend's red");

    // Another file, another map: a barrier appears in red, the road is longer.
    let tiny = std::fs::read_to_string(root().join("sim/scenarios/tiny.ron")).unwrap();
    let edited = tiny.replace(
        "(kind: Cone, s: 50.0, lane: 0),",
        "(kind: Cone, s: 50.0, lane: 0), (kind: Barrier, s: 30.0),",
    );
    assert_ne!(edited, tiny, "tiny.ron's obstacle line changed");
    let edited = write(&dir, "edited.ron", &edited);
    let png2 = dir.join("edited.png");
    assert!(lepton(&["scenario", "map", &edited, "-o", png2.to_str().unwrap()]).status.success());
    let other = image::open(&png2).unwrap().to_rgb8();
    assert_ne!(picture, other);
    assert!(other.pixels().filter(|p| p.0 == [210, 30, 30]).count() > swatch + 10, "the barrier is drawn");

    // Events: a position trigger is a line across the road in the event colour, and each event
    // is described under the legend.
    let eb = dir.join("eb.png");
    assert!(lepton(&["scenario", "map", "emergency_brake", "-o", eb.to_str().unwrap()]).status.success());
    let with_events = image::open(&eb).unwrap().to_rgb8();
    let magenta = with_events.pixels().filter(|p| p.0 == [230, 20, 140]).count();
    assert!(magenta > 200, "event marks: {magenta}");
    assert_eq!(count([230, 20, 140]), 0, "tiny has no events");

    // SVG by the name; anything else, or a scenario that is not there, is an error (exit 2).
    let svg = dir.join("tiny.svg");
    assert!(lepton(&["scenario", "map", "tiny", "-o", svg.to_str().unwrap()]).status.success());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("<svg") && text.contains("tiny"));
    let jpg = lepton(&["scenario", "map", "tiny", "-o", dir.join("m.jpg").to_str().unwrap()]);
    assert_eq!(jpg.status.code(), Some(2));
    assert!(stderr(&jpg).contains("m.jpg") && stderr(&jpg).contains(".svg"), "{}", stderr(&jpg));
    let missing = lepton(&["scenario", "map", "nowhere.ron", "-o", png.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(!dir.join("tiny.tmp.png").exists() && !dir.join("tiny.tmp.svg").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn version_names_the_package_version_and_the_commit_of_the_build() {
    let out = lepton(&["--version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stdout(&out);
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    assert_eq!(line.trim(), format!("lepton {} (commit {head})", env!("CARGO_PKG_VERSION")));
}

#[test]
fn counts_are_bounded_before_anything_is_allocated() {
    for (args, option) in [
        (&["train", "tiny", "--envs", "5000", "--steps", "10"][..], "--envs"),
        (&["perception", "collect", "tiny", "--frames", "1000000000000", "--out", "x"][..], "--frames"),
        (&["eval", "keep-lane:tiny", "--episodes", "99999999"][..], "--episodes"),
        (&["render", "tiny", "--envs", "100000", "-o", "x.png"][..], "--envs"),
    ] {
        let out = lepton(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(option) && stderr(&out).contains("is not in 1..="), "{}", stderr(&out));
    }
    // The same bound in a run configuration file, named by its field.
    let dir = scratch("bounded-config");
    let config = write(&dir, "big.ron", "(envs: 100000)");
    let run = dir.join("r").display().to_string();
    let out = lepton(&[
        "train",
        "tiny",
        "--agent",
        "qlearning",
        "--perception",
        "ground-truth",
        "--config",
        &config,
        "--steps",
        "10",
        "--out",
        &run,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("envs: must be 1 to 1024"), "{}", stderr(&out));
    // A replay buffer bigger than the machine's memory is refused before it is allocated.
    let config = write(&dir, "replay.ron", "(agent: Dqn(buffer_size: 90000000))");
    let run = dir.join("r2").display().to_string();
    let out = lepton(&[
        "train",
        "tiny",
        "--agent",
        "dqn",
        "--perception",
        "pixels",
        "--config",
        &config,
        "--steps",
        "10",
        "--out",
        &run,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("GiB of replay memory"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(dir);
}
