//! Videos of episodes: RGB frames encoded as H.264 by Cisco's OpenH264 and stored in an MP4 file,
//! which every browser, GitHub and every video player plays. Written under a temporary name and
//! renamed when complete, like every other file a later command or a person reads.
//!
//! OpenH264 hands out Annex-B NAL units (each behind a start code); MP4 wants the parameter sets
//! (SPS, PPS) in the track's `avcC` box and each frame's other NAL units length-prefixed.

use lepton_sim::env::Frame;
use openh264::encoder::{Encoder, EncoderConfig, FrameRate, RateControlMode, UsageType};
use openh264::formats::{RgbSliceU8, YUVBuffer};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Why a video could not be written or read back.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("{path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("{path}: cannot decode: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: frame {index} is {got}, the video is {want}")]
    FrameSize { path: PathBuf, index: u64, got: String, want: String },
}

/// What a finished video holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VideoSummary {
    pub frames: u64,
    /// Playing time (s).
    pub seconds: f64,
    pub bytes: u64,
}

/// Media time units per second of the video track.
const TIMESCALE: u32 = 90_000;

/// An MP4 being written, a frame at a time.
pub struct VideoWriter {
    path: PathBuf,
    /// Beside `path` under an unpredictable name, created with the first frame.
    temporary: Option<tempfile::TempPath>,
    size: [u32; 2],
    /// Media time units per frame.
    frame_duration: u32,
    encoder: Encoder,
    /// Created with the first frame, whose parameter sets the track header needs.
    mp4: Option<mp4::Mp4Writer<BufWriter<File>>>,
    frames: u64,
}

