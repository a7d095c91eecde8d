//! The stored dataset and the CNN, on synthetic frames whose content encodes their labels (a bright
//! bar whose position is the lane offset), so that these tests need no renderer.

use burn::prelude::Device;
use lepton_perception::cnn::{self, CnnModel, TrainConfig};
use lepton_perception::dataset::{Dataset, DatasetError, DatasetWriter, FrameShape, Manifest, Sample};
use std::path::{Path, PathBuf};

/// burn seeds its parameter initialisation per backend, not per thread: trainings in one test
/// process take turns so that a seed means the same weights.
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

const SHAPE: FrameShape = FrameShape { width: 32, height: 32, channels: 1 };

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lepton-perception-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A frame with a vertical bar at a column given by `lane_offset` ∈ [−1.5, 1.5], on a background
/// whose brightness varies with `noise` (so frames differ beyond the label).
fn frame(lane_offset: f32, heading: f32, noise: u32) -> Vec<u8> {
    let column = ((lane_offset + 1.5) / 3.0 * 27.0).round() as i32 + 2;
    let mut data = vec![0u8; SHAPE.len()];
    for y in 0..32i32 {
        // The bar leans with the heading error.
        let x_at = column + ((y - 16) as f32 * heading * 2.0).round() as i32;
        for x in 0..32i32 {
            let background = 40 + ((x as u32 * 7 + y as u32 * 3 + noise * 13) % 23) as u8;
            data[(y * 32 + x) as usize] = if (x - x_at).abs() <= 1 { 230 } else { background };
        }
    }
    data
}

fn sample(episode: u64, step: u32) -> Sample {
    // Deterministic pseudo-random labels per (episode, step).
    let h = (episode.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (step as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9))
        >> 11;
    let u = |k: u64| ((h >> (k * 8)) & 0xff) as f32 / 255.0;
    let lane_offset = u(0) * 3.0 - 1.5;
    let heading = u(1) * 0.4 - 0.2;
    // Only what the frame shows varies; the gaps are constant (nothing ahead).
    let labels = [lane_offset, heading, 10.0 + u(2), 0.0, 60.0, 60.0, 0.0];
    let frame = frame(lane_offset, heading, step + episode as u32);
    Sample { episode_seed: episode, step, labels, frame, depth: Vec::new(), semantic: Vec::new() }
}

fn template() -> Manifest {
    Manifest {
        format_version: 0,
        scenario: "synthetic".into(),
        scenario_ron: String::new(),
        base_seed: 0,
        envs: 1,
        frame: SHAPE,
        planes: Default::default(),
        label_names: Vec::new(),
        samples: 0,
        episodes: 0,
        episode_seeds: Vec::new(),
        rejected: Default::default(),
        label_stats: Default::default(),
        chunks: Vec::new(),
    }
}

fn write_dataset(dir: &Path, episodes: u64, steps: u32, chunk_size: usize) -> Vec<Sample> {
    let mut writer = DatasetWriter::create(dir, SHAPE, chunk_size).unwrap();
    let mut all = Vec::new();
    for e in 0..episodes {
        for s in 0..steps {
            let sample = sample(1000 + e, s);
            writer.push(sample.clone()).unwrap();
            all.push(sample);
        }
    }
    writer.finish(template()).unwrap();
    all
}

