//! Evaluating a trained model on a dataset: error per output, accuracy per flag, the
//! segmentation head's pixel accuracy and mean IoU, inference speed, and whether it clears the
//! thresholds a script asks for before promoting it.

use super::saved::CnnModel;
use crate::dataset::{Dataset, DatasetError};
use crate::labels::{FLAGS, REGRESSIONS, flag_targets, regression_targets};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// `lepton perception eval --json`, and what the pipeline's perception gate reads back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub samples: u64,
    /// Mean absolute error per regression output (physical units: m, rad, 1/m).
    pub mae: BTreeMap<String, f32>,
    /// The heading error's MAE in degrees, for reading convenience.
    pub heading_mae_degrees: f32,
    /// Accuracy per flag.
    pub accuracy: BTreeMap<String, f32>,
    /// Network forward passes, frames per second, at `batch_size` (preprocessing excluded).
    pub inference_frames_per_second: f64,
    /// Preprocessing (resize, grey, normalise) alone, frames per second.
    pub preprocess_frames_per_second: f64,
    pub batch_size: usize,
    /// Episodes of this dataset that the model trained on (should be 0 for an honest score).
    pub overlapping_episodes: usize,
    /// The segmentation head against the dataset's classes, when the model has a head and the
    /// dataset stores classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segmentation: Option<SegmentationReport>,
}

/// How well the segmentation head's classes match the camera's, pixel by pixel at full size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentationReport {
    /// Pixels whose class is right.
    pub pixel_accuracy: f32,
    /// Intersection over union averaged over the classes present (in the labels or the
    /// predictions).
    pub miou: f32,
    /// Each class's IoU (absent where the class appears nowhere).
    pub iou: BTreeMap<String, f32>,
}

/// A confusion matrix over classes: `counts[truth][predicted]` pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    counts: Vec<Vec<u64>>,
}

impl Confusion {
    pub fn new(classes: usize) -> Self {
        Self { counts: vec![vec![0; classes]; classes] }
    }

    /// Adds one image's pixels: its true classes and the predicted ones.
    pub fn add(&mut self, truth: &[u8], predicted: &[u8]) {
        let last = self.counts.len() - 1;
        for (&t, &p) in truth.iter().zip(predicted) {
            self.counts[(t as usize).min(last)][(p as usize).min(last)] += 1;
        }
    }

    pub fn pixel_accuracy(&self) -> f32 {
        let total: u64 = self.counts.iter().flatten().sum();
        let right: u64 = (0..self.counts.len()).map(|k| self.counts[k][k]).sum();
        right as f32 / total.max(1) as f32
    }

    /// Each class's IoU, `None` where it appears neither in the labels nor the predictions.
    pub fn iou(&self) -> Vec<Option<f32>> {
        (0..self.counts.len())
            .map(|k| {
                let truth: u64 = self.counts[k].iter().sum();
                let predicted: u64 = self.counts.iter().map(|row| row[k]).sum();
                let union = truth + predicted - self.counts[k][k];
                (union > 0).then(|| self.counts[k][k] as f32 / union as f32)
            })
            .collect()
    }

    pub fn miou(&self) -> f32 {
        let present: Vec<f32> = self.iou().into_iter().flatten().collect();
        present.iter().sum::<f32>() / present.len().max(1) as f32
    }

    pub fn report(&self) -> SegmentationReport {
        let names = lepton_render::batch::Class::ALL.iter().map(|c| c.name());
        SegmentationReport {
            pixel_accuracy: self.pixel_accuracy(),
            miou: self.miou(),
            iou: names.zip(self.iou()).filter_map(|(name, iou)| Some((name.to_string(), iou?))).collect(),
        }
    }
}

/// Thresholds a model must meet; `None` means not checked.
#[derive(Debug, Clone, Default)]
pub struct Thresholds {
    pub max_lane_mae: Option<f32>,
    pub max_heading_mae_degrees: Option<f32>,
    pub max_gap_mae: Option<f32>,
    pub min_flag_accuracy: Option<f32>,
}

impl Thresholds {
    /// What falls short, one line per failed threshold (empty: the model passes).
    pub fn failures(&self, report: &EvalReport) -> Vec<String> {
        let mut out = Vec::new();
        // A NaN figure holds no threshold.
        let mut check = |what: &str, value: f32, limit: Option<f32>, at_most: bool| {
            if let Some(limit) = limit
                && !(if at_most { value <= limit } else { value >= limit })
            {
                let relation = if at_most { "above the maximum" } else { "below the minimum" };
                out.push(format!("{what} = {value:.4}, {relation} {limit}"));
            }
        };
        check("lane_offset MAE (m)", report.mae["lane_offset"], self.max_lane_mae, true);
        check("heading MAE (degrees)", report.heading_mae_degrees, self.max_heading_mae_degrees, true);
        check("gap_own MAE (m)", report.mae["gap_own"], self.max_gap_mae, true);
        for (name, &acc) in &report.accuracy {
            check(&format!("{name} accuracy"), acc, self.min_flag_accuracy, false);
        }
        out
    }
}

