//! Input drift: how far the frames a model sees in the field are from the frames it was trained
//! on, without labels. Each frame is summed up by a few features — per colour channel, the mean
//! of its upper half (sky, horizon), the mean of its lower half (road, ground) and its spread —
//! and each feature's distribution in the field is compared with training's by the Wasserstein-1
//! (earth mover's) distance divided by training's standard deviation: how far, in training's own
//! spread, the field's values had to move. The drift of a dataset is its largest feature
//! distance, named. This "normed Wasserstein" is the default drift test of monitoring tools such
//! as Evidently for numeric features. It is chosen over PSI because the frames of one episode
//! share one randomised look: a sample's effective size is its number of episodes, and PSI over
//! deciles of a few dozen looks reads sampling noise as drift (1.1–1.6 between two samples of
//! lane_keep itself), where the normed distance stays small and grows with the shift.

use super::store::{Dataset, DatasetError, FrameShape};
use serde::{Deserialize, Serialize};

/// Quantiles kept of each feature (every 1%): the Wasserstein-1 distance between two
/// distributions is the mean distance between their quantile functions.
const QUANTILES: usize = 101;

/// Every frame's features, feature by feature.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameFeatures {
    pub names: Vec<String>,
    /// `values[f][i]`: feature `f` of frame `i`.
    pub values: Vec<Vec<f64>>,
}

impl FrameFeatures {
    /// The features of every frame of `dataset`, read chunk by chunk.
    pub fn of(dataset: &Dataset) -> Result<Self, DatasetError> {
        let shape = dataset.manifest.frame;
        let names = feature_names(shape.channels as usize);
        let mut values = vec![Vec::with_capacity(dataset.len() as usize); names.len()];
        for chunk in 0..dataset.num_chunks() {
            for sample in dataset.chunk(chunk)? {
                for (f, v) in features(&sample.frame, shape).into_iter().enumerate() {
                    values[f].push(v);
                }
            }
        }
        Ok(Self { names, values })
    }

    pub fn frames(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }
}

fn feature_names(channels: usize) -> Vec<String> {
    let channel = |c: usize| match (channels, c) {
        (1, _) => "grey",
        (_, 0) => "red",
        (_, 1) => "green",
        (_, 2) => "blue",
        _ => "alpha",
    };
    (0..channels)
        .flat_map(|c| {
            let name = channel(c);
            [format!("{name} upper mean"), format!("{name} lower mean"), format!("{name} spread")]
        })
        .collect()
}

/// Per channel: the upper half's mean, the lower half's mean, the whole frame's standard
/// deviation (all in [0, 255]).
fn features(frame: &[u8], shape: FrameShape) -> Vec<f64> {
    let (w, h, c) = (shape.width as usize, shape.height as usize, shape.channels as usize);
    let half = h / 2 * w * c;
    let mut out = Vec::with_capacity(3 * c);
    for ch in 0..c {
        let (mut upper, mut lower, mut squares) = (0u64, 0u64, 0u64);
        for (i, &v) in frame.iter().enumerate().skip(ch).step_by(c) {
            if i < half {
                upper += v as u64;
            } else {
                lower += v as u64;
            }
            squares += v as u64 * v as u64;
        }
        let n_upper = (h / 2 * w).max(1) as f64;
        let n_lower = ((h - h / 2) * w).max(1) as f64;
        let n = (w * h).max(1) as f64;
        let mean = (upper + lower) as f64 / n;
        out.push(upper as f64 / n_upper);
        out.push(lower as f64 / n_lower);
        out.push((squares as f64 / n - mean * mean).max(0.0).sqrt());
    }
    out
}

/// Training's summary: each feature's quantiles, mean and standard deviation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameStats {
    pub frames: u64,
    pub features: Vec<FeatureStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStats {
    pub name: String,
    pub mean: f64,
    pub std: f64,
    /// The 0%, 1%, …, 100% quantiles.
    pub quantiles: Vec<f64>,
}

/// A dataset's drift against training: the largest feature distance (in training standard
/// deviations) and which feature it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub distance: f64,
    pub feature: String,
    /// Every feature's distance, in the features' order.
    pub per_feature: Vec<f64>,
}