#[test]
fn a_dataset_round_trips_through_its_chunks() {
    let dir = temp_dir("round-trip");
    let written = write_dataset(&dir, 5, 7, 8);
    let dataset = Dataset::open(&dir).unwrap();
    assert_eq!(dataset.len(), 35);
    assert_eq!(dataset.num_chunks(), 5, "35 samples in chunks of 8");
    assert_eq!(dataset.manifest.episodes, 5);
    assert_eq!(dataset.manifest.episode_seeds, vec![1000, 1001, 1002, 1003, 1004]);
    let read: Vec<Sample> = dataset.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(read, written);
    let stats = &dataset.manifest.label_stats["lane_offset"];
    let mean = written.iter().map(|s| s.labels[0] as f64).sum::<f64>() / 35.0;
    assert!((stats.mean - mean).abs() < 1e-6);
    assert!(stats.min >= -1.5 && stats.max <= 1.5 && stats.std > 0.1);
    assert!(dataset.manifest.rejected.is_empty(), "the template had no rejections");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_corrupt_or_truncated_chunk_gives_a_clear_error() {
    let dir = temp_dir("corrupt");
    write_dataset(&dir, 2, 10, 8);
    let dataset = Dataset::open(&dir).unwrap();
    let chunk = dir.join(&dataset.manifest.chunks[1].file);
    let mut bytes = std::fs::read(&chunk).unwrap();

    // One flipped bit in a frame: the checksum catches it.
    bytes[200] ^= 0x10;
    std::fs::write(&chunk, &bytes).unwrap();
    let err = dataset.chunk(1).unwrap_err();
    assert!(matches!(err, DatasetError::Corrupt { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("chunk-00001.lpd") && message.contains("checksum"), "{message}");

    // Cut short: reported as truncated with both sizes.
    bytes[200] ^= 0x10;
    std::fs::write(&chunk, &bytes[..bytes.len() - 100]).unwrap();
    let message = dataset.chunk(1).unwrap_err().to_string();
    assert!(message.contains("chunk-00001.lpd") && message.contains("truncated"), "{message}");
    let streamed: Vec<_> = dataset.iter().collect();
    assert!(streamed.iter().any(Result::is_err), "streaming surfaces the error too");

    // Not a chunk at all.
    std::fs::write(&chunk, vec![7u8; 64]).unwrap();
    assert!(dataset.chunk(1).unwrap_err().to_string().contains("magic"));

    // A missing manifest names the file.
    std::fs::remove_file(dir.join("manifest.json")).unwrap();
    assert!(Dataset::open(&dir).unwrap_err().to_string().contains("manifest.json"));
    std::fs::remove_dir_all(dir).unwrap();
}

fn quick_config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 32,
        learning_rate: 2e-3,
        final_learning_rate: 2e-3,
        patience: epochs,
        validation_fraction: 0.2,
        conv_channels: [8, 16, 16, 16],
        hidden: 32,
        ..TrainConfig::default()
    }
}

#[test]
fn training_lowers_the_validation_loss_and_the_saved_model_predicts_the_same_after_reloading() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let data = temp_dir("train-data");
    let out = temp_dir("train-model");
    write_dataset(&data, 20, 24, 64);
    let dataset = Dataset::open(&data).unwrap();
    let device = Device::flex();

    let report = cnn::train(&dataset, &out, &quick_config(6), &device, |_| {}).unwrap();
    assert_eq!(report.epochs.len(), 6);
    assert!(report.validation_samples > 0 && report.train_samples > report.validation_samples);
    let first = report.epochs[0].validation_loss;
    let best = report.best_validation_loss;
    assert!(best < 0.7 * first, "validation loss went {first} → {best}");
    // The lane offset is a bar's position: after a short run the error is well under the spread
    // of the labels (uniform on ±1.5 m: mean absolute deviation 0.75 m).
    let lane_mae = report.epochs[report.best_epoch - 1].validation_mae[0];
    assert!(lane_mae < 0.4, "lane MAE {lane_mae}");
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 7, "header + one row per epoch");
    assert!(metrics.starts_with("epoch,train_loss,validation_loss,mae_lane_offset"));

    // Reloaded twice, the model gives bit-identical predictions to itself and to the first load.
    let model = CnnModel::load(&out, &device).unwrap();
    assert_eq!(model.meta.best_epoch, report.best_epoch);
    assert_eq!(model.meta.epochs_trained, 6);
    let frames: Vec<Vec<u8>> = (0..10).map(|i| sample(5000, i).frame).collect();
    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let a = model.predict(&refs);
    let b = CnnModel::load(&out, &device).unwrap().predict(&refs);
    assert_eq!(a, b);
    // And the saved copy is the same network: saving it again and reloading changes nothing.
    let again = temp_dir("train-model-again");
    model.save(&again).unwrap();
    assert_eq!(CnnModel::load(&again, &device).unwrap().predict(&refs), a);

    // Evaluation on the same data agrees with training's own figures in kind.
    let eval = cnn::evaluate(&model, &dataset, 64, |_| {}).unwrap();
    assert_eq!(eval.samples, dataset.len());
    assert!(eval.mae["lane_offset"] < 0.5, "{:?}", eval.mae);
    assert!(eval.inference_frames_per_second > 0.0);
    assert!(eval.overlapping_episodes > 0, "the training episodes are recognised");
    let strict = cnn::Thresholds { max_lane_mae: Some(1e-6), ..Default::default() };
    assert_eq!(strict.failures(&eval).len(), 1, "an impossible threshold fails");
    assert!(cnn::Thresholds::default().failures(&eval).is_empty());

    for dir in [data, out, again] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn the_same_seed_trains_the_same_model() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let data = temp_dir("seeded-data");
    write_dataset(&data, 6, 16, 32);
    let dataset = Dataset::open(&data).unwrap();
    let device = Device::flex();
    let run = |name: &str| {
        let out = temp_dir(name);
        let report = cnn::train(&dataset, &out, &quick_config(2), &device, |_| {}).unwrap();
        std::fs::remove_dir_all(out).unwrap();
        report.epochs.iter().map(|e| e.validation_loss).collect::<Vec<_>>()
    };
    assert_eq!(run("seeded-a"), run("seeded-b"));
    std::fs::remove_dir_all(data).unwrap();
}

