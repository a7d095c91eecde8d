//! A trained perception model on disk (`MODEL_DIR/model.bpk` + `model.json`, and
//! `segmentation.bpk` for a model with a segmentation head) and in memory: the network plus
//! everything needed to feed it and read it (input shape, preprocessing, normalisation, output
//! order, whether it reads the depth camera).

use super::model::{CnnConfig, PerceptionCnn};
use crate::dataset::{FrameShape, write_atomically};
use crate::labels::{FLAGS, FREE_GAP, REGRESSIONS};
use crate::preprocess::{Image, Preprocess};
use crate::state::DrivingState;
use burn::prelude::*;
use burn::store::ModuleRecord;
use lepton_artifacts::InvalidField;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const WEIGHTS_FILE: &str = "model.bpk";
/// The segmentation head's weights, beside the CNN's (which stay readable by older builds).
pub const SEGMENTATION_FILE: &str = "segmentation.bpk";
/// The depth channel spans 1 m (1) to this depth (0) on a log scale, so that a metre's change
/// counts as much at 10 m as a decimetre's at 1 m; sky and anything beyond read 0.
pub const DEPTH_INPUT_FAR: f32 = 100.0;

/// A depth in metres as the network's depth channel reads it, before normalisation.
pub fn depth_input(metres: f32) -> f32 {
    (1.0 - metres.max(1.0).ln() / DEPTH_INPUT_FAR.ln()).clamp(0.0, 1.0)
}
pub const META_FILE: &str = "model.json";
/// 2: the metadata records the weights file's size and CRC-32C. Version 1 models (no checksum)
/// are still read.
const META_VERSION: u32 = 2;
/// The largest frame side a model may declare (a damaged file must not ask for a huge buffer).
const MAX_SIDE: u32 = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Shape(String),
}

/// Everything about a model except its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelMeta {
    pub format_version: u32,
    pub cnn: CnnConfig,
    /// The raw frames the model expects (before preprocessing).
    pub frame: FrameShape,
    pub preprocess: Preprocess,
    /// Network input = (pixel in [0, 1] − input_mean) / input_std.
    pub input_mean: f32,
    pub input_std: f32,
    /// Regression outputs in order, with the normalisation of their targets and their ranges.
    pub regression_names: Vec<String>,
    pub regression_mean: Vec<f32>,
    pub regression_std: Vec<f32>,
    pub regression_range: Vec<[f32; 2]>,
    /// Flag outputs in order (logits; > 0 means true), and the gap that makes a lane free.
    pub flag_names: Vec<String>,
    pub free_gap: f32,
    /// Where the model came from.
    pub scenario: String,
    pub dataset: String,
    pub training_episodes: Vec<u64>,
    pub epochs_trained: usize,
    pub best_epoch: usize,
    pub best_validation_loss: f32,
    /// Size and CRC-32C (Castagnoli) of `model.bpk`, checked before it is loaded.
    #[serde(default)]
    pub weights_bytes: u64,
    #[serde(default)]
    pub weights_crc32c: u32,
    /// Whether the camera's depth is an input channel after the frame's (log-scaled, see
    /// [`depth_input`]): the model then needs the depth camera.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub depth_input: bool,
    /// The segmentation head, when the model has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segmentation: Option<SegmentationMeta>,
}

/// A model's segmentation head: its classes and its weights file's checksum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentationMeta {
    /// Class names, in the order of the head's logits (`lepton_render::batch::Class`).
    pub classes: Vec<String>,
    pub weights_bytes: u64,
    pub weights_crc32c: u32,
}

/// The widest convolution and fully connected layers a model.json may ask for.
pub const MAX_CONV_CHANNELS: usize = 1024;
pub const MAX_HIDDEN: usize = 8192;