impl FrameStats {
    /// The summary of `features` (training's).
    pub fn from_features(features: &FrameFeatures) -> Self {
        let stats = features
            .names
            .iter()
            .zip(&features.values)
            .map(|(name, values)| {
                let n = values.len().max(1) as f64;
                let mean = values.iter().sum::<f64>() / n;
                let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                FeatureStats { name: name.clone(), mean, std: var.sqrt(), quantiles: quantiles(values) }
            })
            .collect();
        Self { frames: features.frames() as u64, features: stats }
    }

    /// The summary of every frame of `dataset`.
    pub fn of(dataset: &Dataset) -> Result<Self, DatasetError> {
        Ok(Self::from_features(&FrameFeatures::of(dataset)?))
    }

    /// The drift of `field` against this training summary; `None` when the features differ (a
    /// camera with other channels).
    pub fn drift(&self, field: &FrameFeatures) -> Option<Drift> {
        let same = self.features.len() == field.names.len()
            && self.features.iter().zip(&field.names).all(|(f, n)| &f.name == n);
        if !same || self.features.is_empty() {
            return None;
        }
        let per_feature: Vec<f64> = self
            .features
            .iter()
            .zip(&field.values)
            .map(|(reference, values)| {
                let theirs = quantiles(values);
                let w1 = theirs.iter().zip(&reference.quantiles).map(|(a, b)| (a - b).abs()).sum::<f64>()
                    / QUANTILES as f64;
                // A feature training never varied (one look) moves by its scale: 1 grey level.
                w1 / reference.std.max(1.0)
            })
            .collect();
        let (worst, distance) =
            per_feature.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).expect("features");
        Some(Drift { distance, feature: self.features[worst].name.clone(), per_feature })
    }
}

/// The 0%, 1%, …, 100% quantiles of `values` (nearest rank; all zero when empty).
fn quantiles(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    (0..QUANTILES)
        .map(|k| if n == 0 { 0.0 } else { sorted[(k * (n - 1) + (QUANTILES - 1) / 2) / (QUANTILES - 1)] })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features_of(values: Vec<f64>) -> FrameFeatures {
        FrameFeatures { names: vec!["x".into()], values: vec![values] }
    }

    #[test]
    fn a_sample_of_training_does_not_drift_and_a_shift_drifts_by_its_size_in_training_spread() {
        // Uniform values on [0, 100) (std 28.9), and other samples of them, shifted.
        let value = |i: usize| ((i * 7919) % 1000) as f64 / 10.0;
        let training = FrameStats::from_features(&features_of((0..5000).map(value).collect()));
        let std = training.features[0].std;
        assert!((std - 100.0 / 12f64.sqrt()).abs() < 0.1, "{std}");
        let field = |shift: f64| features_of((0..1000).map(|i| value(i * 3 + 1) + shift).collect());
        let none = training.drift(&field(0.0)).unwrap();
        assert!(none.distance < 0.02, "{none:?}");
        // Moving every value by s moves the distribution by exactly s: s / std.
        let moved = training.drift(&field(2.0 * std)).unwrap();
        assert!((moved.distance - 2.0).abs() < 0.02, "{moved:?}");
        assert_eq!(moved.feature, "x");
    }

    #[test]
    fn features_of_a_frame() {
        // A 2×2 RGB frame: red 10 above and 30 below; green and blue 0.
        let frame = [10, 0, 0, 10, 0, 0, 30, 0, 0, 30, 0, 0];
        let f = features(&frame, FrameShape { width: 2, height: 2, channels: 3 });
        assert_eq!(&f[..3], &[10.0, 30.0, 10.0]);
        assert_eq!(feature_names(3)[1], "red lower mean");
        let other_camera = FrameFeatures { names: feature_names(1), values: vec![vec![0.0]; 3] };
        assert!(FrameStats::from_features(&features_of(vec![1.0])).drift(&other_camera).is_none());
        assert_eq!(
            quantiles(&[3.0, 1.0, 2.0])[..],
            [[1.0; 25].as_slice(), &[2.0; 50], &[3.0; 26]].concat()[..]
        );
    }
}
