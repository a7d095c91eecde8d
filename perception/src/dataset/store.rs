//! The on-disk dataset: a folder of fixed-size binary chunks plus `manifest.json`.
//!
//! A chunk holds `count` samples: a header, then per sample its episode seed, step and labels,
//! then the u8 frames back to back, then the XXH3-64 checksum (seed 0, little-endian) of
//! everything before it. The manifest lists each chunk's size, sample count and checksum, and
//! opening a dataset checks them against the files. Readers load one chunk at a time, so datasets
//! larger than memory stream. A chunk that is missing, truncated, has the wrong magic or fails
//! its checksum is reported by file name.
//!
//! Format 3 (magic `LPDCHNK3`, written when the dataset holds the camera's depth or classes:
//! `manifest.planes`) adds a planes field to the header and, after the frames, each sample's
//! depth (H × W u16 centimetres, [`DEPTH_FAR`] for sky and beyond) and then each sample's classes
//! (H × W u8, `lepton_render::batch::Class`). Datasets without planes are written as format 2.
//!
//! Format 1 (magic `LPDCHNK1`) checksummed with std's `DefaultHasher` (SipHash-1-3, zero keys),
//! whose algorithm Rust does not promise to keep; it is still read, with that hasher.

use crate::labels::LABEL_LEN;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"LPDCHNK2";
const MAGIC_V3: &[u8; 8] = b"LPDCHNK3";
const MAGIC_V1: &[u8; 8] = b"LPDCHNK1";
const HEADER_LEN: usize = 8 + 4 * 5;
const RECORD_LEN: usize = 8 + 4 + 4 * LABEL_LEN;
/// Version of the chunk and manifest layout of a dataset without planes.
pub const FORMAT_VERSION: u32 = 2;
/// Version of a dataset with planes (depth, classes).
pub const FORMAT_VERSION_PLANES: u32 = 3;
/// The depth a plane stores for sky and anything beyond 655.34 m (centimetres).
pub const DEPTH_FAR: u16 = u16::MAX;

/// The camera images a dataset stores beside each frame, from the same render pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Planes {
    /// Depth along the camera's axis, u16 centimetres.
    pub depth: bool,
    /// Semantic classes, one byte a pixel.
    pub semantic: bool,
}

impl Planes {
    pub fn none(&self) -> bool {
        !self.depth && !self.semantic
    }

    /// Bytes of one sample's planes for frames of `shape`.
    pub fn len(&self, shape: FrameShape) -> usize {
        let pixels = (shape.width * shape.height) as usize;
        (if self.depth { 2 * pixels } else { 0 }) + (if self.semantic { pixels } else { 0 })
    }

    fn bits(&self) -> u32 {
        self.depth as u32 | (self.semantic as u32) << 1
    }

    fn from_bits(bits: u32) -> Self {
        Self { depth: bits & 1 != 0, semantic: bits & 2 != 0 }
    }

    /// The header's length for a chunk of this dataset (format 3 adds the planes field).
    fn header_len(&self) -> usize {
        if self.none() { HEADER_LEN } else { HEADER_LEN + 4 }
    }
}

/// Depth in metres as a plane stores it: centimetres, [`DEPTH_FAR`] for sky and far away.
pub fn depth_to_plane(metres: f32) -> u16 {
    if metres.is_finite() && metres >= 0.0 {
        (metres * 100.0).round().min(DEPTH_FAR as f32) as u16
    } else {
        DEPTH_FAR
    }
}

/// A plane's depth back in metres (`f32::INFINITY` for [`DEPTH_FAR`]).
pub fn plane_to_depth(centimetres: u16) -> f32 {
    if centimetres == DEPTH_FAR { f32::INFINITY } else { centimetres as f32 / 100.0 }
}
/// The largest frame side a dataset may declare (a damaged manifest must not ask for a huge buffer).
const MAX_SIDE: u32 = 4096;
pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a Lepton dataset manifest: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("{path}: corrupt chunk: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("{path}: truncated chunk: expected {expected} bytes, found {found}")]
    Truncated { path: PathBuf, expected: usize, found: usize },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError + '_ {
    move |source| DatasetError::Io { path: path.to_path_buf(), source }
}

/// Shape of every frame in a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameShape {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
}

