//! The data pipeline behind the CNN: collect → check for anomalies → clean → store.

pub mod anomaly;
pub mod collect;
pub mod drift;
pub mod store;

pub use anomaly::{Anomaly, AnomalyChecker, Candidate};
pub use collect::{CollectConfig, CollectError, CollectReport, collect};
pub use drift::{Drift, FrameFeatures, FrameStats};
pub use store::{
    Dataset, DatasetError, DatasetWriter, FrameShape, LabelStats, Manifest, Sample, is_validation,
    read_chunk, write_atomically,
};