impl ModelMeta {
    /// Metadata for a fresh model on frames of `frame` shape; normalisation from `label_stats`.
    pub fn new(
        frame: FrameShape,
        preprocess: Preprocess,
        cnn: CnnConfig,
        mean: Vec<f32>,
        std: Vec<f32>,
    ) -> Self {
        Self {
            format_version: META_VERSION,
            cnn,
            frame,
            preprocess,
            input_mean: 0.5,
            input_std: 0.25,
            regression_names: REGRESSIONS.iter().map(|r| r.name().to_string()).collect(),
            regression_mean: mean,
            regression_std: std,
            regression_range: REGRESSIONS.iter().map(|r| [r.min, r.max]).collect(),
            flag_names: FLAGS.iter().map(|(n, _)| n.to_string()).collect(),
            free_gap: FREE_GAP,
            scenario: String::new(),
            dataset: String::new(),
            training_episodes: Vec::new(),
            epochs_trained: 0,
            best_epoch: 0,
            // Not validated yet: the largest loss JSON can hold (it has no infinity).
            best_validation_loss: f32::MAX,
            weights_bytes: 0,
            weights_crc32c: 0,
            depth_input: false,
            segmentation: None,
        }
    }

    /// Checks every field against what this build's network and labels are: a hand-edited or
    /// damaged model.json is refused here, naming the field, instead of failing later.
    pub fn validate(&self) -> Result<(), InvalidField> {
        let names = |v: &[String]| v.join(", ");
        let regressions: Vec<String> = REGRESSIONS.iter().map(|r| r.name().to_string()).collect();
        if self.regression_names != regressions {
            return Err(InvalidField::new(
                "regression_names",
                format!("[{}], this build predicts [{}]", names(&self.regression_names), names(&regressions)),
            ));
        }
        let n = regressions.len();
        for (field, len) in [
            ("regression_mean", self.regression_mean.len()),
            ("regression_std", self.regression_std.len()),
            ("regression_range", self.regression_range.len()),
        ] {
            if len != n {
                return Err(InvalidField::new(
                    field,
                    format!("{len} values, one per regression output ({n}) expected"),
                ));
            }
        }
        if let Some(k) = self.regression_mean.iter().position(|v| !v.is_finite()) {
            return Err(InvalidField::new(format!("regression_mean[{k}]"), "not a finite number"));
        }
        if let Some(k) = self.regression_std.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(InvalidField::new(format!("regression_std[{k}]"), "must be a positive number"));
        }
        if let Some(k) =
            self.regression_range.iter().position(|[lo, hi]| !(lo.is_finite() && hi.is_finite() && lo <= hi))
        {
            return Err(InvalidField::new(
                format!("regression_range[{k}]"),
                "must be [low, high] with low ≤ high",
            ));
        }
        let flags: Vec<String> = FLAGS.iter().map(|(n, _)| n.to_string()).collect();
        if self.flag_names != flags {
            return Err(InvalidField::new(
                "flag_names",
                format!("[{}], this build predicts [{}]", names(&self.flag_names), names(&flags)),
            ));
        }
        if !self.input_mean.is_finite() {
            return Err(InvalidField::new("input_mean", "not a finite number"));
        }
        if !(self.input_std.is_finite() && self.input_std > 0.0) {
            return Err(InvalidField::new("input_std", "must be a positive number"));
        }
        if !self.free_gap.is_finite() {
            return Err(InvalidField::new("free_gap", "not a finite number"));
        }
        let f = self.frame;
        if !(1..=MAX_SIDE).contains(&f.width)
            || !(1..=MAX_SIDE).contains(&f.height)
            || ![1, 3].contains(&f.channels)
        {
            return Err(InvalidField::new(
                "frame",
                format!(
                    "{}×{}×{}; sides of 1 to {MAX_SIDE} px and 1 or 3 channels expected",
                    f.width, f.height, f.channels
                ),
            ));
        }
        for step in &self.preprocess.steps {
            if let crate::preprocess::Step::Resize { width, height } = *step
                && !((1..=MAX_SIDE).contains(&width) && (1..=MAX_SIDE).contains(&height))
            {
                return Err(InvalidField::new("preprocess", format!("a resize to {width}×{height}")));
            }
        }
        let (channels, height, width) = self.preprocess.output_shape(f.channels, f.height, f.width);
        let input = (channels + self.depth_input as usize, height, width);
        let cnn = (self.cnn.channels, self.cnn.height, self.cnn.width);
        if (self.depth_input || self.segmentation.is_some())
            && (height, width) != (f.height as usize, f.width as usize)
        {
            return Err(InvalidField::new(
                "preprocess",
                "depth input and segmentation read the camera's own pixels: no resize",
            ));
        }
        if let Some(segmentation) = &self.segmentation {
            let known: Vec<&str> = lepton_render::batch::Class::ALL.iter().map(|c| c.name()).collect();
            if segmentation.classes.iter().map(String::as_str).collect::<Vec<_>>() != known {
                return Err(InvalidField::new(
                    "segmentation.classes",
                    format!("[{}], this build draws [{}]", segmentation.classes.join(", "), known.join(", ")),
                ));
            }
        }
        if input != cnn {
            return Err(InvalidField::new(
                "cnn",
                format!(
                    "takes {}×{}×{} inputs, but the preprocessing makes {}×{}×{} of the frames",
                    cnn.0, cnn.1, cnn.2, input.0, input.1, input.2
                ),
            ));
        }
        // Bounded before anything is built from it: a small file must not ask for a huge network.
        if self.cnn.hidden > MAX_HIDDEN || self.cnn.conv_channels.iter().any(|&c| c > MAX_CONV_CHANNELS) {
            return Err(InvalidField::new(
                "cnn",
                format!(
                    "layers of at most {MAX_CONV_CHANNELS} channels and a hidden layer of at most {MAX_HIDDEN} units expected"
                ),
            ));
        }
        if self.cnn.feature_size().is_none() || self.cnn.hidden == 0 || self.cnn.conv_channels.contains(&0) {
            return Err(InvalidField::new(
                "cnn",
                "a network that cannot be built (input too small or a layer of width 0)",
            ));
        }
        Ok(())
    }

    /// Values per network input sample.
    pub fn input_len(&self) -> usize {
        self.cnn.channels * self.cnn.height * self.cnn.width
    }

    /// Preprocesses and normalises one u8 frame and, for a model with depth input, its depth
    /// image (metres, row-major), appending the network input to `out`.
    ///
    /// # Panics
    /// If the model takes depth and `depth` is `None`: callers check [`ModelMeta::depth_input`].
    pub fn input_with_depth_into(&self, frame: &[u8], depth: Option<&[f32]>, out: &mut Vec<f32>) {
        self.input_into(frame, out);
        if self.depth_input {
            let depth = depth.expect("a model with depth input is given the depth image");
            let (mean, inv_std) = (self.input_mean, 1.0 / self.input_std);
            out.extend(depth.iter().map(|&d| (depth_input(d) - mean) * inv_std));
        }
    }

    /// Preprocesses and normalises one u8 frame, appending the network input to `out`.
    pub fn input_into(&self, frame: &[u8], out: &mut Vec<f32>) {
        let image = Image {
            width: self.frame.width,
            height: self.frame.height,
            channels: self.frame.channels,
            data: frame.to_vec(),
        };
        let start = out.len();
        self.preprocess.to_f32_into(&image, out);
        let (mean, inv_std) = (self.input_mean, 1.0 / self.input_std);
        for v in &mut out[start..] {
            *v = (*v - mean) * inv_std;
        }
    }
}

