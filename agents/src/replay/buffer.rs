//! The replay buffer. Each observation is stored once (u8 frames or f32 state vectors), in one
//! ring per env so that an episode's steps stay contiguous. A stored entry is an observation plus
//! the action taken on it, its reward and how the episode went on; an episode's final observation
//! is stored as an entry of its own (no action), so truncated episodes can bootstrap from it.
//! Frame stacks and next observations are rebuilt when sampling, never stored twice.
//!
//! Sampling goes through a sum tree: uniform replay gives every complete entry priority 1,
//! prioritised replay gives it (|δ| + ε)^α and corrects with importance weights (N·P)^−β.

use super::sum_tree::SumTree;
use rand::Rng;
use serde::{Deserialize, Serialize};

const START: u8 = 1;
const TERMINATED: u8 = 2;
const TRUNCATED: u8 = 4;
const FINAL: u8 = 8;

/// How the buffer stores and samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReplaySpec {
    /// Entries across all envs (about one per transition).
    pub capacity: usize,
    pub envs: usize,
    /// Values per observation (one frame, or one state vector).
    pub obs_len: usize,
    /// Frames per stacked observation (1 for state vectors).
    pub stack: usize,
    /// Steps per return (1 = one-step TD).
    pub n_step: usize,
    pub gamma: f32,
    /// Priority exponent α; `None` samples uniformly.
    pub alpha: Option<f32>,
    /// Added to |δ| so no entry's priority drops to zero.
    pub priority_epsilon: f32,
}

/// Observations of one kind: u8 frames (divided by 255 when sampled) or f32 vectors.
#[derive(Debug, Clone, PartialEq)]
pub enum Storage {
    U8(Vec<u8>),
    F32(Vec<f32>),
}

/// An observation handed to [`ReplayBuffer::push`].
#[derive(Debug, Clone, Copy)]
pub enum ObsRef<'a> {
    U8(&'a [u8]),
    F32(&'a [f32]),
}

/// One step of one env, as the training loop saw it.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    /// The observation the action was taken on.
    pub obs: ObsRef<'a>,
    /// Whether `obs` is the first of its episode.
    pub episode_start: bool,
    pub action: usize,
    pub reward: f32,
    pub terminated: bool,
    pub truncated: bool,
    /// The episode's last observation, when this step ended it.
    pub final_obs: Option<ObsRef<'a>>,
}

/// A sampled batch, ready for the learner.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub size: usize,
    /// [size, stack · obs_len] each, in [0, 1] for frames.
    pub obs: Vec<f32>,
    pub next_obs: Vec<f32>,
    pub actions: Vec<usize>,
    /// Σ_{i<m} γ^i r_{t+i} over the m ≤ n steps taken.
    pub returns: Vec<f32>,
    /// γ^m where the return bootstraps, 0 where the episode terminated within the m steps.
    pub discounts: Vec<f32>,
    /// Importance-sampling weights (all 1 for uniform replay).
    pub weights: Vec<f32>,
    /// Slots, for [`ReplayBuffer::update_priorities`].
    pub slots: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplayBuffer {
    spec: ReplaySpec,
    per_env: usize,
    storage: Storage,
    actions: Vec<u16>,
    rewards: Vec<f32>,
    flags: Vec<u8>,
    /// Entries ever written per env; entry `a` of env `e` lives in slot `e·per_env + a mod per_env`.
    written: Vec<u64>,
    tree: SumTree,
    max_priority: f64,
    /// Entries that can be sampled now.
    complete: usize,
}

impl ReplayBuffer {
    /// A buffer of u8 observations (`frames = true`) or f32 ones.
    pub fn new(spec: ReplaySpec, frames: bool) -> Self {
        assert!(
            spec.envs >= 1 && spec.stack >= 1 && spec.n_step >= 1,
            "envs, stack and n_step are at least 1"
        );
        let per_env = (spec.capacity / spec.envs).max(spec.stack + spec.n_step + 2);
        let slots = per_env * spec.envs;
        let storage = if frames {
            Storage::U8(vec![0; slots * spec.obs_len])
        } else {
            Storage::F32(vec![0.0; slots * spec.obs_len])
        };
        Self {
            spec,
            per_env,
            storage,
            actions: vec![0; slots],
            rewards: vec![0.0; slots],
            flags: vec![0; slots],
            written: vec![0; spec.envs],
            tree: SumTree::new(slots),
            max_priority: 1.0,
            complete: 0,
        }
    }