impl FrameShape {
    pub fn len(&self) -> usize {
        self.width as usize * self.height as usize * self.channels as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One labelled frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub episode_seed: u64,
    pub step: u32,
    /// Ground truth in `GroundTruth::to_array` order.
    pub labels: [f32; LABEL_LEN],
    /// u8 H × W × C.
    pub frame: Vec<u8>,
    /// H × W centimetres (see [`depth_to_plane`]); empty unless the dataset stores depth.
    pub depth: Vec<u16>,
    /// H × W classes; empty unless the dataset stores them.
    pub semantic: Vec<u8>,
}

/// Summary statistics of one label over the accepted samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelStats {
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

impl LabelStats {
    /// The statistics of two samples together (`n` and `m` values): pooled mean and variance.
    pub fn merged(&self, n: u64, other: &LabelStats, m: u64) -> LabelStats {
        let (n, m) = (n as f64, m as f64);
        if n + m < 2.0 {
            return if m > n { *other } else { *self };
        }
        let mean = (n * self.mean + m * other.mean) / (n + m);
        // Sums of squared deviations about the pooled mean (std is the n − 1 estimate).
        let squares =
            |s: &LabelStats, k: f64| (k - 1.0).max(0.0) * s.std * s.std + k * (s.mean - mean).powi(2);
        let std = ((squares(self, n) + squares(other, m)) / (n + m - 1.0)).sqrt();
        LabelStats { mean, std, min: self.min.min(other.min), max: self.max.max(other.max) }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkInfo {
    pub file: String,
    pub samples: u32,
    pub bytes: u64,
    pub checksum: String,
}

/// `manifest.json`: what the dataset is, where it came from and what was thrown away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub scenario: String,
    /// The resolved scenario the frames were rendered from (RON), so a model knows its world.
    pub scenario_ron: String,
    pub base_seed: u64,
    pub envs: usize,
    pub frame: FrameShape,
    /// The depth and class images stored beside each frame (format 3).
    #[serde(default, skip_serializing_if = "Planes::none")]
    pub planes: Planes,
    pub label_names: Vec<String>,
    pub samples: u64,
    pub episodes: u64,
    /// Every episode seed that contributed a sample (for checking that datasets are disjoint).
    pub episode_seeds: Vec<u64>,
    /// Rejected samples by reason (every reason listed).
    pub rejected: BTreeMap<String, u64>,
    pub label_stats: BTreeMap<String, LabelStats>,
    pub chunks: Vec<ChunkInfo>,
}

impl Manifest {
    pub fn load(dir: &Path) -> Result<Self, DatasetError> {
        let path = dir.join(MANIFEST);
        let text = fs::read_to_string(&path).map_err(io(&path))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| DatasetError::Manifest { path: path.clone(), message: e.to_string() })?;
        if !(1..=FORMAT_VERSION_PLANES).contains(&manifest.format_version) {
            return Err(DatasetError::Manifest {
                path,
                message: format!(
                    "format version {} (this build reads 1 to {FORMAT_VERSION_PLANES})",
                    manifest.format_version
                ),
            });
        }
        manifest.check(dir).map_err(|message| DatasetError::Manifest { path, message })?;
        Ok(manifest)
    }

