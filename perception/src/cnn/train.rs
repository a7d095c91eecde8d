//! Training the perception CNN, top to bottom:
//! split episodes into train and validation → stream shuffled batches from the chunks →
//! Huber loss on normalised regression targets + binary cross-entropy on the flags (+ the
//! segmentation head's cross-entropy on each grid cell's class, for a dataset with classes) →
//! Adam → validate every epoch (MAEs, flag accuracy, pixel accuracy and mIoU) → keep the best
//! weights, stop early when validation stops improving.

use super::model::CnnConfig;
use super::saved::{ModelError, ModelMeta, save_parts};
use crate::dataset::{Dataset, DatasetError, Sample, is_validation};
use crate::labels::{FLAGS, REGRESSIONS, flag_targets, regression_targets};
use crate::preprocess::Preprocess;
use burn::nn::loss::{HuberLossConfig, Reduction};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use lepton_artifacts::InvalidField;
use lepton_kernels::adam::FusedAdam;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Config(#[from] InvalidField),
    #[error("{path}: {source}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
}

/// Hyperparameters of perception training, with their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training split at most.
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam step size at the start; it follows a cosine down to `final_learning_rate`.
    pub learning_rate: f64,
    pub final_learning_rate: f64,
    /// Epochs without a better validation loss before stopping.
    pub patience: usize,
    /// Fraction of episodes held out for validation.
    pub validation_fraction: f64,
    pub seed: u64,
    /// Chunks mixed together in the shuffle buffer.
    pub shuffle_chunks: usize,
    /// Train on grey frames (luma) even when the dataset is RGB.
    pub grey: bool,
    /// Resize frames to this (width, height) first.
    pub resize: Option<(u32, u32)>,
    /// Weight of the flags' cross-entropy against the regression loss.
    pub flag_weight: f32,
    /// Huber loss threshold, in standard deviations of the target.
    pub huber_delta: f32,
    pub conv_channels: [usize; 4],
    pub hidden: usize,
    /// Feed the camera's depth as an extra input channel (the dataset must store depth:
    /// `perception collect --sensors depth`); the model then needs the depth camera.
    pub depth_input: bool,
    /// Weight of the segmentation head's cross-entropy; above 0 the model gets a head, trained
    /// on the dataset's classes (`perception collect --sensors semantic`).
    pub segmentation_weight: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 64,
            learning_rate: 1e-3,
            final_learning_rate: 5e-5,
            patience: 4,
            validation_fraction: 0.1,
            seed: 0,
            shuffle_chunks: 4,
            grey: false,
            resize: None,
            flag_weight: 0.5,
            huber_delta: 1.0,
            conv_channels: [16, 32, 32, 64],
            hidden: 128,
            depth_input: false,
            segmentation_weight: 0.0,
        }
    }
}

impl TrainConfig {
    /// Checks every field; the message names it (`huber_delta: ...`), so a bad `--config` is an
    /// error before training starts, not an assertion inside burn.
    pub fn validate(&self) -> Result<(), InvalidField> {
        let bad = |field: &str, why: &str| Err(InvalidField::new(field, why));
        let positive = |v: f64| v > 0.0 && v.is_finite();
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if !positive(self.learning_rate) {
            return bad("learning_rate", "must be positive");
        }
        if !(self.final_learning_rate >= 0.0 && self.final_learning_rate <= self.learning_rate) {
            return bad("final_learning_rate", "must be in [0, learning_rate]");
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return bad("validation_fraction", "must be between 0 and 1 (exclusive)");
        }
        if self.shuffle_chunks == 0 {
            return bad("shuffle_chunks", "must be at least 1");
        }
        if !(self.flag_weight >= 0.0 && self.flag_weight.is_finite()) {
            return bad("flag_weight", "must be 0 or more");
        }
        if !positive(self.huber_delta as f64) {
            return bad("huber_delta", "must be positive");
        }
        if self.conv_channels.contains(&0) {
            return bad("conv_channels", "every layer needs at least 1 channel");
        }
        if self.hidden == 0 {
            return bad("hidden", "must be at least 1");
        }
        if let Some((w, h)) = self.resize
            && (w == 0 || h == 0)
        {
            return bad("resize", "width and height must be at least 1");
        }
        if !(self.segmentation_weight >= 0.0 && self.segmentation_weight.is_finite()) {
            return bad("segmentation_weight", "must be 0 or more");
        }
        if (self.depth_input || self.segmentation_weight > 0.0) && self.resize.is_some() {
            return bad(
                "resize",
                "depth input and segmentation read the camera's own pixels: leave frames their size",
            );
        }
        Ok(())
    }
}