/// What the CNN sees in one frame, in physical units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// In the order of [`REGRESSIONS`], clipped to their ranges.
    pub regression: [f32; REGRESSIONS.len()],
    /// Probability of each flag of [`FLAGS`].
    pub flags: [f32; FLAGS.len()],
}

impl Prediction {
    /// The driving state: CNN outputs plus the ego speed from odometry.
    pub fn to_state(&self, odometry_speed: f32) -> DrivingState {
        let mut state = [0.0; DrivingState::LEN];
        for (head, value) in REGRESSIONS.iter().zip(self.regression) {
            state[head.field] = value;
        }
        state[crate::labels::field::SPEED] = odometry_speed;
        DrivingState::from_vec(state)
    }
}

/// A trained model ready to predict.
#[derive(Debug, Clone)]
pub struct CnnModel {
    pub net: PerceptionCnn,
    /// The segmentation head, when the model has one.
    pub segmentation: Option<burn::nn::conv::Conv2d>,
    pub meta: ModelMeta,
    pub device: Device,
}

impl CnnModel {
    /// A fresh, untrained model of the shipped shape for frames of `frame`, labels unscaled:
    /// for benchmarks, whose speed does not depend on the weights.
    pub fn untrained(frame: FrameShape, device: &Device) -> Self {
        let cnn = CnnConfig::new(frame.channels as usize, frame.height as usize, frame.width as usize);
        let labels = REGRESSIONS.len();
        let meta =
            ModelMeta::new(frame, Preprocess::default(), cnn.clone(), vec![0.0; labels], vec![1.0; labels]);
        Self { net: cnn.init(device), segmentation: None, meta, device: device.clone() }
    }

