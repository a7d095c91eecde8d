//! What the training loop holds between two steps besides the agent: the environments (each
//! episode under way), the percept each env acts on next, which envs just started an episode, and
//! the training row being accumulated. A checkpoint stores it so that a resumed run continues
//! exactly where the interrupted one was — no episode is restarted.
//!
//! Two checkpoint files: `loop.json` (floats as their bit patterns, so they come back exact) and
//! `stacks.bin` (each env's frame stack, raw, env after env; empty without pixels).

use crate::agent::PartError;
use crate::explore::HeldAction;
use lepton_perception::{DrivingState, Percept, StackedFrames, VehicleRows};
use lepton_sim::vec_env::VecEnvSnapshot;
use lepton_sim::vehicle_list::ROW;
use serde::{Deserialize, Serialize};

pub const LOOP_FILE: &str = "loop.json";
pub const STACKS_FILE: &str = "stacks.bin";

/// The loss and Q-value sums of the training row under way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Interval {
    pub loss_sum: f64,
    pub loss_n: u64,
    pub q_sum: f64,
    pub q_n: u64,
}

/// The loop's state, as it is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    envs: VecEnvSnapshot,
    /// Per env: whether its next percept is the first of an episode.
    starts: Vec<bool>,
    /// Per env: the state percept's values (f32 bits), or `None` for a frame stack.
    states: Vec<Option<Vec<u32>>>,
    /// Values per frame of the frame stacks (0 without them).
    frame_len: usize,
    /// `Interval`, floats as bits.
    loss_sum_bits: u64,
    loss_n: u64,
    q_sum_bits: u64,
    q_n: u64,
    /// The last returns the progress bar averages (f32 bits).
    recent_bits: Vec<u32>,
    /// Per env: the random action being held by temporally-extended exploration (absent in
    /// checkpoints written before it existed: nothing held).
    #[serde(default)]
    held: Vec<HeldAction>,
}

/// The loop's state between two steps.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopState {
    pub envs: VecEnvSnapshot,
    pub current: Vec<Percept>,
    pub starts: Vec<bool>,
    pub interval: Interval,
    pub recent: Vec<f32>,
    /// Per env: the exploration run under way.
    pub held: Vec<HeldAction>,
}

impl LoopState {
    /// The two checkpoint files.
    pub fn to_parts(&self) -> [(&'static str, Vec<u8>); 2] {
        let mut stacks = Vec::new();
        let mut frame_len = 0;
        let states = self
            .current
            .iter()
            .map(|p| match p {
                Percept::State(s) => Some(s.to_vec().iter().map(|v| v.to_bits()).collect()),
                // The ego's state, then the rows: longer than a state alone.
                Percept::Vehicles(v) => {
                    Some(v.ego.to_vec().iter().chain(&v.rows).map(|v| v.to_bits()).collect())
                }
                Percept::Frames(f) => {
                    frame_len = f.frame_len;
                    stacks.extend_from_slice(&f.data);
                    None
                }
            })
            .collect();
        let saved = Saved {
            envs: self.envs.clone(),
            starts: self.starts.clone(),
            states,
            frame_len,
            loss_sum_bits: self.interval.loss_sum.to_bits(),
            loss_n: self.interval.loss_n,
            q_sum_bits: self.interval.q_sum.to_bits(),
            q_n: self.interval.q_n,
            recent_bits: self.recent.iter().map(|r| r.to_bits()).collect(),
            held: self.held.clone(),
        };
        [(LOOP_FILE, serde_json::to_vec(&saved).expect("loop state serialises")), (STACKS_FILE, stacks)]
    }

    /// The state of the two files read by `read`, checked for `envs` envs whose frame stacks
    /// (if any) hold `stack_len` bytes each.
    pub fn from_parts(
        read: &dyn Fn(&str) -> Result<Vec<u8>, PartError>,
        envs: usize,
        stack_len: Option<usize>,
    ) -> Result<Self, PartError> {
        let bad = |m: String| PartError::new(LOOP_FILE, m);
        let saved: Saved = serde_json::from_slice(&read(LOOP_FILE)?).map_err(|e| bad(e.to_string()))?;
        let stacks = read(STACKS_FILE)?;
        if saved.states.len() != envs || saved.starts.len() != envs || saved.envs.envs.len() != envs {
            return Err(bad(format!("holds {} envs; the run has {envs}", saved.states.len())));
        }
        let frames = saved.states.iter().filter(|s| s.is_none()).count();
        match (frames, stack_len) {
            (0, None) if stacks.is_empty() => {}
            (n, Some(len)) if n == envs && stacks.len() == n * len && len % saved.frame_len.max(1) == 0 => {}
            _ => {
                return Err(PartError::new(
                    STACKS_FILE,
                    format!(
                        "{} bytes of frame stacks for {frames} of {envs} envs; the run's perception \
                         takes {}",
                        stacks.len(),
                        stack_len.map_or("no frames".into(), |l| format!("{l} bytes per env"))
                    ),
                ));
            }
        }
        let mut chunks = stack_len.map(|len| stacks.chunks(len));
        let current = saved
            .states
            .iter()
            .map(|s| match (s, chunks.as_mut()) {
                (Some(bits), _) if bits.len() > DrivingState::LEN => {
                    let (ego, rows) = bits.split_at(DrivingState::LEN);
                    if rows.len() % ROW != 0 {
                        return Err(bad(format!(
                            "an object list of {} values, not whole rows of {ROW}",
                            rows.len()
                        )));
                    }
                    let ego: [u32; DrivingState::LEN] = ego.try_into().expect("split at the state's length");
                    Ok(Percept::Vehicles(VehicleRows {
                        ego: DrivingState::from_vec(ego.map(f32::from_bits)),
                        rows: rows.iter().map(|&b| f32::from_bits(b)).collect(),
                    }))
                }
                (Some(bits), _) => {
                    let values: [u32; DrivingState::LEN] = bits.as_slice().try_into().map_err(|_| {
                        bad(format!("a state of {} values, not {}", bits.len(), DrivingState::LEN))
                    })?;
                    Ok(Percept::State(DrivingState::from_vec(values.map(f32::from_bits))))
                }
                (None, Some(chunks)) => Ok(Percept::Frames(StackedFrames {
                    data: chunks.next().expect("one stack per env").to_vec(),
                    frame_len: saved.frame_len,
                })),
                (None, None) => Err(bad("a frame stack for a state perception".into())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            envs: saved.envs,
            current,
            starts: saved.starts,
            interval: Interval {
                loss_sum: f64::from_bits(saved.loss_sum_bits),
                loss_n: saved.loss_n,
                q_sum: f64::from_bits(saved.q_sum_bits),
                q_n: saved.q_n,
            },
            recent: saved.recent_bits.into_iter().map(f32::from_bits).collect(),
            // An old checkpoint holds no runs: every env is free to explore afresh.
            held: if saved.held.is_empty() { vec![HeldAction::default(); envs] } else { saved.held },
        })
    }
}
