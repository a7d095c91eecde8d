//! `Perception`: what the agent gets from an observation, in one of three kinds chosen by
//! configuration — the simulator's ground truth, a trained CNN's reading of the camera frame, or
//! the preprocessed frame stack itself.

use crate::cnn::{CnnModel, ModelError};
use crate::preprocess::{FrameStack, Image, Preprocess};
use crate::state::DrivingState;
use burn::prelude::Device;
use lepton_sim::{Frame, Observation};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The configured kind of perception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PerceptionKind {
    /// The state read from the simulator (debugging, ablations, labels).
    GroundTruth,
    /// A trained CNN (`lepton perception train`) predicting the state from the camera frame,
    /// plus the ego speed from odometry.
    Cnn { model: PathBuf },
    /// The preprocessed frame stack itself, for end-to-end networks.
    Pixels {
        #[serde(default)]
        grey: bool,
        #[serde(default)]
        resize: Option<(u32, u32)>,
        #[serde(default = "default_stack")]
        stack: usize,
    },
}

fn default_stack() -> usize {
    4
}

#[derive(Debug, thiserror::Error)]
pub enum PerceptionError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("{0}")]
    Input(String),
}

/// What perception hands the agent for one env.
#[derive(Debug, Clone, PartialEq)]
pub enum Percept {
    State(DrivingState),
    /// C·k × H × W values in [0, 1], oldest frame first.
    Pixels(Vec<f32>),
}

impl Percept {
    /// The values an agent's network or table reads.
    pub fn to_vec(&self) -> Vec<f32> {
        match self {
            Percept::State(s) => s.to_vec().to_vec(),
            Percept::Pixels(p) => p.clone(),
        }
    }
}

pub enum Perception {
    GroundTruth,
    Cnn(Box<CnnModel>),
    Pixels { preprocess: Preprocess, stacks: Vec<FrameStack> },
}

impl Perception {
    /// Builds the perception for `envs` parallel environments.
    pub fn new(kind: &PerceptionKind, envs: usize, device: &Device) -> Result<Self, PerceptionError> {
        Ok(match kind {
            PerceptionKind::GroundTruth => Perception::GroundTruth,
            PerceptionKind::Cnn { model } => Perception::Cnn(Box::new(CnnModel::load(model, device)?)),
            PerceptionKind::Pixels { grey, resize, stack } => {
                if *stack == 0 {
                    return Err(PerceptionError::Input("perception.stack must be at least 1".into()));
                }
                Perception::Pixels {
                    preprocess: Preprocess::new(*grey, *resize),
                    stacks: (0..envs).map(|_| FrameStack::new(*stack)).collect(),
                }
            }
        })
    }

    /// The frame as this perception's network receives it (after grey/resize), if it reads one.
    pub fn input_image(&self, frame: &Frame) -> Option<Image> {
        match self {
            Perception::GroundTruth => None,
            Perception::Cnn(model) => Some(model.meta.preprocess.image(&Image::from_frame(frame))),
            Perception::Pixels { preprocess, .. } => Some(preprocess.image(&Image::from_frame(frame))),
        }
    }

    /// Whether this perception reads camera frames (the envs then need a camera).
    pub fn needs_frames(&self) -> bool {
        !matches!(self, Perception::GroundTruth)
    }

    /// Length of each percept's vector for frames of the given shape.
    pub fn output_len(&self, channels: u8, height: u32, width: u32) -> usize {
        match self {
            Perception::GroundTruth | Perception::Cnn(_) => DrivingState::LEN,
            Perception::Pixels { preprocess, stacks } => {
                let (c, h, w) = preprocess.output_shape(channels, height, width);
                c * h * w * stacks.first().map_or(1, FrameStack::k)
            }
        }
    }

    /// Percepts for one observation per env; `episode_start[i]` restarts env i's frame stack.
    pub fn perceive(
        &mut self,
        observations: &[&Observation],
        episode_start: &[bool],
    ) -> Result<Vec<Percept>, PerceptionError> {
        match self {
            Perception::GroundTruth => Ok(observations
                .iter()
                .map(|o| Percept::State(DrivingState::from_ground_truth(&o.state)))
                .collect()),
            Perception::Cnn(model) => {
                let mut frames = Vec::with_capacity(observations.len());
                for o in observations {
                    let frame = o.frame.as_ref().ok_or_else(|| {
                        PerceptionError::Input(
                            "Cnn perception needs camera frames; these envs have no camera".into(),
                        )
                    })?;
                    let want = model.meta.frame;
                    if (frame.width, frame.height, frame.channels) != (want.width, want.height, want.channels)
                    {
                        return Err(PerceptionError::Input(format!(
                            "the model takes {}x{}x{} frames, the camera gives {}x{}x{} \
                             (train the model on data from this scenario's camera)",
                            want.width, want.height, want.channels, frame.width, frame.height, frame.channels
                        )));
                    }
                    frames.push(frame.data.as_slice());
                }
                let predictions = model.predict(&frames);
                Ok(predictions
                    .iter()
                    .zip(observations)
                    .map(|(p, o)| Percept::State(p.to_state(o.state.speed)))
                    .collect())
            }
            Perception::Pixels { preprocess, stacks } => {
                if stacks.len() < observations.len() {
                    stacks.resize(observations.len(), stacks[0].clone());
                }
                let mut out = Vec::with_capacity(observations.len());
                for (i, o) in observations.iter().enumerate() {
                    let frame = o.frame.as_ref().ok_or_else(|| {
                        PerceptionError::Input(
                            "Pixels perception needs camera frames; these envs have no camera".into(),
                        )
                    })?;
                    let mut values = Vec::new();
                    preprocess.to_f32_into(&Image::from_frame(frame), &mut values);
                    stacks[i].push(&values, episode_start.get(i).copied().unwrap_or(false));
                    out.push(Percept::Pixels(stacks[i].to_vec()));
                }
                Ok(out)
            }
        }
    }
}