    pub fn load(dir: &Path, device: &Device) -> Result<Self, ModelError> {
        let meta_path = dir.join(META_FILE);
        let text = std::fs::read_to_string(&meta_path).map_err(|e| ModelError::File {
            path: meta_path.clone(),
            message: format!("cannot read the model's metadata: {e}"),
        })?;
        let meta: ModelMeta = serde_json::from_str(&text).map_err(|e| ModelError::File {
            path: meta_path.clone(),
            message: format!("not a perception model: {e}"),
        })?;
        if !(1..=META_VERSION).contains(&meta.format_version) {
            return Err(ModelError::File {
                path: meta_path,
                message: format!(
                    "model format {} (this build reads 1 to {META_VERSION})",
                    meta.format_version
                ),
            });
        }
        meta.validate().map_err(|e| ModelError::File { path: meta_path.clone(), message: e.to_string() })?;
        let weights = dir.join(WEIGHTS_FILE);
        let bytes = std::fs::read(&weights)
            .map_err(|e| ModelError::File { path: weights.clone(), message: format!("cannot read: {e}") })?;
        if meta.format_version >= 2 {
            let (size, crc) = (bytes.len() as u64, lepton_artifacts::checksum::crc32c(&bytes));
            if (size, crc) != (meta.weights_bytes, meta.weights_crc32c) {
                return Err(ModelError::File {
                    path: weights,
                    message: format!(
                        "damaged: {size} bytes with CRC-32C {crc:08x}; model.json says {} bytes, {:08x}",
                        meta.weights_bytes, meta.weights_crc32c
                    ),
                });
            }
        }
        let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
            .map_err(|e| ModelError::File { path: weights.clone(), message: e.to_string() })?;
        let net = meta
            .cnn
            .init(device)
            .try_load_record(record)
            .map_err(|e| ModelError::File { path: weights, message: e.to_string() })?;
        let segmentation = match &meta.segmentation {
            None => None,
            Some(head) => {
                let path = dir.join(SEGMENTATION_FILE);
                let bytes = std::fs::read(&path).map_err(|e| ModelError::File {
                    path: path.clone(),
                    message: format!("cannot read: {e}"),
                })?;
                let (size, crc) = (bytes.len() as u64, lepton_artifacts::checksum::crc32c(&bytes));
                if (size, crc) != (head.weights_bytes, head.weights_crc32c) {
                    return Err(ModelError::File {
                        path,
                        message: format!(
                            "damaged: {size} bytes with CRC-32C {crc:08x}; model.json says {} bytes, {:08x}",
                            head.weights_bytes, head.weights_crc32c
                        ),
                    });
                }
                let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
                    .map_err(|e| ModelError::File { path: path.clone(), message: e.to_string() })?;
                let conv = meta.cnn.init_segmentation(head.classes.len(), device);
                Some(
                    conv.try_load_record(record)
                        .map_err(|e| ModelError::File { path, message: e.to_string() })?,
                )
            }
        };
        Ok(Self { net, segmentation, meta, device: device.clone() })
    }