#[test]
fn too_few_episodes_to_split_is_a_clear_error() {
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let data = temp_dir("one-episode");
    write_dataset(&data, 1, 40, 64);
    let dataset = Dataset::open(&data).unwrap();
    let out = temp_dir("one-episode-model");
    let err = cnn::train(&dataset, &out, &quick_config(1), &Device::flex(), |_| {}).unwrap_err();
    assert!(err.to_string().contains("at least 2"), "{err}");
    std::fs::remove_dir_all(data).unwrap();
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn an_empty_dataset_is_an_error_to_evaluate_not_a_pass_with_no_error() {
    let dir = temp_dir("empty");
    write_dataset(&dir, 0, 0, 8);
    let dataset = Dataset::open(&dir).unwrap();
    assert!(dataset.is_empty());
    let model = CnnModel::untrained(SHAPE, &Device::default());
    let error = cnn::evaluate(&model, &dataset, 8, |_| {}).unwrap_err();
    assert!(error.to_string().contains("holds no frames"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn datasets_opened_together_read_as_one_and_refuse_other_frames() {
    let (a, b, other) = (temp_dir("merge-a"), temp_dir("merge-b"), temp_dir("merge-other"));
    let first = write_dataset(&a, 3, 5, 4);
    // A second dataset of other episodes, as a field condition's would be.
    let mut writer = DatasetWriter::create(&b, SHAPE, 4).unwrap();
    let second: Vec<Sample> = (0..2).flat_map(|e| (0..6).map(move |s| sample(5000 + e, s))).collect();
    second.iter().for_each(|s| writer.push(s.clone()).unwrap());
    writer.finish(template()).unwrap();

    let merged = Dataset::open_all(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(merged.len(), 27);
    assert_eq!(merged.manifest.episode_seeds, vec![1000, 1001, 1002, 5000, 5001]);
    let read: Vec<Sample> = merged.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(read, [first.clone(), second.clone()].concat(), "every chunk from its own folder");
    let all: Vec<f64> = read.iter().map(|s| s.labels[0] as f64).collect();
    let mean = all.iter().sum::<f64>() / 27.0;
    assert!((merged.manifest.label_stats["lane_offset"].mean - mean).abs() < 1e-5);

    // Frames of another shape cannot train with these: the error names the dataset.
    let shape = FrameShape { width: 16, height: 16, channels: 1 };
    let mut writer = DatasetWriter::create(&other, shape, 4).unwrap();
    writer.push(Sample { frame: vec![7; shape.len()], ..sample(9000, 0) }).unwrap();
    writer.finish(Manifest { frame: shape, ..template() }).unwrap();
    let message = Dataset::open_all(&[a.clone(), other.clone()]).unwrap_err().to_string();
    assert!(message.contains("merge-other") && message.contains("16×16×1"), "{message}");
    for dir in [a, b, other] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// `sample` with planes: a bright sky in the top six rows (class 5, depth [`DEPTH_FAR`]), below it
/// the bar's pixels class 1 (lane marking) on class 0 (road), depth growing up the frame.
fn sample_with_planes(episode: u64, step: u32) -> Sample {
    let mut plain = sample(episode, step);
    plain.frame[..6 * 32].iter_mut().for_each(|v| *v = 200);
    let depth = (0..SHAPE.len())
        .map(|p| {
            let y = p / 32;
            if y < 6 { lepton_perception::dataset::DEPTH_FAR } else { ((40 - y) * 100) as u16 }
        })
        .collect();
    let semantic = plain
        .frame
        .iter()
        .enumerate()
        .map(|(p, &v)| {
            if p / 32 < 6 {
                5
            } else if v == 230 {
                1
            } else {
                0
            }
        })
        .collect();
    Sample { depth, semantic, ..plain }
}

#[test]
fn depth_and_classes_ride_with_their_frames_and_train_the_depth_input_and_the_segmentation_head() {
    use lepton_perception::dataset::Planes;
    let _turn = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    let (data, out) = (temp_dir("planes-data"), temp_dir("planes-model"));
    let planes = Planes { depth: true, semantic: true };
    let mut writer = DatasetWriter::create(&data, SHAPE, 64).unwrap().with_planes(planes);
    let mut written = Vec::new();
    for e in 0..20 {
        for s in 0..24 {
            let sample = sample_with_planes(2000 + e, s);
            writer.push(sample.clone()).unwrap();
            written.push(sample);
        }
    }
    let manifest = writer.finish(template()).unwrap();
    assert_eq!((manifest.format_version, manifest.planes), (3, planes));
    let dataset = Dataset::open(&data).unwrap();
    let read: Vec<Sample> = dataset.iter().map(Result::unwrap).collect();
    assert_eq!(read, written, "frames, depth and classes come back as written");

    // A plane-less dataset refuses what needs planes, by field.
    let plain = temp_dir("planes-plain");
    write_dataset(&plain, 4, 8, 64);
    let config = TrainConfig { depth_input: true, ..quick_config(1) };
    let refused = cnn::train(&Dataset::open(&plain).unwrap(), &out, &config, &Device::flex(), |_| {});
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("depth_input") && message.contains("--sensors depth"), "{message}");

    let config = TrainConfig { depth_input: true, segmentation_weight: 1.0, ..quick_config(8) };
    let device = Device::flex();
    let report = cnn::train(&dataset, &out, &config, &device, |_| {}).unwrap();
    let best = &report.epochs[report.best_epoch - 1];
    let (accuracy, miou) = (best.validation_pixel_accuracy.unwrap(), best.validation_miou.unwrap());
    // Road alone would score 0.78 of the pixels; the head must find the sky and more.
    assert!(accuracy > 0.85, "pixel accuracy {accuracy}");
    assert!(miou > 0.5, "mIoU {miou}");
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(metrics.lines().next().unwrap().contains(",pixel_accuracy,miou,"), "{metrics}");

    // Saved and loaded: the head's file checked, the depth input recorded, the same classes.
    let model = CnnModel::load(&out, &device).unwrap();
    assert!(model.meta.depth_input && model.meta.segmentation.is_some() && model.segmentation.is_some());
    let eval = cnn::evaluate(&model, &dataset, 64, |_| {}).unwrap();
    let segmentation = eval.segmentation.expect("a head and classes: segmentation scored");
    assert!((segmentation.pixel_accuracy - accuracy).abs() < 0.05, "{segmentation:?} vs {accuracy}");
    assert!(segmentation.iou["sky"] > 0.9, "{segmentation:?}");
    let frame = &written[0];
    let depth: Vec<f32> =
        frame.depth.iter().map(|&d| lepton_perception::dataset::plane_to_depth(d)).collect();
    let classes = model.segment(&[&frame.frame], Some(&[&depth])).unwrap();
    assert_eq!(classes[0].len(), SHAPE.len());
    assert!(classes[0][..32].iter().all(|&c| c == 5), "the top row is sky");

    // A damaged head is refused by name.
    let head = out.join("segmentation.bpk");
    let mut bytes = std::fs::read(&head).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&head, bytes).unwrap();
    let damaged = CnnModel::load(&out, &device).unwrap_err().to_string();
    assert!(damaged.contains("segmentation.bpk") && damaged.contains("damaged"), "{damaged}");
}
