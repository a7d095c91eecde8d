//! The data pipeline behind the CNN: collect → check for anomalies → clean → store.

pub mod anomaly;
pub mod collect;
pub mod drift;
pub mod store;

pub use anomaly::{Anomaly, AnomalyChecker, Candidate};
pub use collect::{CollectConfig, CollectError, CollectReport, collect};
pub use drift::{Drift, FrameFeatures, FrameStats};
pub use store::{
    DEPTH_FAR, Dataset, DatasetError, DatasetWriter, FrameShape, LabelStats, Manifest, Planes, Sample,
    depth_to_plane, is_validation, plane_to_depth, read_chunk, write_atomically,
};