/// Where training is, for progress bars.
#[derive(Debug, Clone, Copy)]
pub struct TrainProgress {
    pub epoch: usize,
    pub epochs: usize,
    /// Training samples seen this epoch, of about `epoch_samples`.
    pub samples: usize,
    pub epoch_samples: usize,
    pub train_loss: f32,
    pub best_validation_loss: f32,
}

/// One epoch's figures (a row of `metrics.csv`).
#[derive(Debug, Clone, Serialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f32,
    pub validation_loss: f32,
    /// Mean absolute error per regression head (physical units), in [`REGRESSIONS`] order.
    pub validation_mae: Vec<f32>,
    /// Accuracy per flag, in [`FLAGS`] order.
    pub validation_accuracy: Vec<f32>,
    /// The segmentation head's pixel accuracy and mean IoU on the validation split (full
    /// resolution), when the model has one.
    pub validation_pixel_accuracy: Option<f32>,
    pub validation_miou: Option<f32>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub epochs: Vec<EpochMetrics>,
    pub best_epoch: usize,
    pub best_validation_loss: f32,
    pub train_samples: usize,
    pub validation_samples: usize,
    pub stopped_early: bool,
    pub seconds: f64,
}

/// Trains on `dataset`, writing the best model, `metrics.csv` and `train_config.json` to `out`.
pub fn train(
    dataset: &Dataset,
    out: &Path,
    config: &TrainConfig,
    device: &Device,
    mut progress: impl FnMut(TrainProgress),
) -> Result<TrainReport, TrainError> {
    let started = std::time::Instant::now();
    let manifest = &dataset.manifest;
    config.validate()?;

    // The split is by episode, so no validation frame has a near-copy in the training set.
    let validation = validation_episodes(&manifest.episode_seeds, config.validation_fraction)?;
    let is_val = |s: &Sample| validation.binary_search(&s.episode_seed).is_ok();

    let preprocess = Preprocess::new(config.grey, config.resize);
    let f = manifest.frame;
    let segmentation = config.segmentation_weight > 0.0;
    for (asked, stored, field, flag) in [
        (config.depth_input, manifest.planes.depth, "depth_input", "depth"),
        (segmentation, manifest.planes.semantic, "segmentation_weight", "semantic"),
    ] {
        if asked && !stored {
            return Err(TrainError::Config(InvalidField::new(
                field,
                format!(
                    "{} stores no {flag} images: collect it with `lepton perception collect --sensors {flag}`",
                    dataset.dir.display()
                ),
            )));
        }
    }
    let (channels, height, width) = preprocess.output_shape(f.channels, f.height, f.width);
    let channels = channels + config.depth_input as usize;
    let cnn = CnnConfig::new(channels, height, width)
        .with_conv_channels(config.conv_channels)
        .with_hidden(config.hidden);
    if cnn.feature_size().is_none() {
        return Err(TrainError::Invalid(format!(
            "frames of {width}x{height} are too small for the CNN (at least 17x17 after resizing)"
        )));
    }
    let (mean, std) = target_normalisation(dataset);
    let mut meta = ModelMeta::new(f, preprocess, cnn.clone(), mean, std);
    meta.depth_input = config.depth_input;
    meta.scenario = manifest.scenario.clone();
    meta.dataset = dataset.dir.display().to_string();
    meta.training_episodes =
        manifest.episode_seeds.iter().copied().filter(|e| validation.binary_search(e).is_err()).collect();

    std::fs::create_dir_all(out).map_err(|source| TrainError::Io { path: out.to_path_buf(), source })?;
    let config_json = serde_json::to_string_pretty(config).expect("config serialises");
    crate::dataset::write_atomically(&out.join("train_config.json"), config_json.as_bytes())?;
    let metrics_path = out.join("metrics.csv");
    let metrics_error = |e: csv::Error| TrainError::Io { path: metrics_path.clone(), source: e.into() };
    let mut metrics = csv::Writer::from_path(&metrics_path).map_err(metrics_error)?;
    let header: Vec<String> = ["epoch", "train_loss", "validation_loss"]
        .iter()
        .map(|s| s.to_string())
        .chain(REGRESSIONS.iter().map(|r| format!("mae_{}", r.name())))
        .chain(FLAGS.iter().map(|(n, _)| format!("accuracy_{n}")))
        .chain(segmentation.then(|| ["pixel_accuracy".to_string(), "miou".to_string()]).into_iter().flatten())
        .chain(["seconds".to_string()])
        .collect();
    metrics.write_record(&header).and_then(|()| Ok(metrics.flush()?)).map_err(metrics_error)?;
    // The same figures for TensorBoard (`tensorboard --logdir MODEL_DIR`).
    let tb_dir = out.join("tb");
    let tb_error = |source| TrainError::Io { path: tb_dir.clone(), source };
    let mut tensorboard =
        lepton_artifacts::tensorboard::EventWriter::create(&tb_dir, None).map_err(tb_error)?;

    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let classes = lepton_render::batch::Class::ALL.len();
    // Numbered as one module: the optimiser keys its state and the gradients by parameter id.
    let mut net = super::model::number_parameters(Joint {
        cnn: cnn.init(&train_device),
        head: segmentation.then(|| cnn.init_segmentation(classes, &train_device)),
    });
    // burn's Adam defaults (ε = 1e-5), fused into one pass per parameter on the CPU.
    let mut optimizer = ModuleOptimizer::from(FusedAdam::new(0.9, 0.999, 1e-5));
    let huber = HuberLossConfig::new(config.huber_delta).init();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);

    let (train_samples, validation_samples) = count_split(dataset, &is_val)?;
    if train_samples == 0 || validation_samples == 0 {
        return Err(TrainError::Invalid(format!(
            "{}: the split left {train_samples} training and {validation_samples} validation samples",
            dataset.dir.display()
        )));
    }

    let mut report = TrainReport {
        epochs: Vec::new(),
        best_epoch: 0,
        best_validation_loss: f32::INFINITY,
        train_samples,
        validation_samples,
        stopped_early: false,
        seconds: 0.0,
    };
    let mut since_best = 0;
    for epoch in 1..=config.epochs {
        let epoch_started = std::time::Instant::now();
        let mut chunk_order: Vec<usize> = (0..dataset.num_chunks()).collect();
        chunk_order.shuffle(&mut rng);
        let (mut loss_sum, mut batches, mut seen) = (0.0f64, 0usize, 0usize);
        for group in chunk_order.chunks(config.shuffle_chunks.max(1)) {
            let mut pool = Vec::new();
            for &c in group {
                pool.extend(dataset.chunk(c)?.into_iter().filter(|s| !is_val(s)));
            }
            pool.shuffle(&mut rng);
            for batch in pool.chunks(config.batch_size) {
                let tensors = batch_tensors(&meta, batch, net.head_classes(), &train_device);
                let loss = net.loss(&huber, tensors, config);
                let value: f32 = loss.clone().into_scalar::<f32>();
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                let done = ((epoch - 1) as f64 + seen as f64 / train_samples as f64) / config.epochs as f64;
                let lr = config.final_learning_rate
                    + 0.5
                        * (config.learning_rate - config.final_learning_rate)
                        * (1.0 + (std::f64::consts::PI * done).cos());
                net = optimizer.step(lr, net, grads);
                loss_sum += value as f64;
                batches += 1;
                seen += batch.len();
                progress(TrainProgress {
                    epoch,
                    epochs: config.epochs,
                    samples: seen,
                    epoch_samples: train_samples,
                    train_loss: (loss_sum / batches as f64) as f32,
                    best_validation_loss: report.best_validation_loss,
                });
            }
            // Keep the shuffle pools apart in time: a new group of chunks is mixed each round.
            let _ = rng.random::<u32>();
        }

        let valid = net.valid();
        let v = validate(&meta, &valid, dataset, &is_val, config, &huber, device)?;
        let row = EpochMetrics {
            epoch,
            train_loss: (loss_sum / batches.max(1) as f64) as f32,
            validation_loss: v.loss,
            validation_mae: v.mae,
            validation_accuracy: v.accuracy,
            validation_pixel_accuracy: v.pixels.as_ref().map(|p| p.pixel_accuracy()),
            validation_miou: v.pixels.as_ref().map(|p| p.miou()),
            seconds: epoch_started.elapsed().as_secs_f64(),
        };
        let mut line = vec![epoch.to_string(), row.train_loss.to_string(), row.validation_loss.to_string()];
        line.extend(row.validation_mae.iter().map(|v| v.to_string()));
        line.extend(row.validation_accuracy.iter().map(|v| v.to_string()));
        line.extend(row.validation_pixel_accuracy.iter().chain(&row.validation_miou).map(|v| v.to_string()));
        line.push(format!("{:.3}", row.seconds));
        metrics.write_record(&line).and_then(|()| Ok(metrics.flush()?)).map_err(metrics_error)?;
        let mut scalars: Vec<(String, f64)> = vec![
            ("perception/train_loss".into(), row.train_loss as f64),
            ("perception/validation_loss".into(), row.validation_loss as f64),
        ];
        scalars.extend(
            REGRESSIONS
                .iter()
                .zip(&row.validation_mae)
                .map(|(r, v)| (format!("perception/mae_{}", r.name()), *v as f64)),
        );
        scalars.extend(
            FLAGS
                .iter()
                .zip(&row.validation_accuracy)
                .map(|((n, _), v)| (format!("perception/accuracy_{n}"), *v as f64)),
        );
        scalars.extend(
            row.validation_pixel_accuracy.map(|v| ("perception/pixel_accuracy".to_string(), v as f64)),
        );
        scalars.extend(row.validation_miou.map(|v| ("perception/miou".to_string(), v as f64)));
        let scalars: Vec<(&str, f64)> = scalars.iter().map(|(t, v)| (t.as_str(), *v)).collect();
        tensorboard.scalars(epoch as u64, &scalars).and_then(|()| tensorboard.flush()).map_err(tb_error)?;

        meta.epochs_trained = epoch;
        if row.validation_loss < report.best_validation_loss {
            report.best_validation_loss = row.validation_loss;
            report.best_epoch = epoch;
            meta.best_epoch = epoch;
            meta.best_validation_loss = row.validation_loss;
            save_parts(&valid.cnn, valid.head.as_ref(), &meta, out)?;
            since_best = 0;
        } else {
            since_best += 1;
        }
        report.epochs.push(row);
        if since_best >= config.patience {
            report.stopped_early = epoch < config.epochs;
            break;
        }
    }
    // The saved metadata says how long training ran, even when the best epoch came earlier.
    let mut saved = super::CnnModel::load(out, device)?;
    saved.meta.epochs_trained = meta.epochs_trained;
    saved.save(out)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The sorted episode seeds held out for validation: about `fraction` of them, at least one.