    /// Whether observations are u8 frames (else f32 state vectors).
    pub fn stores_frames(&self) -> bool {
        matches!(self.storage, Storage::U8(_))
    }

    pub fn spec(&self) -> &ReplaySpec {
        &self.spec
    }

    /// Entries that can be sampled.
    pub fn len(&self) -> usize {
        self.complete
    }

    pub fn is_empty(&self) -> bool {
        self.complete == 0
    }

    /// Bytes held by the buffer's arrays (observations, actions, rewards, flags, sum tree).
    pub fn bytes(&self) -> usize {
        let obs = match &self.storage {
            Storage::U8(v) => v.len(),
            Storage::F32(v) => v.len() * 4,
        };
        obs + self.actions.len() * 2 + self.rewards.len() * 4 + self.flags.len() + self.tree.bytes()
    }

    /// Bytes per stored entry (≈ per transition).
    pub fn bytes_per_entry(&self) -> f64 {
        self.bytes() as f64 / self.flags.len() as f64
    }

    fn slot(&self, env: usize, entry: u64) -> usize {
        env * self.per_env + (entry % self.per_env as u64) as usize
    }

    /// Whether entry `a` of env `env` is still in the ring.
    fn stored(&self, env: usize, entry: u64) -> bool {
        entry < self.written[env] && entry + self.per_env as u64 >= self.written[env]
    }

    /// Records one step of env `env`.
    pub fn push(&mut self, env: usize, t: &Transition) {
        let mut flags = if t.episode_start { START } else { 0 };
        flags |= if t.terminated { TERMINATED } else { 0 } | if t.truncated { TRUNCATED } else { 0 };
        assert!(t.action <= u16::MAX as usize, "action index beyond u16");
        self.write(env, t.obs, flags, t.action as u16, t.reward);
        if t.terminated || t.truncated {
            let last = t.final_obs.unwrap_or(t.obs);
            self.write(env, last, FINAL, 0, 0.0);
        }
    }

    fn write(&mut self, env: usize, obs: ObsRef, flags: u8, action: u16, reward: f32) {
        let entry = self.written[env];
        let slot = self.slot(env, entry);
        // The slot's old entry leaves the buffer, and with it the stack history of the next
        // oldest entries: those can no longer be sampled.
        if entry >= self.per_env as u64 {
            self.set_priority(slot, 0.0);
            for later in 1..self.spec.stack as u64 {
                let old = entry - self.per_env as u64 + later;
                let s = self.slot(env, old);
                if !(1..=later).any(|back| self.flags[self.slot(env, old + 1 - back)] & START != 0) {
                    self.set_priority(s, 0.0);
                }
            }
        }
        let len = self.spec.obs_len;
        match (&mut self.storage, obs) {
            (Storage::U8(store), ObsRef::U8(o)) => store[slot * len..(slot + 1) * len].copy_from_slice(o),
            (Storage::F32(store), ObsRef::F32(o)) => store[slot * len..(slot + 1) * len].copy_from_slice(o),
            _ => panic!("observation kind differs from the buffer's"),
        }
        self.actions[slot] = action;
        self.rewards[slot] = reward;
        self.flags[slot] = flags;
        self.written[env] = entry + 1;

        // Entries whose n-step window ends at this new entry can now be sampled.
        for back in 1..=self.spec.n_step as u64 {
            let Some(earlier) = entry.checked_sub(back) else { break };
            if !self.stored(env, earlier) {
                break;
            }
            let s = self.slot(env, earlier);
            if self.flags[s] & FINAL == 0
                && self.bootstrap_entry(env, earlier).0 == entry
                && self.stack_intact(env, earlier)
            {
                let p = self.max_priority;
                self.set_priority(s, p);
            }
        }
    }

    /// The entry an n-step return from `entry` bootstraps from, and the steps m taken.
    fn bootstrap_entry(&self, env: usize, entry: u64) -> (u64, usize) {
        let mut m = 0;
        let mut at = entry;
        while m < self.spec.n_step {
            let flags = self.flags[self.slot(env, at)];
            m += 1;
            at += 1;
            if flags & (TERMINATED | TRUNCATED) != 0 {
                break;
            }
        }
        (at, m)
    }