impl VideoWriter {
    /// A video of `size` (even width and height) pixels playing `fps` frames a second, to be
    /// written at `path`.
    pub fn create(path: &Path, size: [u32; 2], fps: f32) -> Result<Self, VideoError> {
        let fail = |message: String| VideoError::Write { path: path.to_path_buf(), message };
        if !size[0].is_multiple_of(2) || !size[1].is_multiple_of(2) || size[0] < 16 || size[1] < 16 {
            return Err(fail(format!("video size {}×{} must be even and at least 16×16", size[0], size[1])));
        }
        if !(fps.is_finite() && (1.0..=240.0).contains(&fps)) {
            return Err(fail(format!("frame rate {fps} must be from 1 to 240 frames a second")));
        }
        let config = EncoderConfig::new()
            .max_frame_rate(FrameRate::from_hz(fps))
            // Flat-shaded renders are screen content more than camera video.
            .usage_type(UsageType::ScreenContentRealTime)
            .adaptive_quantization(false)
            .background_detection(false)
            .rate_control_mode(RateControlMode::Quality)
            // Every frame is kept: a video of an episode has one frame per step.
            .skip_frames(false);
        let encoder = Encoder::with_api_config(openh264::OpenH264API::from_source(), config)
            .map_err(|e| fail(format!("cannot start the H.264 encoder: {e}")))?;
        Ok(Self {
            path: path.to_path_buf(),
            temporary: None,
            size,
            frame_duration: (TIMESCALE as f32 / fps).round() as u32,
            encoder,
            mp4: None,
            frames: 0,
        })
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The video's width and height: every frame pushed must have them.
    pub fn size(&self) -> [u32; 2] {
        self.size
    }

    /// Encodes and appends one RGB frame of the video's size.
    pub fn push(&mut self, frame: &Frame) -> Result<(), VideoError> {
        if [frame.width, frame.height] != self.size || frame.channels != 3 {
            return Err(VideoError::FrameSize {
                path: self.path.clone(),
                index: self.frames,
                got: format!("{}×{}×{}", frame.width, frame.height, frame.channels),
                want: format!("{}×{}×3", self.size[0], self.size[1]),
            });
        }
        let fail = |message: String| VideoError::Write { path: self.path.clone(), message };
        let dimensions = (self.size[0] as usize, self.size[1] as usize);
        let yuv = YUVBuffer::from_rgb_source(RgbSliceU8::new(&frame.data, dimensions));
        let encoded = self.encoder.encode(&yuv).map_err(|e| fail(format!("H.264 encoding failed: {e}")))?;
        let (mut sps, mut pps, mut sample, mut key) = (None, None, Vec::new(), false);
        for l in 0..encoded.num_layers() {
            let layer = encoded.layer(l).expect("a layer below num_layers");
            for n in 0..layer.nal_count() {
                let nal = strip_start_code(layer.nal_unit(n).expect("a NAL unit below nal_count"));
                match nal.first().map(|b| b & 0x1f) {
                    Some(7) => sps = Some(nal.to_vec()),
                    Some(8) => pps = Some(nal.to_vec()),
                    Some(kind) => {
                        key |= kind == 5;
                        sample.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                        sample.extend_from_slice(nal);
                    }
                    None => {}
                }
            }
        }
        if self.mp4.is_none() {
            let (Some(sps), Some(pps)) = (sps, pps) else {
                return Err(fail("the encoder's first frame carries no parameter sets".into()));
            };
            let (temporary, mp4) = self.start_file(sps, pps)?;
            self.temporary = Some(temporary);
            self.mp4 = Some(mp4);
        }
        if sample.is_empty() {
            // OpenH264 may skip a frame; the previous one then shows for longer.
            return Ok(());
        }
        let sample = mp4::Mp4Sample {
            start_time: self.frames * self.frame_duration as u64,
            duration: self.frame_duration,
            rendering_offset: 0,
            is_sync: key,
            bytes: sample.into(),
        };
        let path = self.path.clone();
        let mp4 = self.mp4.as_mut().expect("started above");
        mp4.write_sample(1, &sample).map_err(|e| VideoError::Write { path, message: e.to_string() })?;
        self.frames += 1;
        Ok(())
    }

    fn start_file(
        &self,
        sps: Vec<u8>,
        pps: Vec<u8>,
    ) -> Result<(tempfile::TempPath, mp4::Mp4Writer<BufWriter<File>>), VideoError> {
        let fail = |message: String| VideoError::Write { path: self.path.clone(), message };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let temporary = lepton_artifacts::atomic::temporary(&self.path).map_err(|e| fail(e.to_string()))?;
        let file =
            std::fs::OpenOptions::new().write(true).open(&temporary).map_err(|e| fail(e.to_string()))?;
        let config = mp4::Mp4Config {
            major_brand: str::parse("isom").expect("a four-character code"),
            minor_version: 512,
            compatible_brands: ["isom", "iso2", "avc1", "mp41"]
                .iter()
                .map(|b| str::parse(b).expect("a four-character code"))
                .collect(),
            timescale: 1000,
        };
        let mut writer =
            mp4::Mp4Writer::write_start(BufWriter::new(file), &config).map_err(|e| fail(e.to_string()))?;
        let track = mp4::TrackConfig {
            track_type: mp4::TrackType::Video,
            timescale: TIMESCALE,
            language: "und".into(),
            media_conf: mp4::MediaConfig::AvcConfig(mp4::AvcConfig {
                width: self.size[0] as u16,
                height: self.size[1] as u16,
                seq_param_set: sps,
                pic_param_set: pps,
            }),
        };
        writer.add_track(&track).map_err(|e| fail(e.to_string()))?;
        Ok((temporary, writer))
    }

    /// Completes the file and moves it to its name. A video without frames is not written.
    pub fn finish(self) -> Result<VideoSummary, VideoError> {
        let fail = |message: String| VideoError::Write { path: self.path.clone(), message };
        let (Some(mut mp4), Some(temporary)) = (self.mp4, self.temporary) else {
            return Err(fail("no frames to write".into()));
        };
        mp4.write_end().map_err(|e| fail(e.to_string()))?;
        drop(mp4.into_writer().into_inner().map_err(|e| fail(e.to_string()))?);
        lepton_artifacts::atomic::commit(temporary, &self.path).map_err(|e| fail(e.to_string()))?;
        let bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        Ok(VideoSummary {
            frames: self.frames,
            seconds: self.frames as f64 * self.frame_duration as f64 / TIMESCALE as f64,
            bytes,
        })
    }
}

/// A NAL unit without its Annex-B start code (`00 00 01` or `00 00 00 01`).
fn strip_start_code(nal: &[u8]) -> &[u8] {
    if nal.starts_with(&[0, 0, 0, 1]) {
        &nal[4..]
    } else if nal.starts_with(&[0, 0, 1]) {
        &nal[3..]
    } else {
        nal
    }
}

/// Decodes every frame of an MP4 written by [`VideoWriter`] (tests and `lepton` checks): the
/// frames as RGB, in order.
pub fn decode_mp4(path: &Path) -> Result<Vec<Frame>, VideoError> {
    decode_frames(path).map_err(|message| VideoError::Read { path: path.to_path_buf(), message })
}

fn decode_frames(path: &Path) -> Result<Vec<Frame>, String> {
    use openh264::decoder::Decoder;
    use openh264::formats::YUVSource;
    let file = File::open(path).map_err(|e| e.to_string())?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let mut reader =
        mp4::Mp4Reader::read_header(std::io::BufReader::new(file), size).map_err(|e| e.to_string())?;
    let (&track_id, track) = reader.tracks().iter().next().ok_or("no track")?;
    let annex_b = |nal: &[u8]| [&[0u8, 0, 0, 1][..], nal].concat();
    let mut stream = [
        annex_b(track.sequence_parameter_set().map_err(|e| e.to_string())?),
        annex_b(track.picture_parameter_set().map_err(|e| e.to_string())?),
    ]
    .concat();
    let count = reader.sample_count(track_id).map_err(|e| e.to_string())?;
    let mut decoder = Decoder::new().map_err(|e| e.to_string())?;
    let mut frames = Vec::new();
    for id in 1..=count {
        let sample =
            reader.read_sample(track_id, id).map_err(|e| e.to_string())?.ok_or("a missing sample")?;
        let mut bytes = &sample.bytes[..];
        while bytes.len() >= 4 {
            let len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
            let nal = bytes.get(4..4 + len).ok_or("a truncated NAL unit")?;
            stream.extend(annex_b(nal));
            bytes = &bytes[4 + len..];
        }
        if let Some(yuv) = decoder.decode(&stream).map_err(|e| e.to_string())? {
            let (w, h) = yuv.dimensions();
            let mut rgb = vec![0; w * h * 3];
            yuv.write_rgb8(&mut rgb);
            frames.push(Frame { width: w as u32, height: h as u32, channels: 3, data: rgb });
        }
        stream.clear();
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of a moving gradient, different for each `t`.
    fn frame(t: u32) -> Frame {
        let (w, h) = (64u32, 48u32);
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend([
                    ((x + 4 * t) * 4) as u8,
                    (y * 5) as u8,
                    if (x / 8 + t).is_multiple_of(2) { 200 } else { 40 },
                ]);
            }
        }
        Frame { width: w, height: h, channels: 3, data }
    }

