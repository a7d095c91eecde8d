//! TensorBoard event files: scalars that `tensorboard --logdir RUN_DIR` plots, written beside
//! the CSV metrics.
//!
//! The format is TensorFlow's: a file named `events.out.tfevents.*` holding TFRecords — a u64
//! length, the masked CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data (all
//! little-endian) — whose data are `Event` protocol buffers (tensorflow/core/util/event.proto):
//! the first says the file version, the rest carry a `Summary` of tagged scalars. A resumed run
//! writes a new file that opens with `SessionLog(START)` just after the resumed step, which tells
//! TensorBoard to drop the events a killed run logged after that step.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, prost::Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "What", tags = "3, 5, 7")]
    what: Option<What>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum What {
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
    #[prost(message, tag = "7")]
    SessionLog(SessionLog),
}

#[derive(Clone, PartialEq, prost::Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<Value>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Value {
    #[prost(string, tag = "1")]
    tag: String,
    /// In event.proto `simple_value` sits in a oneof, so it is written even when it is 0.
    #[prost(oneof = "Kind", tags = "2")]
    kind: Option<Kind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Kind {
    #[prost(float, tag = "2")]
    SimpleValue(f32),
}

#[derive(Clone, PartialEq, prost::Message)]
struct SessionLog {
    /// 1: START.
    #[prost(int32, tag = "1")]
    status: i32,
}

/// TFRecord's checksum: CRC-32C, rotated right by 15 bits, plus a constant.
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crate::checksum::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends scalars to one event file.
pub struct EventWriter {
    file: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
}

impl EventWriter {
    /// A new event file in `dir` (created if needed); `resumed_at` marks a restart at that step.
    pub fn create(dir: &Path, resumed_at: Option<u64>) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        // TensorBoard reads a folder's files in name order: the time (to the microsecond) first.
        let name = format!(
            "events.out.tfevents.{}.{:06}-lepton-{}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id()
        );
        let path = dir.join(name);
        let file = std::fs::OpenOptions::new().create_new(true).write(true).open(&path)?;
        let mut writer = Self { file: std::io::BufWriter::new(file), path };
        writer.event(0, What::FileVersion("brain.Event:2".into()))?;
        if let Some(step) = resumed_at {
            // TensorBoard drops the events at and after a START's step: the rows a killed run
            // logged after its checkpoint (rows at the checkpoint's own step are kept).
            writer.event(step + 1, What::SessionLog(SessionLog { status: 1 }))?;
        }
        writer.flush()?;
        Ok(writer)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn event(&mut self, step: u64, what: What) -> std::io::Result<()> {
        let wall_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let data = prost::Message::encode_to_vec(&Event { wall_time, step: step as i64, what: Some(what) });
        let length = (data.len() as u64).to_le_bytes();
        self.file.write_all(&length)?;
        self.file.write_all(&masked_crc(&length).to_le_bytes())?;
        self.file.write_all(&data)?;
        self.file.write_all(&masked_crc(&data).to_le_bytes())
    }

    /// Logs `values` (tag, value) at `step`, as one event.
    pub fn scalars(&mut self, step: u64, values: &[(&str, f64)]) -> std::io::Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        let value = values
            .iter()
            .map(|(tag, v)| Value { tag: tag.to_string(), kind: Some(Kind::SimpleValue(*v as f32)) })
            .collect();
        self.event(step, What::Summary(Summary { value }))
    }

    /// Everything so far on disk.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_data()
    }
}

/// A scalar read back: tag, step, value.
pub type Scalar = (String, i64, f32);

/// An event file that cannot be read back: where, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct EventFileError {
    pub path: PathBuf,
    /// `cannot read: ...`, `truncated record`, `record at byte N: data checksum`, ...
    pub problem: String,
}

/// Reads an event file's scalars, checking every record's checksums (for tests and tools).
pub fn read_scalars(path: &Path) -> Result<Vec<Scalar>, EventFileError> {
    let fail = |problem: String| EventFileError { path: path.to_path_buf(), problem };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    scalars_in(&bytes).map_err(fail)
}

fn scalars_in(bytes: &[u8]) -> Result<Vec<Scalar>, String> {
    let mut at = 0;
    let mut out = Vec::new();
    let take = |at: &mut usize, n: usize| -> Result<&[u8], String> {
        let end = at.checked_add(n).filter(|&e| e <= bytes.len()).ok_or("truncated record")?;
        let slice = &bytes[*at..end];
        *at = end;
        Ok(slice)
    };
    let word = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes"));
    while at < bytes.len() {
        let length = take(&mut at, 8)?;
        if word(take(&mut at, 4)?) != masked_crc(length) {
            return Err(format!("record at byte {at}: length checksum"));
        }
        let n = u64::from_le_bytes(length.try_into().expect("8 bytes")) as usize;
        let data = take(&mut at, n)?;
        if word(take(&mut at, 4)?) != masked_crc(data) {
            return Err(format!("record at byte {at}: data checksum"));
        }
        let event: Event = prost::Message::decode(data).map_err(|e| e.to_string())?;
        if let Some(What::Summary(summary)) = event.what {
            out.extend(summary.value.into_iter().filter_map(|v| match v.kind {
                Some(Kind::SimpleValue(x)) => Some((v.tag, event.step, x)),
                None => None,
            }));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_round_trip_through_checksummed_records() {
        let dir = std::env::temp_dir().join(format!("lepton-tb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut writer = EventWriter::create(&dir, None).unwrap();
        writer.scalars(10, &[("charts/episodic_return", 1.5), ("charts/episodic_length", 7.0)]).unwrap();
        writer.scalars(20, &[("losses/td_loss", 0.25), ("eval/success_rate", 0.0)]).unwrap();
        writer.flush().unwrap();
        let path = writer.path().to_path_buf();
        assert!(path.file_name().unwrap().to_str().unwrap().starts_with("events.out.tfevents."));
        let scalars = read_scalars(&path).unwrap();
        assert_eq!(
            scalars,
            vec![
                ("charts/episodic_return".to_string(), 10, 1.5),
                ("charts/episodic_length".to_string(), 10, 7.0),
                ("losses/td_loss".to_string(), 20, 0.25),
                ("eval/success_rate".to_string(), 20, 0.0)
            ]
        );
        // TFRecord's masked CRC of the empty string, as TensorFlow computes it.
        assert_eq!(masked_crc(b""), 0xa282_ead8);
        // A flipped bit is caught.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 6;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let error = read_scalars(&path).unwrap_err();
        assert!(error.problem.contains("checksum") && error.path == path, "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