pub fn validation_episodes(episodes: &[u64], fraction: f64) -> Result<Vec<u64>, TrainError> {
    if episodes.len() < 2 {
        return Err(TrainError::Invalid(format!(
            "the dataset holds {} episode(s); splitting by episode needs at least 2 (collect more frames)",
            episodes.len()
        )));
    }
    let mut chosen: Vec<u64> = episodes.iter().copied().filter(|&e| is_validation(e, fraction)).collect();
    if chosen.is_empty() {
        chosen.push(episodes[episodes.len() / 2]);
    }
    if chosen.len() == episodes.len() {
        chosen.pop();
    }
    chosen.sort_unstable();
    Ok(chosen)
}

/// Mean and std of each regression target, from the manifest's label statistics.
fn target_normalisation(dataset: &Dataset) -> (Vec<f32>, Vec<f32>) {
    REGRESSIONS
        .iter()
        .map(|r| {
            let name = crate::state::DrivingState::NAMES[r.field];
            let stats = dataset.manifest.label_stats.get(name).copied().unwrap_or_default();
            let mean = (stats.mean as f32).clamp(r.min, r.max);
            (mean, (stats.std as f32).max(1e-3 * (r.max - r.min)))
        })
        .unzip()
}

fn count_split(dataset: &Dataset, is_val: &impl Fn(&Sample) -> bool) -> Result<(usize, usize), TrainError> {
    let (mut train, mut val) = (0, 0);
    for c in 0..dataset.num_chunks() {
        for s in dataset.chunk(c)? {
            if is_val(&s) { val += 1 } else { train += 1 }
        }
    }
    Ok((train, val))
}