    /// Whether every frame of `entry`'s stack is still stored.
    fn stack_intact(&self, env: usize, entry: u64) -> bool {
        let mut at = entry;
        for _ in 1..self.spec.stack {
            if self.flags[self.slot(env, at)] & START != 0 {
                return true;
            }
            match at.checked_sub(1) {
                Some(prev) if self.stored(env, prev) => at = prev,
                _ => return false,
            }
        }
        true
    }

    fn set_priority(&mut self, slot: usize, priority: f64) {
        let was = self.tree.get(slot) > 0.0;
        let is = priority > 0.0;
        self.complete = self.complete + is as usize - was as usize;
        self.tree.set(slot, priority);
    }

    /// Slots of the stack ending at `slot`'s entry, oldest first; frames before an episode start
    /// repeat its first frame, as the acting-time frame stack does.
    fn stack_slots(&self, env: usize, entry: u64, out: &mut Vec<usize>) {
        let start = out.len();
        let mut at = entry;
        out.push(self.slot(env, at));
        for _ in 1..self.spec.stack {
            if self.flags[self.slot(env, at)] & START == 0 && at > 0 && self.stored(env, at - 1) {
                at -= 1;
            }
            out.push(self.slot(env, at));
        }
        out[start..].reverse();
    }

    fn copy_obs(&self, slots: &[usize], out: &mut Vec<f32>) {
        let len = self.spec.obs_len;
        for &s in slots {
            match &self.storage {
                Storage::U8(store) => {
                    out.extend(store[s * len..(s + 1) * len].iter().map(|&v| v as f32 / 255.0))
                }
                Storage::F32(store) => out.extend_from_slice(&store[s * len..(s + 1) * len]),
            }
        }
    }

    /// Draws `size` entries (stratified over the priority mass) with importance exponent `beta`.
    pub fn sample(&self, size: usize, beta: f32, rng: &mut impl Rng) -> Batch {
        assert!(!self.is_empty(), "sampling from an empty replay buffer");
        let total = self.tree.total();
        let stack_len = self.spec.stack * self.spec.obs_len;
        let mut batch = Batch {
            size,
            obs: Vec::with_capacity(size * stack_len),
            next_obs: Vec::with_capacity(size * stack_len),
            ..Default::default()
        };
        let mut slots = Vec::with_capacity(self.spec.stack);
        let mut min_probability = f64::INFINITY;
        let mut probabilities = Vec::with_capacity(size);
        for i in 0..size {
            let mass = (i as f64 + rng.random::<f64>()) * total / size as f64;
            let slot = self.tree.find(mass.min(total * (1.0 - 1e-12)));
            let (env, entry) = self.entry_of(slot);
            let (boot, m) = self.bootstrap_entry(env, entry);
            let mut ret = 0.0;
            let mut terminated = false;
            for k in 0..m {
                let s = self.slot(env, entry + k as u64);
                ret += self.spec.gamma.powi(k as i32) * self.rewards[s];
                terminated |= self.flags[s] & TERMINATED != 0;
            }
            slots.clear();
            self.stack_slots(env, entry, &mut slots);
            self.copy_obs(&slots, &mut batch.obs);
            slots.clear();
            self.stack_slots(env, boot, &mut slots);
            self.copy_obs(&slots, &mut batch.next_obs);
            batch.actions.push(self.actions[slot] as usize);
            batch.returns.push(ret);
            batch.discounts.push(if terminated { 0.0 } else { self.spec.gamma.powi(m as i32) });
            batch.slots.push(slot);
            let p = self.tree.get(slot) / total;
            min_probability = min_probability.min(p);
            probabilities.push(p);
        }
        let n = self.complete as f64;
        let max_weight = (n * min_probability).powf(-beta as f64);
        batch.weights =
            probabilities.iter().map(|&p| ((n * p).powf(-beta as f64) / max_weight) as f32).collect();
        batch
    }

    /// The env and entry number stored in `slot`.
    fn entry_of(&self, slot: usize) -> (usize, u64) {
        let env = slot / self.per_env;
        let pos = (slot % self.per_env) as u64;
        let written = self.written[env];
        // The newest entry at ring position `pos`.
        let per = self.per_env as u64;
        let last = written - 1;
        let entry = last - ((last % per + per - pos) % per);
        (env, entry)
    }

