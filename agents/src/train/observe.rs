//! From simulator observations to what an agent stores and reads: a scaled state vector (from
//! ground truth or the CNN) or a preprocessed u8 frame, and for acting, frame stacks per env.

use lepton_perception::preprocess::{Image, Preprocess};
use lepton_perception::{DrivingState, Percept, Perception, PerceptionError, PerceptionKind};
use lepton_sim::Observation;
use std::collections::VecDeque;

/// Typical magnitudes of the state fields, so the network's inputs are of order one.
pub const STATE_SCALE: [f32; DrivingState::LEN] = [2.0, 0.5, 20.0, 0.05, 60.0, 60.0, 60.0];

/// One env's observation as the agent keeps it.
#[derive(Debug, Clone, PartialEq)]
pub enum Encoded {
    /// The driving state, and its scaled vector.
    State(DrivingState, Vec<f32>),
    /// A preprocessed frame, u8, C × H × W.
    Frame(Vec<u8>),
}

/// Turns observations into [`Encoded`] values.
pub struct Observer {
    perception: Perception,
    /// For pixels: grey/resize steps and the stored frame's length.
    preprocess: Option<Preprocess>,
}

impl Observer {
    pub fn new(
        kind: &PerceptionKind,
        envs: usize,
        device: &burn::prelude::Device,
    ) -> Result<Self, PerceptionError> {
        let preprocess = match kind {
            PerceptionKind::Pixels { grey, resize, .. } => Some(Preprocess::new(*grey, *resize)),
            _ => None,
        };
        Ok(Self { perception: Perception::new(kind, envs, device)?, preprocess })
    }

    pub fn needs_frames(&self) -> bool {
        self.perception.needs_frames()
    }

    /// Encodes a batch of observations (one per env, or any subset).
    pub fn encode(&mut self, observations: &[&Observation]) -> Result<Vec<Encoded>, PerceptionError> {
        if let Some(preprocess) = &self.preprocess {
            return observations
                .iter()
                .map(|o| {
                    let frame = o.frame.as_ref().ok_or_else(|| {
                        PerceptionError::Input(
                            "pixel input needs camera frames; these envs have no camera".into(),
                        )
                    })?;
                    let image = preprocess.image(&Image::from_frame(frame));
                    Ok(Encoded::Frame(to_chw(&image)))
                })
                .collect();
        }
        let starts = vec![false; observations.len()];
        Ok(self
            .perception
            .perceive(observations, &starts)?
            .into_iter()
            .map(|p| match p {
                Percept::State(s) => {
                    let v = s.to_vec().iter().zip(STATE_SCALE).map(|(x, k)| x / k).collect();
                    Encoded::State(s, v)
                }
                Percept::Pixels(_) => unreachable!("pixels are handled above"),
            })
            .collect())
    }

    /// The frame as the network receives it (for the viewer's inset), if the agent reads frames.
    pub fn input_image(&self, observation: &Observation) -> Option<Image> {
        self.perception.input_image(observation.frame.as_ref()?)
    }

    /// (channels, height, width) of encoded frames for camera frames of the given shape.
    pub fn frame_shape(&self, channels: u8, height: u32, width: u32) -> Option<(usize, usize, usize)> {
        self.preprocess.as_ref().map(|p| p.output_shape(channels, height, width))
    }
}

/// Interleaved H × W × C → planar C × H × W.
fn to_chw(image: &Image) -> Vec<u8> {
    let c = image.channels as usize;
    if c == 1 {
        return image.data.clone();
    }
    let hw = image.width as usize * image.height as usize;
    let mut out = vec![0u8; c * hw];
    for (i, px) in image.data.chunks_exact(c).enumerate() {
        for ch in 0..c {
            out[ch * hw + i] = px[ch];
        }
    }
    out
}

/// The last k frames of one env, restarted (filled with the first frame) at episode starts —
/// the same rule the replay buffer uses to rebuild stacks.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    frames: VecDeque<Vec<u8>>,
}

impl Stack {
    pub fn push(&mut self, frame: &[u8], k: usize, episode_start: bool) {
        if episode_start || self.frames.is_empty() {
            self.frames = std::iter::repeat_n(frame.to_vec(), k).collect();
        } else {
            self.frames.pop_front();
            self.frames.push_back(frame.to_vec());
        }
    }

    /// The stack as network input in [0, 1], oldest first, appended to `out`.
    pub fn write_input(&self, out: &mut Vec<f32>) {
        for f in &self.frames {
            out.extend(f.iter().map(|&v| v as f32 / 255.0));
        }
    }
}