    /// Writes weights and metadata, each atomically.
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        save_parts(&self.net, self.segmentation.as_ref(), &self.meta, dir)
    }

    /// Predicts a batch of raw u8 frames and, for a model with depth input, their depth images
    /// (metres; `None` for a model without).
    pub fn predict_with_depth(&self, frames: &[&[u8]], depths: Option<&[&[f32]]>) -> Vec<Prediction> {
        self.predict_inputs(self.inputs(frames, depths), frames.len())
    }

    /// The network's input for a batch of frames and, for a depth model, their depth images.
    fn inputs(&self, frames: &[&[u8]], depths: Option<&[&[f32]]>) -> Vec<f32> {
        let mut input = Vec::with_capacity(frames.len() * self.meta.input_len());
        for (i, frame) in frames.iter().enumerate() {
            self.meta.input_with_depth_into(frame, depths.map(|d| d[i]), &mut input);
        }
        input
    }

    /// Each frame's semantic classes at full resolution (height × width, row-major): the head's
    /// class for the grid cell nearest each pixel. `None` for a model without a head.
    pub fn segment(&self, frames: &[&[u8]], depths: Option<&[&[f32]]>) -> Option<Vec<Vec<u8>>> {
        self.segmentation.as_ref()?;
        self.predict_and_segment(self.inputs(frames, depths), frames.len()).1
    }

    /// [`CnnModel::predict_inputs`] and, for a model with a head, each frame's classes (see
    /// [`CnnModel::segment`]), from one forward pass.
    pub fn predict_and_segment(&self, input: Vec<f32>, n: usize) -> (Vec<Prediction>, Option<Vec<Vec<u8>>>) {
        if n == 0 {
            return (Vec::new(), self.segmentation.as_ref().map(|_| Vec::new()));
        }
        let c = &self.meta.cnn;
        let x =
            Tensor::<4>::from_data(TensorData::new(input, [n, c.channels, c.height, c.width]), &self.device);
        let (out, features) = self.net.forward_with_features(x);
        let values: Vec<f32> = out.into_data().try_to_vec::<f32>().expect("f32 outputs");
        let classes = self
            .segmentation
            .as_ref()
            .map(|head| classes_from_logits(super::model::segment(head, features), &self.meta));
        (decode(&self.meta, &values, n), classes)
    }

    /// Predicts a batch of raw u8 frames (each of `meta.frame` shape).
    ///
    /// # Panics
    /// If the model takes depth ([`ModelMeta::depth_input`]): use [`CnnModel::predict_with_depth`].
    pub fn predict(&self, frames: &[&[u8]]) -> Vec<Prediction> {
        self.predict_with_depth(frames, None)
    }

    /// Predicts from already preprocessed, normalised inputs (`n` samples back to back).
    pub fn predict_inputs(&self, input: Vec<f32>, n: usize) -> Vec<Prediction> {
        if n == 0 {
            return Vec::new();
        }
        let c = &self.meta.cnn;
        let x =
            Tensor::<4>::from_data(TensorData::new(input, [n, c.channels, c.height, c.width]), &self.device);
        let out = self.net.forward(x);
        let values: Vec<f32> = out.into_data().try_to_vec::<f32>().expect("f32 outputs");
        decode(&self.meta, &values, n)
    }
}

/// The most likely class of every pixel from the head's logits ([n, classes, gh, gw]): each
/// pixel takes its nearest grid cell's.
pub fn classes_from_logits(logits: Tensor<4>, meta: &ModelMeta) -> Vec<Vec<u8>> {
    let [n, classes, gh, gw] = logits.dims();
    let values: Vec<f32> = logits.into_data().try_to_vec::<f32>().expect("f32 logits");
    let (h, w) = (meta.cnn.height, meta.cnn.width);
    let nearest = |pixel: usize, cells: usize| {
        ((pixel as f32 - 4.0) / 4.0).round().clamp(0.0, (cells - 1) as f32) as usize
    };
    let rows: Vec<usize> = (0..h).map(|y| nearest(y, gh)).collect();
    let columns: Vec<usize> = (0..w).map(|x| nearest(x, gw)).collect();
    (0..n)
        .map(|b| {
            let cell_class: Vec<u8> = (0..gh * gw)
                .map(|cell| {
                    let logit = |k: usize| values[((b * classes + k) * gh * gw) + cell];
                    (0..classes).fold(0, |best, k| if logit(k) > logit(best) { k } else { best }) as u8
                })
                .collect();
            (0..h * w).map(|p| cell_class[rows[p / w] * gw + columns[p % w]]).collect()
        })
        .collect()
}