    #[test]
    fn a_video_decodes_to_its_frames_in_order() {
        let dir = std::env::temp_dir().join(format!("lepton-video-{}", std::process::id()));
        let path = dir.join("clip.mp4");
        let mut video = VideoWriter::create(&path, [64, 48], 12.5).unwrap();
        for t in 0..20 {
            video.push(&frame(t)).unwrap();
        }
        assert!(matches!(video.push(&Frame { width: 8, ..frame(0) }), Err(VideoError::FrameSize { .. })));
        let summary = video.finish().unwrap();
        assert_eq!(summary.frames, 20);
        assert!((summary.seconds - 1.6).abs() < 1e-3);
        assert!(summary.bytes > 500);
        let decoded = decode_mp4(&path).unwrap();
        assert_eq!(decoded.len(), 20);
        // Each decoded frame is nearest to the frame it encodes (lossy, but not that lossy).
        let distance = |a: &Frame, b: &Frame| {
            a.data.iter().zip(&b.data).map(|(&x, &y)| (x as i64 - y as i64).abs()).sum::<i64>()
        };
        for (t, got) in decoded.iter().enumerate() {
            let own = distance(got, &frame(t as u32));
            for other in [t.saturating_sub(1), (t + 1).min(19)].into_iter().filter(|&o| o != t) {
                assert!(own < distance(got, &frame(other as u32)), "frame {t} decodes nearer to {other}");
            }
        }
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "the video and no temporary: {left:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn odd_sizes_and_silly_frame_rates_are_refused() {
        let path = Path::new("never.mp4");
        assert!(VideoWriter::create(path, [63, 48], 10.0).is_err());
        assert!(VideoWriter::create(path, [64, 48], 0.0).is_err());
        assert!(VideoWriter::create(path, [64, 48], f32::NAN).is_err());
    }
}