/// A batch as the network and its losses take it.
struct Batch {
    input: Tensor<4>,
    /// Normalised regression targets.
    regression: Tensor<2>,
    flags: Tensor<2>,
    /// One-hot classes of each segmentation grid cell ([n, classes, gh, gw]), when the model
    /// has a head.
    cells: Option<Tensor<4>>,
}

/// The depth image of a sample in metres (for the depth input).
fn sample_depth(s: &Sample) -> Vec<f32> {
    s.depth.iter().map(|&d| crate::dataset::plane_to_depth(d)).collect()
}

/// Network input, normalised regression targets, flag targets and, for a head of `classes`
/// classes, the grid's classes for a batch.
fn batch_tensors(meta: &ModelMeta, batch: &[Sample], classes: Option<usize>, device: &Device) -> Batch {
    let n = batch.len();
    let len = meta.input_len();
    let mut input = vec![0.0f32; n * len];
    input.par_chunks_mut(len).zip(batch.par_iter()).for_each(|(dst, s)| {
        let mut v = Vec::with_capacity(len);
        let depth = meta.depth_input.then(|| sample_depth(s));
        meta.input_with_depth_into(&s.frame, depth.as_deref(), &mut v);
        dst.copy_from_slice(&v);
    });
    let mut reg = Vec::with_capacity(n * REGRESSIONS.len());
    let mut flags = Vec::with_capacity(n * FLAGS.len());
    for s in batch {
        for (k, t) in regression_targets(&s.labels).into_iter().enumerate() {
            reg.push((t - meta.regression_mean[k]) / meta.regression_std[k]);
        }
        flags.extend(flag_targets(&s.labels));
    }
    let c = &meta.cnn;
    let cells = classes.map(|classes| {
        let (gh, gw) = c.segmentation_grid();
        let mut one_hot = vec![0.0f32; n * classes * gh * gw];
        for (b, s) in batch.iter().enumerate() {
            for (cy, cx) in (0..gh).flat_map(|y| (0..gw).map(move |x| (y, x))) {
                let (y, x) = (
                    CnnConfig::cell_centre(cy).min(c.height - 1),
                    CnnConfig::cell_centre(cx).min(c.width - 1),
                );
                let class = (s.semantic[y * c.width + x] as usize).min(classes - 1);
                one_hot[((b * classes + class) * gh + cy) * gw + cx] = 1.0;
            }
        }
        Tensor::from_data(TensorData::new(one_hot, [n, classes, gh, gw]), device)
    });
    Batch {
        input: Tensor::from_data(TensorData::new(input, [n, c.channels, c.height, c.width]), device),
        regression: Tensor::from_data(TensorData::new(reg, [n, REGRESSIONS.len()]), device),
        flags: Tensor::from_data(TensorData::new(flags, [n, FLAGS.len()]), device),
        cells,
    }
}