/// Turns raw network outputs ([n, outputs]) into predictions in physical units.
pub fn decode(meta: &ModelMeta, values: &[f32], n: usize) -> Vec<Prediction> {
    let width = CnnConfig::outputs();
    (0..n)
        .map(|i| {
            let row = &values[i * width..(i + 1) * width];
            let regression = std::array::from_fn(|k| {
                let [lo, hi] = meta.regression_range[k];
                (row[k] * meta.regression_std[k] + meta.regression_mean[k]).clamp(lo, hi)
            });
            let flags = std::array::from_fn(|k| 1.0 / (1.0 + (-row[REGRESSIONS.len() + k]).exp()));
            Prediction { regression, flags }
        })
        .collect()
}

/// Writes weights, then the metadata that records their checksum (each atomically; a reader
/// checks the one against the other). `perception train` writes into a staging folder and puts
/// it in place in one rename.
pub fn save_parts(
    net: &PerceptionCnn,
    segmentation: Option<&burn::nn::conv::Conv2d>,
    meta: &ModelMeta,
    dir: &Path,
) -> Result<(), ModelError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| ModelError::File { path: dir.to_path_buf(), message: format!("cannot create: {e}") })?;
    let weights = dir.join(WEIGHTS_FILE);
    let bytes = net
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| ModelError::File { path: weights.clone(), message: e.to_string() })?;
    write_atomically(&weights, &bytes)
        .map_err(|e| ModelError::File { path: weights.clone(), message: e.to_string() })?;
    let segmentation = match segmentation {
        None => None,
        Some(head) => {
            let path = dir.join(SEGMENTATION_FILE);
            let bytes = head
                .clone()
                .into_record()
                .into_bytes()
                .map_err(|e| ModelError::File { path: path.clone(), message: e.to_string() })?;
            write_atomically(&path, &bytes).map_err(|e| ModelError::File { path, message: e.to_string() })?;
            Some(SegmentationMeta {
                classes: lepton_render::batch::Class::ALL.iter().map(|c| c.name().to_string()).collect(),
                weights_bytes: bytes.len() as u64,
                weights_crc32c: lepton_artifacts::checksum::crc32c(&bytes),
            })
        }
    };
    let meta = ModelMeta {
        segmentation,
        format_version: META_VERSION,
        weights_bytes: bytes.len() as u64,
        weights_crc32c: lepton_artifacts::checksum::crc32c(&bytes),
        ..meta.clone()
    };
    let json = serde_json::to_string_pretty(&meta).expect("metadata serialises");
    let meta_path = dir.join(META_FILE);
    write_atomically(&meta_path, json.as_bytes())
        .map_err(|e| ModelError::File { path: meta_path, message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_saved_before_any_validation_loads_back() {
        let device = Device::flex();
        let dir = std::env::temp_dir().join(format!("lepton-untrained-{}", std::process::id()));
        let model = CnnModel::untrained(FrameShape { width: 40, height: 32, channels: 3 }, &device);
        std::fs::create_dir_all(&dir).unwrap();
        model.save(&dir).unwrap();
        let loaded = CnnModel::load(&dir, &device).expect("loads back");
        assert_eq!(loaded.meta.frame, model.meta.frame);
        assert_eq!(loaded.meta.best_validation_loss, f32::MAX);
        let frame = vec![128u8; 40 * 32 * 3];
        assert_eq!(loaded.predict(&[&frame]), model.predict(&[&frame]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_model_json_asking_for_a_huge_network_is_refused_before_it_is_built() {
        let model = CnnModel::untrained(FrameShape { width: 40, height: 32, channels: 3 }, &Device::flex());
        assert!(model.meta.validate().is_ok());
        for change in [(|m: &mut ModelMeta| m.cnn.hidden = 1 << 30) as fn(&mut ModelMeta), |m| {
            m.cnn.conv_channels[2] = 1 << 20
        }] {
            let mut meta = model.meta.clone();
            change(&mut meta);
            let error = meta.validate().unwrap_err().to_string();
            assert!(error.starts_with("cnn: layers of at most"), "{error}");
        }
    }
}
