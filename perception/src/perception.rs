//! `Perception`: what the agent gets from an observation, in one of three kinds chosen by
//! configuration — the simulator's ground truth, a trained CNN's reading of the camera frame, or
//! the preprocessed frame stack itself. It is the one observation path: it keeps each env's
//! frame stack, so every caller (training, evaluation, the viewer) sees the same thing.

use crate::cnn::{CnnModel, ModelError};
use crate::preprocess::{FrameStack, Image, Preprocess};
use crate::state::DrivingState;
use burn::prelude::Device;
use lepton_sim::scenario::{FrameFormat, Scenario, VehicleList};
use lepton_sim::{Frame, Observation};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// The configured kind of perception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PerceptionKind {
    /// The state read from the simulator (debugging, ablations, labels).
    GroundTruth,
    /// A trained CNN (`lepton perception train`) predicting the state from the camera frame,
    /// plus the ego speed from odometry.
    Cnn { model: PathBuf },
    /// The driving state and the object list of the scenario's `vehicles` sensor (added with its
    /// defaults when the scenario has none), for the ego-attention DQN.
    Vehicles,
    /// The preprocessed frame stack itself, for end-to-end networks.
    Pixels {
        #[serde(default)]
        grey: bool,
        #[serde(default)]
        resize: Option<(u32, u32)>,
        /// Frames per observation (the newest last).
        #[serde(default = "default_stack")]
        stack: usize,
    },
}

fn default_stack() -> usize {
    4
}

impl PerceptionKind {
    /// Grey 4-frame stacks at the camera's size: the Nature-DQN input.
    pub fn default_pixels() -> Self {
        PerceptionKind::Pixels { grey: true, resize: None, stack: default_stack() }
    }
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
    /// The last k preprocessed frames.
    Frames(StackedFrames),
    /// The car's own driving state and the rows of its object list.
    Vehicles(VehicleRows),
}

/// What [`PerceptionKind::Vehicles`] hands the agent: the ego's driving state and the object
/// list's rows (`count` × [`lepton_sim::vehicle_list::ROW`], scaled as the sensor gives them).
#[derive(Debug, Clone, PartialEq)]
pub struct VehicleRows {
    pub ego: DrivingState,
    pub rows: Vec<f32>,
}

impl VehicleRows {
    /// Network input: the scaled driving state, then the rows.
    pub fn write_input(&self, out: &mut Vec<f32>) {
        self.ego.write_scaled(out);
        out.extend_from_slice(&self.rows);
    }

    /// Values of [`VehicleRows::write_input`] for a list of `count` rows.
    pub fn input_len(count: usize) -> usize {
        DrivingState::LEN + count * lepton_sim::vehicle_list::ROW
    }
}

/// The last k preprocessed frames of one env: u8, each C × H × W, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedFrames {
    pub data: Vec<u8>,
    /// Values per frame (C · H · W).
    pub frame_len: usize,
}

impl StackedFrames {
    /// The frame just seen (what a replay buffer stores once).
    pub fn newest(&self) -> &[u8] {
        &self.data[self.data.len() - self.frame_len..]
    }

    /// The stack as network input in [0, 1], appended to `out`.
    pub fn write_input(&self, out: &mut Vec<f32>) {
        out.extend(self.data.iter().map(|&v| v as f32 / 255.0));
    }
}

/// The shape of what a perception produces, for building the networks that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerceptShape {
    /// A [`DrivingState`].
    State,
    /// `stack` frames of `channels` × `height` × `width`.
    Frames { stack: usize, channels: usize, height: usize, width: usize },
    /// A [`VehicleRows`] of `count` rows.
    Vehicles { count: usize },
}

pub enum Perception {
    GroundTruth,
    Vehicles,
    /// The model is shared by every copy made with [`Perception::fresh`].
    Cnn(Arc<CnnModel>),
    Pixels {
        preprocess: Preprocess,
        k: usize,
        stacks: Vec<FrameStack>,
    },
}

impl Perception {
    /// Builds the perception for `envs` parallel environments.
    pub fn new(kind: &PerceptionKind, envs: usize, device: &Device) -> Result<Self, PerceptionError> {
        Ok(match kind {
            PerceptionKind::GroundTruth => Perception::GroundTruth,
            PerceptionKind::Vehicles => Perception::Vehicles,
            PerceptionKind::Cnn { model } => Perception::Cnn(Arc::new(CnnModel::load(model, device)?)),
            PerceptionKind::Pixels { grey, resize, stack } => {
                if *stack == 0 {
                    return Err(PerceptionError::Input("perception.stack must be at least 1".into()));
                }
                Perception::Pixels {
                    preprocess: Preprocess::new(*grey, *resize),
                    k: *stack,
                    stacks: (0..envs).map(|_| FrameStack::new(*stack)).collect(),
                }
            }
        })
    }