    /// Sets the sampled entries' priorities from their TD errors (prioritised replay only).
    pub fn update_priorities(&mut self, slots: &[usize], td_errors: &[f32]) {
        let Some(alpha) = self.spec.alpha else { return };
        for (&slot, &td) in slots.iter().zip(td_errors) {
            if self.tree.get(slot) <= 0.0 {
                continue; // overwritten since it was sampled
            }
            let p = ((td.abs() + self.spec.priority_epsilon) as f64).powf(alpha as f64);
            let p = if p.is_finite() { p } else { self.max_priority };
            self.max_priority = self.max_priority.max(p);
            self.set_priority(slot, p);
        }
    }

    /// The buffer as bytes, for checkpoints.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes() + 1024);
        let header =
            serde_json::to_vec(&(&self.spec, self.per_env, &self.written, self.max_priority, self.complete))
                .expect("header serialises");
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        match &self.storage {
            Storage::U8(v) => {
                out.push(0);
                out.extend_from_slice(v);
            }
            Storage::F32(v) => {
                out.push(1);
                v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            }
        }
        self.actions.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        self.rewards.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        out.extend_from_slice(&self.flags);
        for slot in 0..self.flags.len() {
            out.extend_from_slice(&self.tree.get(slot).to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ReplayDecodeError> {
        let mut r = Reader { bytes, at: 0 };
        let header_len = u64::from_le_bytes(r.take(8)?.try_into().expect("8")) as usize;
        let (spec, per_env, written, max_priority, complete): (ReplaySpec, usize, Vec<u64>, f64, usize) =
            serde_json::from_slice(r.take(header_len)?).map_err(ReplayDecodeError::Header)?;
        // Everything the header says is checked against the bytes before anything is allocated:
        // a damaged header must not ask for terabytes.
        if spec.envs == 0 || spec.stack == 0 || spec.n_step == 0 || written.len() != spec.envs {
            return Err(ReplayDecodeError::Layout);
        }
        let frames = match r.take(1)?[0] {
            0 => true,
            1 => false,
            _ => return Err(ReplayDecodeError::Layout),
        };
        let expected_per_env = (spec.capacity / spec.envs).max(spec.stack + spec.n_step + 2);
        let value_bytes = if frames { 1 } else { 4 };
        let body = expected_per_env.checked_mul(spec.envs).and_then(|slots| {
            slots.checked_mul(spec.obs_len.checked_mul(value_bytes)?.checked_add(2 + 4 + 1 + 8)?)
        });
        if expected_per_env != per_env || body != Some(bytes.len() - r.at) {
            return Err(ReplayDecodeError::Layout);
        }
        if !(max_priority.is_finite() && max_priority > 0.0) || complete > per_env * spec.envs {
            return Err(ReplayDecodeError::Layout);
        }
        let mut buffer = ReplayBuffer::new(spec, frames);
        let slots = buffer.flags.len();
        match &mut buffer.storage {
            Storage::U8(v) => {
                let n = v.len();
                v.copy_from_slice(r.take(n)?)
            }
            Storage::F32(v) => {
                let raw = r.take(v.len() * 4)?;
                for (x, b) in v.iter_mut().zip(raw.chunks_exact(4)) {
                    *x = f32::from_le_bytes(b.try_into().expect("4"));
                }
            }
        }
        for (x, b) in buffer.actions.iter_mut().zip(r.take(slots * 2)?.chunks_exact(2)) {
            *x = u16::from_le_bytes(b.try_into().expect("2"));
        }
        for (x, b) in buffer.rewards.iter_mut().zip(r.take(slots * 4)?.chunks_exact(4)) {
            *x = f32::from_le_bytes(b.try_into().expect("4"));
        }
        buffer.flags.copy_from_slice(r.take(slots)?);
        let priorities = r.take(slots * 8)?;
        for (slot, b) in priorities.chunks_exact(8).enumerate() {
            let priority = f64::from_le_bytes(b.try_into().expect("8"));
            if !(priority.is_finite() && priority >= 0.0) {
                return Err(ReplayDecodeError::Layout);
            }
            buffer.tree.set(slot, priority);
        }
        if r.at != bytes.len() {
            return Err(ReplayDecodeError::Trailing(bytes.len() - r.at));
        }
        buffer.written = written;
        buffer.max_priority = max_priority;
        buffer.complete = complete;
        Ok(buffer)
    }
}

/// Bytes that are not a saved replay buffer.
#[derive(Debug, thiserror::Error)]
pub enum ReplayDecodeError {
    #[error("replay buffer is truncated")]
    Truncated,
    #[error("replay header: {0}")]
    Header(serde_json::Error),
    #[error("replay buffer layout disagrees with its header")]
    Layout,
    #[error("{0} trailing bytes after the replay buffer")]
    Trailing(usize),
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ReplayDecodeError> {
        let end =
            self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or(ReplayDecodeError::Truncated)?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn spec(capacity: usize, stack: usize, n_step: usize) -> ReplaySpec {
        ReplaySpec {
            capacity,
            envs: 1,
            obs_len: 1,
            stack,
            n_step,
            gamma: 0.5,
            alpha: None,
            priority_epsilon: 1e-6,
        }
    }

    /// Pushes an episode whose frames are `first..first+len` (frame value = step id) and whose
    /// last step ends it as given; the final observation is frame `first + len`.
    fn episode(buffer: &mut ReplayBuffer, first: u8, len: u8, terminated: bool) {
        for i in 0..len {
            let frame = [first + i];
            let last = i + 1 == len;
            let final_frame = [first + len];
            buffer.push(
                0,
                &Transition {
                    obs: ObsRef::U8(&frame),
                    episode_start: i == 0,
                    action: i as usize,
                    reward: 1.0,
                    terminated: last && terminated,
                    truncated: last && !terminated,
                    final_obs: last.then_some(ObsRef::U8(&final_frame)),
                },
            );
        }
    }

    /// Every sampleable entry, sampled many times: (obs stack, next stack, return, discount) by action.
    /// (obs stack, next stack, action, return, discount)
    type Draw = (Vec<u8>, Vec<u8>, usize, f32, f32);

    fn draws(buffer: &ReplayBuffer) -> Vec<Draw> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let batch = buffer.sample(400, 0.0, &mut rng);
        let k = buffer.spec().stack;
        let to_u8 = |v: &[f32]| v.iter().map(|x| (x * 255.0).round() as u8).collect::<Vec<_>>();
        let mut out: Vec<_> = (0..batch.size)
            .map(|i| {
                (
                    to_u8(&batch.obs[i * k..(i + 1) * k]),
                    to_u8(&batch.next_obs[i * k..(i + 1) * k]),
                    batch.actions[i],
                    batch.returns[i],
                    batch.discounts[i],
                )
            })
            .collect();
        out.sort_by(|a, b| a.partial_cmp(b).unwrap());
        out.dedup();
        out
    }

    #[test]
    fn stacks_restart_at_episode_starts_and_next_observations_cross_no_boundary() {
        let mut buffer = ReplayBuffer::new(spec(100, 3, 1), true);
        episode(&mut buffer, 10, 3, true); // frames 10, 11, 12; final 13
        episode(&mut buffer, 20, 2, false); // frames 20, 21; final 22 (truncated)
        assert_eq!(buffer.len(), 5, "five transitions; the two final observations are not sampled");
        let d = draws(&buffer);
        assert_eq!(
            d,
            vec![
                (vec![10, 10, 10], vec![10, 10, 11], 0, 1.0, 0.5),
                (vec![10, 10, 11], vec![10, 11, 12], 1, 1.0, 0.5),
                // Terminated: no bootstrap.
                (vec![10, 11, 12], vec![11, 12, 13], 2, 1.0, 0.0),
                // The next episode's stack never shows frames of the previous one.
                (vec![20, 20, 20], vec![20, 20, 21], 0, 1.0, 0.5),
                // Truncated: bootstraps from the stored final observation.
                (vec![20, 20, 21], vec![20, 21, 22], 1, 1.0, 0.5),
            ]
        );
    }

    #[test]
    fn n_step_returns_stop_at_episode_ends() {
        let mut buffer = ReplayBuffer::new(spec(100, 1, 3), true);
        episode(&mut buffer, 10, 4, true); // rewards 1 each, γ = 0.5
        let d = draws(&buffer);
        let by_action: Vec<(usize, f32, f32, u8)> = d.iter().map(|x| (x.2, x.3, x.4, x.1[0])).collect();
        assert_eq!(
            by_action,
            vec![
                (0, 1.75, 0.125, 13), // 1 + .5 + .25, bootstraps from frame 13 with γ³
                (1, 1.75, 0.0, 14),   // reaches the terminal step: no bootstrap
                (2, 1.5, 0.0, 14),
                (3, 1.0, 0.0, 14),
            ]
        );
        // An unfinished episode's last n−1 steps wait for their windows to fill.
        let mut buffer = ReplayBuffer::new(spec(100, 1, 3), true);
        for i in 0..4u8 {
            let frame = [i];
            buffer.push(
                0,
                &Transition {
                    obs: ObsRef::U8(&frame),
                    episode_start: i == 0,
                    action: 0,
                    reward: 0.0,
                    terminated: false,
                    truncated: false,
                    final_obs: None,
                },
            );
        }
        assert_eq!(buffer.len(), 1, "only step 0 has three successors");
    }

    #[test]
    fn the_ring_overwrites_the_oldest_and_never_samples_a_broken_stack() {
        let mut buffer = ReplayBuffer::new(spec(8, 3, 1), true);
        for e in 0..6u8 {
            episode(&mut buffer, 10 * (e + 1), 4, false);
        }
        assert!(buffer.len() <= 8);
        for (obs, next, ..) in draws(&buffer) {
            // Frames of one stack come from one episode (same tens digit) and are in order.
            assert!(obs.iter().all(|f| f / 10 == obs[2] / 10), "{obs:?}");
            assert!(obs.windows(2).all(|w| w[0] <= w[1]), "{obs:?}");
            assert!(next.iter().all(|f| f / 10 == obs[2] / 10), "{next:?}");
            assert!(obs[2] / 10 >= 5, "only the newest episodes survive in 8 slots: {obs:?}");
        }
    }

    #[test]
    fn frames_are_stored_once_per_transition() {
        let frame = vec![0u8; 84 * 84];
        let mut buffer =
            ReplayBuffer::new(ReplaySpec { obs_len: 84 * 84, stack: 4, envs: 8, ..spec(10_000, 4, 3) }, true);
        for env in 0..8 {
            for i in 0..20 {
                buffer.push(
                    env,
                    &Transition {
                        obs: ObsRef::U8(&frame),
                        episode_start: i == 0,
                        action: 1,
                        reward: 0.0,
                        terminated: false,
                        truncated: false,
                        final_obs: None,
                    },
                );
            }
        }
        let ratio = buffer.bytes_per_entry() / (84.0 * 84.0);
        assert!(ratio < 1.01, "{ratio}");
    }

    #[test]
    fn prioritised_sampling_follows_td_errors_and_round_trips() {
        let mut buffer = ReplayBuffer::new(ReplaySpec { alpha: Some(1.0), ..spec(100, 1, 1) }, false);
        for i in 0..4 {
            let obs = [i as f32];
            buffer.push(
                0,
                &Transition {
                    obs: ObsRef::F32(&obs),
                    episode_start: i == 0,
                    action: i,
                    reward: 0.0,
                    terminated: i == 3,
                    truncated: false,
                    final_obs: Some(ObsRef::F32(&[9.0])),
                },
            );
        }
        assert_eq!(buffer.len(), 4);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let batch = buffer.sample(4, 1.0, &mut rng);
        let mut slot_of = [0usize; 4];
        for (slot, a) in batch.slots.iter().zip(&batch.actions) {
            slot_of[*a] = *slot;
        }
        buffer.update_priorities(&slot_of, &[0.0, 1.0, 3.0, 0.0]);
        let mut counts = [0usize; 4];
        let mut weights = [0f32; 4];
        for _ in 0..2000 {
            let b = buffer.sample(8, 1.0, &mut rng);
            for (a, w) in b.actions.iter().zip(&b.weights) {
                counts[*a] += 1;
                weights[*a] = *w;
            }
        }
        assert!(counts[0] < 5 && counts[3] < 5, "{counts:?}");
        let share = counts[2] as f64 / (counts[1] + counts[2]) as f64;
        assert!((share - 0.75).abs() < 0.03, "{counts:?}");
        assert!(weights[1] > weights[2], "rarely drawn entries weigh more: {weights:?}");

        let copy = ReplayBuffer::from_bytes(&buffer.to_bytes()).unwrap();
        assert_eq!(copy, buffer);
        assert!(ReplayBuffer::from_bytes(&buffer.to_bytes()[..50]).is_err());
    }
}
