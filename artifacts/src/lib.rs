//! What Lepton's commands leave behind for later ones, and how it is kept whole: files written
//! atomically under unpredictable temporary names ([`atomic`]), one writer per folder at a time
//! ([`lock`]), the checksums they are checked with when read ([`checksum`]), TensorBoard event
//! files ([`tensorboard`]), and the error of a configuration value out of its range
//! ([`InvalidField`]). Nothing here knows about driving:
//! the simulator, the renderer, perception, agents and the pipeline all stand on it.
//!
//! ```
//! use lepton_artifacts::{atomic, checksum::FileSum};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("state.json");
//! atomic::write(&path, b"{\"step\": 1}")?; // a reader sees the old file or the new, never half
//! let written = std::fs::read(&path)?;
//! assert_eq!(FileSum::of(&written), FileSum::of(b"{\"step\": 1}"));
//! assert_eq!(std::fs::read_dir(dir.path())?.count(), 1, "no temporary left behind");
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod atomic;
pub mod checksum;
mod invalid;
pub mod lock;
pub mod tensorboard;

pub use invalid::InvalidField;