/// The CNN and, when it is trained, the segmentation head, as one module for the optimiser.
#[derive(Module, Debug)]
struct Joint {
    cnn: super::model::PerceptionCnn,
    head: Option<burn::nn::conv::Conv2d>,
}

impl Joint {
    /// The batch's loss (see [`Joint::loss`]), with the CNN's outputs and the head's logits.
    fn forward(
        &self,
        huber: &burn::nn::loss::HuberLoss,
        batch: Batch,
        config: &TrainConfig,
    ) -> (Tensor<1>, Tensor<2>, Option<Tensor<4>>) {
        let (out, features) = self.cnn.forward_with_features(batch.input);
        let loss = batch_loss(huber, out.clone(), batch.regression, batch.flags, config.flag_weight);
        match (&self.head, batch.cells) {
            (Some(head), Some(cells)) => {
                let logits = super::model::segment(head, features);
                let loss = loss + segmentation_loss(logits.clone(), cells) * config.segmentation_weight;
                (loss, out, Some(logits))
            }
            _ => (loss, out, None),
        }
    }

    /// The head's number of classes, when there is a head.
    fn head_classes(&self) -> Option<usize> {
        self.head.as_ref().map(|head| head.weight.dims()[0])
    }

    /// The batch's loss: the CNN's, plus `segmentation_weight` × the head's cross-entropy.
    fn loss(&self, huber: &burn::nn::loss::HuberLoss, batch: Batch, config: &TrainConfig) -> Tensor<1> {
        self.forward(huber, batch, config).0
    }
}