/// Runs `model` over every sample of `dataset`, chunk by chunk.
pub fn evaluate(
    model: &CnnModel,
    dataset: &Dataset,
    batch_size: usize,
    mut progress: impl FnMut(u64),
) -> Result<EvalReport, EvalError> {
    let m = &dataset.manifest;
    if m.frame != model.meta.frame {
        return Err(EvalError::Shape(format!(
            "{}: frames are {}x{}x{}, the model takes {}x{}x{}",
            dataset.dir.display(),
            m.frame.width,
            m.frame.height,
            m.frame.channels,
            model.meta.frame.width,
            model.meta.frame.height,
            model.meta.frame.channels
        )));
    }
    if dataset.is_empty() {
        return Err(EvalError::Empty(dataset.dir.display().to_string()));
    }
    if model.meta.depth_input && !m.planes.depth {
        return Err(EvalError::Shape(format!(
            "{}: the model takes the depth camera's images and the dataset stores none (collect with --sensors depth)",
            dataset.dir.display()
        )));
    }
    let mut confusion = (model.segmentation.is_some() && m.planes.semantic)
        .then(|| Confusion::new(lepton_render::batch::Class::ALL.len()));
    let batch_size = batch_size.max(1);
    let mut abs_err = [0.0f64; REGRESSIONS.len()];
    let mut correct = [0u64; FLAGS.len()];
    let (mut n, mut forward_seconds, mut preprocess_seconds) = (0u64, 0.0f64, 0.0f64);
    for c in 0..dataset.num_chunks() {
        let samples = dataset.chunk(c)?;
        for batch in samples.chunks(batch_size) {
            let t = Instant::now();
            let mut input = Vec::with_capacity(batch.len() * model.meta.input_len());
            // Metres only where the model reads them.
            let depths: Vec<Vec<f32>> = match model.meta.depth_input {
                true => batch
                    .iter()
                    .map(|s| s.depth.iter().map(|&d| crate::dataset::plane_to_depth(d)).collect())
                    .collect(),
                false => vec![Vec::new(); batch.len()],
            };
            for (s, depth) in batch.iter().zip(&depths) {
                model.meta.input_with_depth_into(&s.frame, Some(depth), &mut input);
            }
            preprocess_seconds += t.elapsed().as_secs_f64();
            // One forward pass; with the segmentation scored, the head's too (in the timing).
            let t = Instant::now();
            let (predictions, classes) = match confusion {
                Some(_) => model.predict_and_segment(input, batch.len()),
                None => (model.predict_inputs(input, batch.len()), None),
            };
            forward_seconds += t.elapsed().as_secs_f64();
            if let (Some(confusion), Some(classes)) = (confusion.as_mut(), classes) {
                for (s, predicted) in batch.iter().zip(&classes) {
                    confusion.add(&s.semantic, predicted);
                }
            }
            for (p, s) in predictions.iter().zip(batch) {
                for (k, target) in regression_targets(&s.labels).into_iter().enumerate() {
                    abs_err[k] += (p.regression[k] - target).abs() as f64;
                }
                for (k, target) in flag_targets(&s.labels).into_iter().enumerate() {
                    correct[k] += ((p.flags[k] > 0.5) == (target > 0.5)) as u64;
                }
            }
            n += batch.len() as u64;
            progress(n);
        }
    }
    let denom = n.max(1) as f64;
    let mae: BTreeMap<String, f32> =
        REGRESSIONS.iter().zip(abs_err).map(|(r, e)| (r.name().to_string(), (e / denom) as f32)).collect();
    let trained: std::collections::HashSet<u64> = model.meta.training_episodes.iter().copied().collect();
    Ok(EvalReport {
        samples: n,
        heading_mae_degrees: mae["heading_error"].to_degrees(),
        mae,
        accuracy: FLAGS
            .iter()
            .zip(correct)
            .map(|((name, _), c)| (name.to_string(), (c as f64 / denom) as f32))
            .collect(),
        inference_frames_per_second: n as f64 / forward_seconds.max(1e-9),
        preprocess_frames_per_second: n as f64 / preprocess_seconds.max(1e-9),
        batch_size,
        overlapping_episodes: m.episode_seeds.iter().filter(|e| trained.contains(e)).count(),
        segmentation: confusion.map(|c| c.report()),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("{0}")]
    Shape(String),
    /// Nothing to measure: an empty dataset would pass every gate with an error of 0.
    #[error("{0}: the dataset holds no frames, so there is nothing to evaluate")]
    Empty(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_accuracy_and_miou_count_pixels_per_class() {
        let mut c = Confusion::new(3);
        // Truth 0 0 1 1; predicted 0 1 1 1: class 0 IoU 1/2, class 1 IoU 2/3, class 2 absent.
        c.add(&[0, 0, 1, 1], &[0, 1, 1, 1]);
        assert_eq!(c.pixel_accuracy(), 0.75);
        assert_eq!(c.iou(), vec![Some(0.5), Some(2.0 / 3.0), None]);
        assert!((c.miou() - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn a_nan_figure_holds_no_threshold() {
        let report = |lane: f32, flag: f32| EvalReport {
            samples: 10,
            mae: BTreeMap::from([("lane_offset".into(), lane), ("gap_own".into(), 1.0)]),
            heading_mae_degrees: 1.0,
            accuracy: BTreeMap::from([("left_free".into(), flag)]),
            inference_frames_per_second: 1.0,
            preprocess_frames_per_second: 1.0,
            batch_size: 1,
            overlapping_episodes: 0,
            segmentation: None,
        };
        let limits =
            Thresholds { max_lane_mae: Some(0.3), min_flag_accuracy: Some(0.5), ..Default::default() };
        assert!(limits.failures(&report(0.3, 0.5)).is_empty(), "equal to the limits passes");
        assert_eq!(limits.failures(&report(0.4, 0.9)).len(), 1);
        let nan = limits.failures(&report(f32::NAN, f32::NAN));
        assert_eq!(nan.len(), 2, "{nan:?}");
        assert!(nan[0].contains("lane_offset") && nan[0].contains("NaN"), "{nan:?}");
    }
}