    /// The manifest against itself and the chunk files beside it: shapes a reader can handle,
    /// the labels this build knows, counts that add up, every chunk there with its size.
    fn check(&self, dir: &Path) -> Result<(), String> {
        let f = self.frame;
        if !(1..=MAX_SIDE).contains(&f.width)
            || !(1..=MAX_SIDE).contains(&f.height)
            || ![1, 3].contains(&f.channels)
        {
            return Err(format!("frame: {}×{}×{} is not a camera frame", f.width, f.height, f.channels));
        }
        let names: Vec<&str> = self.label_names.iter().map(String::as_str).collect();
        if names != crate::state::DrivingState::NAMES {
            return Err(format!("label_names: [{}] are not this build's labels", names.join(", ")));
        }
        let listed: u64 = self.chunks.iter().map(|c| c.samples as u64).sum();
        if listed != self.samples {
            return Err(format!("samples: {} but the chunks list {listed}", self.samples));
        }
        if !self.planes.none() && self.format_version < FORMAT_VERSION_PLANES {
            return Err(format!("planes: format {} has no planes", self.format_version));
        }
        let per_sample = RECORD_LEN + f.len() + self.planes.len(f);
        for chunk in &self.chunks {
            let expected = (self.planes.header_len() + chunk.samples as usize * per_sample + 8) as u64;
            if chunk.file.contains(['/', '\\']) || chunk.file.starts_with('.') {
                return Err(format!("chunks: {:?} is not a file name in the dataset folder", chunk.file));
            }
            if chunk.bytes != expected {
                return Err(format!(
                    "chunks: {} is listed with {} bytes; {} samples of this frame size take {expected}",
                    chunk.file, chunk.bytes, chunk.samples
                ));
            }
            let path = dir.join(&chunk.file);
            match std::fs::metadata(&path) {
                Ok(m) if m.len() == chunk.bytes => {}
                Ok(m) => {
                    return Err(format!(
                        "{}: {} bytes on disk, {} listed (truncated or replaced)",
                        chunk.file,
                        m.len(),
                        chunk.bytes
                    ));
                }
                Err(e) => return Err(format!("{}: {e} (a chunk the manifest lists)", chunk.file)),
            }
        }
        Ok(())
    }
}

/// Writes samples into chunks of `chunk_size` and, on [`DatasetWriter::finish`], the manifest.
pub struct DatasetWriter {
    dir: PathBuf,
    shape: FrameShape,
    planes: Planes,
    chunk_size: usize,
    pending: Vec<Sample>,
    chunks: Vec<ChunkInfo>,
    stats: [Welford; LABEL_LEN],
    episodes: std::collections::BTreeSet<u64>,
    samples: u64,
}

impl DatasetWriter {
    /// Creates `dir` (which must not hold a dataset already).
    pub fn create(dir: &Path, shape: FrameShape, chunk_size: usize) -> Result<Self, DatasetError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let manifest = dir.join(MANIFEST);
        if manifest.exists() {
            return Err(DatasetError::Io {
                path: manifest,
                source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a dataset is already here"),
            });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            shape,
            planes: Planes::default(),
            chunk_size: chunk_size.max(1),
            pending: Vec::new(),
            chunks: Vec::new(),
            stats: Default::default(),
            episodes: Default::default(),
            samples: 0,
        })
    }

    /// Stores `planes` beside every frame (format 3): each sample pushed must carry them.
    pub fn with_planes(mut self, planes: Planes) -> Self {
        self.planes = planes;
        self
    }

    pub fn push(&mut self, sample: Sample) -> Result<(), DatasetError> {
        assert_eq!(sample.frame.len(), self.shape.len(), "frame size differs from the dataset's");
        let pixels = (self.shape.width * self.shape.height) as usize;
        assert_eq!(sample.depth.len(), if self.planes.depth { pixels } else { 0 }, "a depth plane per frame");
        assert_eq!(
            sample.semantic.len(),
            if self.planes.semantic { pixels } else { 0 },
            "a class plane per frame"
        );
        for (stat, &v) in self.stats.iter_mut().zip(&sample.labels) {
            stat.add(v as f64);
        }
        self.episodes.insert(sample.episode_seed);
        self.samples += 1;
        self.pending.push(sample);
        if self.pending.len() >= self.chunk_size {
            self.flush()?;
        }
        Ok(())
    }

    pub fn samples(&self) -> u64 {
        self.samples
    }

    fn flush(&mut self) -> Result<(), DatasetError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let file = format!("chunk-{:05}.lpd", self.chunks.len());
        let bytes = encode_chunk(self.shape, self.planes, &self.pending);
        let checksum =
            format!("{:016x}", u64::from_le_bytes(bytes[bytes.len() - 8..].try_into().expect("8 bytes")));
        write_atomically(&self.dir.join(&file), &bytes)?;
        self.chunks.push(ChunkInfo {
            file,
            samples: self.pending.len() as u32,
            bytes: bytes.len() as u64,
            checksum,
        });
        self.pending.clear();
        Ok(())
    }

    /// Writes the last chunk and the manifest; the fields the writer does not know come from
    /// `template` (scenario, seeds, rejections).
    pub fn finish(mut self, mut template: Manifest) -> Result<Manifest, DatasetError> {
        self.flush()?;
        template.format_version = if self.planes.none() { FORMAT_VERSION } else { FORMAT_VERSION_PLANES };
        template.frame = self.shape;
        template.planes = self.planes;
        template.samples = self.samples;
        template.episodes = self.episodes.len() as u64;
        template.episode_seeds = self.episodes.iter().copied().collect();
        template.label_names = crate::state::DrivingState::NAMES.iter().map(|s| s.to_string()).collect();
        template.label_stats = crate::state::DrivingState::NAMES
            .iter()
            .zip(&self.stats)
            .map(|(name, w)| (name.to_string(), w.stats()))
            .collect();
        template.chunks = std::mem::take(&mut self.chunks);
        let json = serde_json::to_string_pretty(&template).expect("manifest serialises");
        write_atomically(&self.dir.join(MANIFEST), json.as_bytes())?;
        Ok(template)
    }
}