/// Mean cross-entropy of the head's logits against one-hot cell classes.
fn segmentation_loss(logits: Tensor<4>, one_hot: Tensor<4>) -> Tensor<1> {
    let log_probs = burn::tensor::activation::log_softmax(logits, 1);
    (one_hot * log_probs).sum_dim(1).mean().neg()
}

/// Huber on the regression outputs + `flag_weight` × binary cross-entropy on the flag logits.
fn batch_loss(
    huber: &burn::nn::loss::HuberLoss,
    out: Tensor<2>,
    reg: Tensor<2>,
    flags: Tensor<2>,
    flag_weight: f32,
) -> Tensor<1> {
    let n = out.dims()[0];
    let r = REGRESSIONS.len();
    let reg_out = out.clone().slice([0..n, 0..r]);
    let logits = out.slice([0..n, r..r + FLAGS.len()]);
    let regression = huber.forward(reg_out, reg, Reduction::Mean);
    // BCE with logits, written out for numerical stability: max(x,0) − x·t + ln(1 + e^−|x|).
    let bce = logits.clone().clamp_min(0.0) - logits.clone() * flags + (logits.abs().neg().exp() + 1.0).log();
    regression + bce.mean() * flag_weight
}

struct Validation {
    loss: f32,
    mae: Vec<f32>,
    accuracy: Vec<f32>,
    /// The head's confusion over the validation frames' pixels, when the model has one.
    pixels: Option<super::eval::Confusion>,
}

fn validate(
    meta: &ModelMeta,
    net: &Joint,
    dataset: &Dataset,
    is_val: &impl Fn(&Sample) -> bool,
    config: &TrainConfig,
    huber: &burn::nn::loss::HuberLoss,
    device: &Device,
) -> Result<Validation, TrainError> {
    let (mut loss_sum, mut n_total) = (0.0f64, 0usize);
    let mut abs_err = vec![0.0f64; REGRESSIONS.len()];
    let mut correct = vec![0usize; FLAGS.len()];
    let mut pixels =
        net.head.as_ref().map(|_| super::eval::Confusion::new(lepton_render::batch::Class::ALL.len()));
    for c in 0..dataset.num_chunks() {
        let samples: Vec<Sample> = dataset.chunk(c)?.into_iter().filter(|s| is_val(s)).collect();
        for batch in samples.chunks(config.batch_size) {
            let tensors = batch_tensors(meta, batch, net.head_classes(), device);
            let (loss, out, logits) = net.forward(huber, tensors, config);
            let loss: f32 = loss.into_scalar::<f32>();
            if let (Some(logits), Some(confusion)) = (logits, pixels.as_mut()) {
                let classes = super::saved::classes_from_logits(logits, meta);
                for (predicted, s) in classes.iter().zip(batch) {
                    confusion.add(&s.semantic, predicted);
                }
            }
            loss_sum += loss as f64 * batch.len() as f64;
            n_total += batch.len();
            let values: Vec<f32> = out.into_data().try_to_vec::<f32>().expect("f32 outputs");
            for (p, s) in super::saved::decode(meta, &values, batch.len()).iter().zip(batch) {
                for (k, t) in regression_targets(&s.labels).into_iter().enumerate() {
                    abs_err[k] += (p.regression[k] - t).abs() as f64;
                }
                for (k, t) in flag_targets(&s.labels).into_iter().enumerate() {
                    correct[k] += ((p.flags[k] > 0.5) == (t > 0.5)) as usize;
                }
            }
        }
    }
    let n = n_total.max(1) as f64;
    Ok(Validation {
        loss: (loss_sum / n) as f32,
        mae: abs_err.iter().map(|e| (e / n) as f32).collect(),
        accuracy: correct.iter().map(|&c| (c as f64 / n) as f32).collect(),
        pixels,
    })
}