    /// The same perception for `envs` other environments, with stacks of its own (a CNN's
    /// weights are shared, not loaded again).
    pub fn fresh(&self, envs: usize) -> Self {
        match self {
            Perception::GroundTruth => Perception::GroundTruth,
            Perception::Vehicles => Perception::Vehicles,
            Perception::Cnn(model) => Perception::Cnn(model.clone()),
            Perception::Pixels { preprocess, k, .. } => Perception::Pixels {
                preprocess: preprocess.clone(),
                k: *k,
                stacks: (0..envs).map(|_| FrameStack::new(*k)).collect(),
            },
        }
    }

    /// Puts each env's frame stack back as `current` (env i's latest percept) shows it, so that
    /// a resumed run perceives exactly as the interrupted one would have. Percepts of the wrong
    /// kind or size are an error.
    pub fn restore_stacks(&mut self, current: &[Percept]) -> Result<(), PerceptionError> {
        let Perception::Pixels { k, stacks, .. } = self else {
            return match current.iter().all(|p| !matches!(p, Percept::Frames(_))) {
                true => Ok(()),
                false => Err(PerceptionError::Input("frame stacks given to a state perception".into())),
            };
        };
        *stacks = current
            .iter()
            .map(|p| match p {
                Percept::Frames(f) => FrameStack::from_vec(*k, f.frame_len, &f.data),
                Percept::State(_) | Percept::Vehicles(_) => None,
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| PerceptionError::Input(format!("the saved percepts are not {k}-frame stacks")))?;
        Ok(())
    }

    /// The frame as this perception's network receives it (after grey/resize), if it reads one.
    pub fn input_image(&self, frame: &Frame) -> Option<Image> {
        match self {
            Perception::GroundTruth | Perception::Vehicles => None,
            Perception::Cnn(model) => Some(model.meta.preprocess.image(&Image::from_frame(frame))),
            Perception::Pixels { preprocess, .. } => Some(preprocess.image(&Image::from_frame(frame))),
        }
    }

    /// Whether this perception reads camera frames (the envs then need a camera).
    pub fn needs_frames(&self) -> bool {
        !matches!(self, Perception::GroundTruth | Perception::Vehicles)
    }

    /// What this perception makes of `scenario`'s camera frames.
    /// Whether this perception reads the depth camera as well as the frame (a CNN trained with
    /// `depth_input`): its envs must draw depth.
    pub fn needs_depth(&self) -> bool {
        matches!(self, Perception::Cnn(model) if model.meta.depth_input)
    }

    pub fn shape(&self, scenario: &Scenario) -> PerceptShape {
        match self {
            Perception::GroundTruth | Perception::Cnn(_) => PerceptShape::State,
            Perception::Vehicles => PerceptShape::Vehicles {
                count: scenario.vehicles.as_ref().map_or(VehicleList::default().count, |l| l.count) as usize,
            },
            Perception::Pixels { preprocess, k, .. } => {
                let c = &scenario.camera;
                let channels = match c.format {
                    FrameFormat::Rgb => 3,
                    FrameFormat::Grey => 1,
                };
                let (channels, height, width) = preprocess.output_shape(channels, c.height, c.width);
                PerceptShape::Frames { stack: *k, channels, height, width }
            }
        }
    }

    /// Percepts for one observation per env (observation i is env i's); `episode_start[i]`
    /// restarts env i's frame stack.
    pub fn perceive(
        &mut self,
        observations: &[&Observation],
        episode_start: &[bool],
    ) -> Result<Vec<Percept>, PerceptionError> {
        let envs: Vec<usize> = (0..observations.len()).collect();
        self.perceive_envs(&envs, observations, episode_start)
    }

    /// Percepts for the envs listed in `envs` (observation i is env `envs[i]`'s). A CNN reads
    /// them in one batch.
    pub fn perceive_envs(
        &mut self,
        envs: &[usize],
        observations: &[&Observation],
        episode_start: &[bool],
    ) -> Result<Vec<Percept>, PerceptionError> {
        match self {
            Perception::GroundTruth => {
                Ok(observations.iter().map(|o| Percept::State(o.state.driving)).collect())
            }
            Perception::Vehicles => observations
                .iter()
                .map(|o| match &o.vehicles {
                    Some(rows) => {
                        Ok(Percept::Vehicles(VehicleRows { ego: o.state.driving, rows: rows.clone() }))
                    }
                    None => Err(PerceptionError::Input(
                        "vehicles perception needs the object list; this scenario has no `vehicles` sensor"
                            .into(),
                    )),
                })
                .collect(),
            Perception::Cnn(model) => {
                let mut frames = Vec::with_capacity(observations.len());
                for o in observations {
                    let frame = camera_frame(o, "Cnn")?;
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
                let depths = if model.meta.depth_input {
                    let depths = observations
                        .iter()
                        .map(|o| {
                            o.depth.as_deref().ok_or_else(|| {
                                PerceptionError::Input(
                                    "the perception model takes the depth camera's images and this env draws \
                                     none (its observations need depth: lepton_render::sensor_vec_env)"
                                        .into(),
                                )
                            })
                        })
                        .collect::<Result<Vec<&[f32]>, _>>()?;
                    Some(depths)
                } else {
                    None
                };
                let predictions = model.predict_with_depth(&frames, depths.as_deref());
                Ok(predictions
                    .iter()
                    .zip(observations)
                    .map(|(p, o)| Percept::State(p.to_state(o.state.driving.speed)))
                    .collect())
            }
            Perception::Pixels { preprocess, k, stacks } => {
                let mut out = Vec::with_capacity(observations.len());
                for ((&env, o), &start) in envs.iter().zip(observations).zip(episode_start) {
                    if stacks.len() <= env {
                        stacks.resize(env + 1, FrameStack::new(*k));
                    }
                    let frame = preprocess.to_u8_chw(&Image::from_frame(camera_frame(o, "Pixels")?));
                    stacks[env].push(&frame, start);
                    out.push(Percept::Frames(StackedFrames {
                        data: stacks[env].to_vec(),
                        frame_len: frame.len(),
                    }));
                }
                Ok(out)
            }
        }
    }
}

fn camera_frame<'a>(o: &'a Observation, kind: &str) -> Result<&'a Frame, PerceptionError> {
    o.frame.as_ref().ok_or_else(|| {
        PerceptionError::Input(format!("{kind} perception needs camera frames; these envs have no camera"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lepton_sim::GroundTruth;

    fn seen(value: u8) -> Observation {
        let frame = Frame { width: 2, height: 1, channels: 3, data: vec![value, 0, 0, value, 0, 0] };
        Observation { frame: Some(frame), ..Observation::of_state(GroundTruth::default()) }
    }

    fn stack(p: &Percept) -> &StackedFrames {
        match p {
            Percept::Frames(f) => f,
            _ => panic!("pixels give frames"),
        }
    }

    #[test]
    fn pixels_keep_one_stack_per_env_that_restarts_at_episode_starts() {
        let kind = PerceptionKind::Pixels { grey: false, resize: None, stack: 3 };
        let mut p = Perception::new(&kind, 2, &Device::flex()).unwrap();
        let (a, b, c) = (seen(10), seen(20), seen(30));
        p.perceive(&[&a, &b], &[true, true]).unwrap();
        let out = p.perceive(&[&b, &c], &[false, false]).unwrap();
        // Planar RGB per frame (R R G G B B), oldest first: env 0 saw 10, 10 (restart fill), 20.
        assert_eq!(stack(&out[0]).data[..6], [10, 10, 0, 0, 0, 0]);
        assert_eq!(stack(&out[0]).newest(), [20, 20, 0, 0, 0, 0]);
        assert_eq!(stack(&out[1]).newest(), [30, 30, 0, 0, 0, 0]);
        // Only env 1 restarts; env 0's stack is untouched by a call about env 1.
        let restarted = p.perceive_envs(&[1], &[&a], &[true]).unwrap();
        assert_eq!(stack(&restarted[0]).data, [10, 10, 0, 0, 0, 0].repeat(3));
        let on = p.perceive(&[&c, &c], &[false, false]).unwrap();
        assert_eq!(stack(&on[0]).data[..12], [[10, 10, 0, 0, 0, 0], [20, 20, 0, 0, 0, 0]].concat());
        assert_eq!(stack(&on[1]).data[..12], [10, 10, 0, 0, 0, 0].repeat(2));
        // A fresh copy has stacks of its own.
        let mut fresh = p.fresh(1);
        let first = fresh.perceive(&[&b], &[false]).unwrap();
        assert_eq!(stack(&first[0]).data, [20, 20, 0, 0, 0, 0].repeat(3));
        let mut input = Vec::new();
        stack(&first[0]).write_input(&mut input);
        assert_eq!(input[0], 20.0 / 255.0);
        assert_eq!(
            p.shape(&lepton_sim::scenario::Scenario::default()),
            PerceptShape::Frames {
                stack: 3,
                channels: 3,
                height: lepton_sim::scenario::Scenario::default().camera.height as usize,
                width: lepton_sim::scenario::Scenario::default().camera.width as usize,
            }
        );
    }
}