/// Writes `bytes` to `path` whole or not at all.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), DatasetError> {
    lepton_artifacts::atomic::write(path, bytes).map_err(io(path))
}

fn encode_chunk(shape: FrameShape, planes: Planes, samples: &[Sample]) -> Vec<u8> {
    let per_sample = RECORD_LEN + shape.len() + planes.len(shape);
    let mut out = Vec::with_capacity(planes.header_len() + samples.len() * per_sample + 8);
    out.extend_from_slice(if planes.none() { MAGIC } else { MAGIC_V3 });
    for v in [samples.len() as u32, shape.width, shape.height, shape.channels as u32, LABEL_LEN as u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    if !planes.none() {
        out.extend_from_slice(&planes.bits().to_le_bytes());
    }
    for s in samples {
        out.extend_from_slice(&s.episode_seed.to_le_bytes());
        out.extend_from_slice(&s.step.to_le_bytes());
        for v in s.labels {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    for s in samples {
        out.extend_from_slice(&s.frame);
    }
    for s in samples {
        s.depth.iter().for_each(|d| out.extend_from_slice(&d.to_le_bytes()));
    }
    for s in samples {
        out.extend_from_slice(&s.semantic);
    }
    let checksum = lepton_artifacts::checksum::content_hash(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// Format 1's checksum (see the module's documentation).
fn legacy_checksum(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = siphasher::sip::SipHasher13::new_with_keys(0, 0);
    bytes.hash(&mut hasher);
    hasher.finish()
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Decodes and verifies one chunk file.
pub fn read_chunk(path: &Path, shape: FrameShape, planes: Planes) -> Result<Vec<Sample>, DatasetError> {
    read_chunk_and_checksum(path, shape, planes).map(|(samples, _)| samples)
}

/// [`read_chunk`], also giving the chunk's checksum as the manifest writes it.
fn read_chunk_and_checksum(
    path: &Path,
    shape: FrameShape,
    planes: Planes,
) -> Result<(Vec<Sample>, String), DatasetError> {
    let bytes = fs::read(path).map_err(io(path))?;
    let corrupt = |message: String| DatasetError::Corrupt { path: path.to_path_buf(), message };
    if bytes.len() < HEADER_LEN + 8 {
        return Err(DatasetError::Truncated {
            path: path.to_path_buf(),
            expected: HEADER_LEN + 8,
            found: bytes.len(),
        });
    }
    let checksum: fn(&[u8]) -> u64 = match &bytes[..8] {
        m if m == MAGIC || m == MAGIC_V3 => lepton_artifacts::checksum::content_hash,
        m if m == MAGIC_V1 => legacy_checksum,
        _ => return Err(corrupt("wrong magic bytes (not a Lepton dataset chunk)".into())),
    };
    let header_len = planes.header_len();
    let found_planes = if &bytes[..8] == MAGIC_V3 {
        Planes::from_bits(read_u32(&bytes, HEADER_LEN))
    } else {
        Planes::default()
    };
    if found_planes != planes {
        return Err(corrupt(format!("header says planes {found_planes:?}; the manifest says {planes:?}")));
    }
    let count = read_u32(&bytes, 8) as usize;
    let found = FrameShape {
        width: read_u32(&bytes, 12),
        height: read_u32(&bytes, 16),
        channels: read_u32(&bytes, 20) as u8,
    };
    let label_len = read_u32(&bytes, 24) as usize;
    if found != shape || label_len != LABEL_LEN {
        return Err(corrupt(format!(
            "header says {}x{}x{} frames with {label_len} labels; the manifest says {}x{}x{} with {LABEL_LEN}",
            found.width, found.height, found.channels, shape.width, shape.height, shape.channels
        )));
    }
    let expected = header_len + count * (RECORD_LEN + shape.len() + planes.len(shape)) + 8;
    if bytes.len() != expected {
        return Err(DatasetError::Truncated { path: path.to_path_buf(), expected, found: bytes.len() });
    }
    let body = &bytes[..expected - 8];
    let stored = u64::from_le_bytes(bytes[expected - 8..].try_into().expect("8 bytes"));
    if checksum(body) != stored {
        return Err(corrupt("checksum mismatch (the file was changed or damaged)".into()));
    }
    let frames_at = header_len + count * RECORD_LEN;
    let pixels = (shape.width * shape.height) as usize;
    let depth_len = if planes.depth { pixels } else { 0 };
    let classes_len = if planes.semantic { pixels } else { 0 };
    let depth_at = frames_at + count * shape.len();
    let classes_at = depth_at + count * 2 * depth_len;
    let samples = (0..count)
        .map(|i| {
            let at = header_len + i * RECORD_LEN;
            let episode_seed = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
            let step = read_u32(&bytes, at + 8);
            let labels = std::array::from_fn(|k| {
                f32::from_le_bytes(bytes[at + 12 + 4 * k..at + 16 + 4 * k].try_into().expect("4 bytes"))
            });
            let frame = bytes[frames_at + i * shape.len()..frames_at + (i + 1) * shape.len()].to_vec();
            let depth = bytes[depth_at + i * 2 * depth_len..depth_at + (i + 1) * 2 * depth_len]
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect();
            let semantic = bytes[classes_at + i * classes_len..classes_at + (i + 1) * classes_len].to_vec();
            Sample { episode_seed, step, labels, frame, depth, semantic }
        })
        .collect();
    Ok((samples, format!("{stored:016x}")))
}

/// An opened dataset: the manifest, and chunks read on demand. Several datasets opened together
/// (`open_all`) read as one: their manifests merged, each chunk read from its own folder.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The folder of each chunk (all `dir` for one dataset).
    chunk_dirs: Vec<PathBuf>,
}

impl Dataset {
    pub fn open(dir: &Path) -> Result<Self, DatasetError> {
        let manifest = Manifest::load(dir)?;
        let chunk_dirs = vec![dir.to_path_buf(); manifest.chunks.len()];
        Ok(Self { dir: dir.to_path_buf(), manifest, chunk_dirs })
    }

    /// Several datasets as one (training on data from several conditions): the frames must have
    /// one shape and the labels one layout; seeds, counts, rejections and label statistics are
    /// merged. `dir` is the first folder.
    pub fn open_all(dirs: &[PathBuf]) -> Result<Self, DatasetError> {
        let Some((first, rest)) = dirs.split_first() else {
            return Err(DatasetError::Manifest { path: PathBuf::new(), message: "no dataset given".into() });
        };
        let mut merged = Self::open(first)?;
        for dir in rest {
            let other = Self::open(dir)?;
            let (m, o) = (&mut merged.manifest, &other.manifest);
            if o.frame != m.frame || o.label_names != m.label_names || o.planes != m.planes {
                return Err(DatasetError::Manifest {
                    path: dir.join(MANIFEST),
                    message: format!(
                        "frames {}×{}×{} with labels {:?} and planes {:?} cannot train with {} ({}×{}×{}, {:?}, {:?})",
                        o.frame.width,
                        o.frame.height,
                        o.frame.channels,
                        o.label_names,
                        o.planes,
                        first.display(),
                        m.frame.width,
                        m.frame.height,
                        m.frame.channels,
                        m.label_names,
                        m.planes
                    ),
                });
            }
            for (name, theirs) in &o.label_stats {
                let ours = m.label_stats.get(name).copied().unwrap_or(*theirs);
                m.label_stats.insert(name.clone(), ours.merged(m.samples, theirs, o.samples));
            }
            m.scenario = format!("{}+{}", m.scenario, o.scenario);
            m.samples += o.samples;
            m.episodes += o.episodes;
            m.episode_seeds.extend(&o.episode_seeds);
            for (reason, n) in &o.rejected {
                *m.rejected.entry(reason.clone()).or_default() += n;
            }
            m.chunks.extend(o.chunks.iter().cloned());
            merged.chunk_dirs.extend(other.chunk_dirs);
        }
        merged.manifest.episode_seeds.sort_unstable();
        merged.manifest.episode_seeds.dedup();
        Ok(merged)
    }

    pub fn len(&self) -> u64 {
        self.manifest.samples
    }

    pub fn is_empty(&self) -> bool {
        self.manifest.samples == 0
    }

    pub fn num_chunks(&self) -> usize {
        self.manifest.chunks.len()
    }

    /// Reads chunk `i`, checking its size and checksum against the manifest.
    pub fn chunk(&self, i: usize) -> Result<Vec<Sample>, DatasetError> {
        let info = &self.manifest.chunks[i];
        let path = self.chunk_dirs[i].join(&info.file);
        let (samples, checksum) = read_chunk_and_checksum(&path, self.manifest.frame, self.manifest.planes)?;
        if checksum != info.checksum {
            return Err(DatasetError::Corrupt {
                path,
                message: format!(
                    "checksum {checksum}, the manifest lists {} (a chunk of another dataset?)",
                    info.checksum
                ),
            });
        }
        if samples.len() != info.samples as usize {
            return Err(DatasetError::Corrupt {
                path,
                message: format!("holds {} samples; the manifest says {}", samples.len(), info.samples),
            });
        }
        Ok(samples)
    }

    /// Every sample, chunk by chunk (one chunk in memory at a time).
    pub fn iter(&self) -> impl Iterator<Item = Result<Sample, DatasetError>> + '_ {
        (0..self.num_chunks()).flat_map(move |i| match self.chunk(i) {
            Ok(samples) => samples.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    }
}

/// Whether a sample's episode belongs to the validation split (about `fraction` of episodes,
/// chosen by a hash of the episode seed, so the split is by episode and stable).
pub fn is_validation(episode_seed: u64, fraction: f64) -> bool {
    let mut z = episode_seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z as f64 / u64::MAX as f64) < fraction
}

/// Running mean and variance (Welford).
#[derive(Debug, Clone, Copy, Default)]
struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Welford {
    fn add(&mut self, x: f64) {
        if self.n == 0 {
            self.min = x;
            self.max = x;
        }
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    fn stats(&self) -> LabelStats {
        let std = if self.n > 1 { (self.m2 / (self.n - 1) as f64).sqrt() } else { 0.0 };
        LabelStats { mean: self.mean, std, min: self.min, max: self.max }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_label_statistics_are_those_of_the_pooled_values() {
        let stats = |xs: &[f64]| {
            let mut w = Welford::default();
            xs.iter().for_each(|&x| w.add(x));
            w.stats()
        };
        let (a, b) = ([1.0, 2.0, 4.0], [10.0, -3.0, 7.0, 0.5]);
        let all: Vec<f64> = a.iter().chain(&b).copied().collect();
        let (merged, pooled) = (stats(&a).merged(3, &stats(&b), 4), stats(&all));
        assert!((merged.mean - pooled.mean).abs() < 1e-12 && (merged.std - pooled.std).abs() < 1e-12);
        assert_eq!((merged.min, merged.max), (-3.0, 10.0));
    }

    #[test]
    fn format_1_chunks_are_still_read_with_the_hasher_that_wrote_them() {
        // Format 1 hashed with std's DefaultHasher; the siphasher crate's SipHash-1-3 with zero
        // keys is that algorithm, written down.
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
        #[allow(deprecated)]
        let mut std_hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&bytes[..], &mut std_hasher);
        assert_eq!(legacy_checksum(&bytes), std::hash::Hasher::finish(&std_hasher));
        // XXH3-64 of the empty input, from the reference implementation.
        assert_eq!(lepton_artifacts::checksum::content_hash(b""), 0x2d06_8005_38d3_94c2);
    }
}
