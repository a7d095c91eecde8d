//! `lepton._lepton`: Lepton's vector env for Python. One `VecEnv` steps all its envs in Rust (in
//! parallel, with the GIL released) and writes observations, rewards and episode ends into numpy
//! arrays allocated once; the Python layer (`lepton.gym`, `lepton.sb3`) turns them into
//! Gymnasium's and Stable-Baselines3's shapes. Bad input — an unknown scenario, a broken file, an
//! action out of range — raises `lepton.LeptonError` with the message the command line prints.

mod multi_agent;

use lepton_perception::{Percept, Perception, PerceptionKind};
use lepton_sim::drivers::KeepLane;
use lepton_sim::scenario::{self, FrameFormat, Scenario};
use lepton_sim::{Act, CameraSensors, Reset};
use lepton_sim::{Control, DrivingState, Info, Observation};
use numpy::{
    PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

pyo3::create_exception!(
    _lepton,
    LeptonError,
    PyValueError,
    "Lepton's error: bad input (the message names the file, field or value), or a failure it \
     could not work around (a renderer with no Vulkan device), with the command line's message."
);

/// Moves a value into `Python::detach`: the vector env is not `Send` (its renderer holds a bevy
/// app), but it is only ever used from the thread that owns this Python object (`unsendable`),
/// which waits for the closure.
struct AssertSend<T>(T);
// SAFETY: see above — the closure runs on this thread while the GIL is released, nothing else
// touches the value meanwhile.
unsafe impl<T> Send for AssertSend<T> {}
impl<T> AssertSend<T> {
    fn get(self) -> T {
        self.0
    }
}

fn bad(message: impl ToString) -> PyErr {
    LeptonError::new_err(message.to_string())
}

/// `actions=`: the scenario's own kind (`"scenario"`), its key set (`"discrete"`), or
/// `[steer, throttle]` within its ranges, the full ranges where it gives none (`"continuous"`).
fn choose_actions(scenario: &mut Scenario, actions: &str) -> PyResult<()> {
    match actions {
        "scenario" => {}
        "discrete" => scenario.actions.continuous = None,
        "continuous" => scenario.actions.continuous = Some(scenario.actions.continuous.unwrap_or_default()),
        other => {
            return Err(bad(format!(
                "actions must be \"scenario\" (the file's), \"discrete\" or \"continuous\" (got {other:?})"
            )));
        }
    }
    Ok(())
}

/// The state's documented bounds (the Box of the state observation): lane offset ±10 m, heading
/// error ±π, speed −20…60 m/s, curvature ±1 /m, gaps 0…60 m. Values are clipped into them (an
/// episode ends off the road long before the lane offset reaches 10 m).
const STATE_LOW: [f32; DrivingState::LEN] = [-10.0, -std::f32::consts::PI, -20.0, -1.0, 0.0, 0.0, 0.0];
const STATE_HIGH: [f32; DrivingState::LEN] = [10.0, std::f32::consts::PI, 60.0, 1.0, 60.0, 60.0, 60.0];

/// The most envs one vector env steps (`lepton._lepton.MAX_ENVS`, which the Python layer checks
/// against before it calls in).
const MAX_ENVS: usize = 4096;

/// What an observation holds: one part (its array), or several (a dict of them, in the order
/// asked for).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    State,
    Frames,
    Perception,
    Lidar,
    Depth,
    Semantic,
    Vehicles,
}

impl Part {
    const ALL: [Part; 7] = [
        Part::State,
        Part::Frames,
        Part::Perception,
        Part::Lidar,
        Part::Depth,
        Part::Semantic,
        Part::Vehicles,
    ];

    fn name(self) -> &'static str {
        match self {
            Part::State => "state",
            Part::Frames => "frames",
            Part::Perception => "perception",
            Part::Lidar => "lidar",
            Part::Depth => "depth",
            Part::Semantic => "semantic",
            Part::Vehicles => "vehicles",
        }
    }
}

/// The observation's parts from `observation`: one name, or several separated by commas.
fn parts(observation: &str) -> PyResult<Vec<Part>> {
    let names: Vec<&str> = Part::ALL.iter().map(|p| p.name()).collect();
    let mut parts = Vec::new();
    for name in observation.split(',').map(str::trim) {
        let part = Part::ALL.iter().copied().find(|p| p.name() == name).ok_or_else(|| {
            bad(format!(
                "observation must be one of {} or several of them (got {name:?})",
                names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
            ))
        })?;
        if parts.contains(&part) {
            return Err(bad(format!("observation names {name:?} twice")));
        }
        parts.push(part);
    }
    if parts.contains(&Part::State) && parts.contains(&Part::Perception) {
        return Err(bad(
            "observation: \"state\" and \"perception\" are the same row (the true state or the CNN's); ask for one",
        ));
    }
    Ok(parts)
}

/// A current and a last (for ended episodes) buffer of one part.
type Rows<T> = Option<(Py<PyArrayDyn<T>>, Py<PyArrayDyn<T>>)>;

/// `num_envs` environments of one scenario; env i is seeded `seed + i`, exactly as in
/// `lepton rollout` and training.
#[pyclass(unsendable, module = "lepton._lepton")]
pub struct VecEnv {
    envs: lepton_sim::VecEnv,
    scenario: Arc<Scenario>,
    parts: Vec<Part>,
    /// The CNN, for the perception observation.
    perception: Option<Perception>,
    frame_shape: Option<(usize, usize, usize)>,
    obs: Py<PyArrayDyn<f32>>,
    frames: Option<Py<PyArrayDyn<u8>>>,
    final_obs: Py<PyArrayDyn<f32>>,
    final_frames: Option<Py<PyArrayDyn<u8>>>,
    /// The lidar's range images, the depth camera's metres and the semantic camera's classes,
    /// when asked for.
    lidar: Rows<f32>,
    depth: Rows<f32>,
    semantic: Rows<u8>,
    /// The object list's rows (count × 7), when asked for.
    vehicles: Rows<f32>,
    rewards: Py<PyArray1<f32>>,
    terminated: Py<PyArray1<bool>>,
    truncated: Py<PyArray1<bool>>,
    episode_seed: Py<PyArray1<u64>>,
    progress: Py<PyArray1<f32>>,
    episode_return: Py<PyArray1<f32>>,
    episode_length: Py<PyArray1<u32>>,
    /// Each env's end reason on the step just taken (`None` while running).
    ends: Vec<Option<&'static str>>,
    /// The traffic light each env's lane shows ahead, and how far it is (m), if any.
    lights_ahead: Vec<Option<(&'static str, f32)>>,
    /// Each env's true driving state now, for the scripted lane keeper.
    truth: Vec<DrivingState>,
    keep_lane: KeepLane,
    controls: Vec<Control>,
}

#[pymethods]
impl VecEnv {
    #[new]
    #[pyo3(signature = (scenario, num_envs, seed, observation="state", model=None, autoreset=true, actions="scenario"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        scenario: &str,
        num_envs: usize,
        seed: u64,
        observation: &str,
        model: Option<PathBuf>,
        autoreset: bool,
        actions: &str,
    ) -> PyResult<Self> {
        if num_envs == 0 || num_envs > MAX_ENVS {
            return Err(bad(format!("num_envs must be from 1 to {MAX_ENVS} (got {num_envs})")));
        }
        let parts = parts(observation)?;
        let has = |part| parts.contains(&part);
        if has(Part::Perception) != model.is_some() {
            return Err(bad(
                "observation=\"perception\" takes model=MODEL_DIR (a trained CNN), and only it does",
            ));
        }
        let mut scenario = scenario::load_named(scenario).map_err(bad)?;
        choose_actions(&mut scenario, actions)?;
        if has(Part::Lidar) && scenario.lidar.is_none() {
            // A scenario without a lidar gets the default one (the file's `lidar:` sets its own).
            scenario.lidar = Some(Default::default());
        }
        if has(Part::Vehicles) && scenario.vehicles.is_none() {
            // The same for the object list: 8 rows out to 80 m unless the file says otherwise.
            scenario.vehicles = Some(Default::default());
        }
        let scenario = Arc::new(scenario);
        let perception = match &model {
            Some(dir) => {
                let kind = PerceptionKind::Cnn { model: dir.clone() };
                let device = lepton_perception::device::parse_device("cpu").map_err(bad)?;
                Some(Perception::new(&kind, num_envs, &device).map_err(bad)?)
            }
            None => None,
        };
        let needs_camera = [Part::Frames, Part::Perception, Part::Depth, Part::Semantic].into_iter().any(has);
        let sensors = CameraSensors { depth: has(Part::Depth), semantic: has(Part::Semantic) };
        let mut envs = if needs_camera {
            let scenario = scenario.clone();
            py.detach(move || AssertSend(lepton_render::sensor_vec_env(scenario, num_envs, seed, sensors)))
                .get()
                .map_err(bad)?
        } else {
            lepton_sim::VecEnv::new(scenario.clone(), num_envs, seed)
        };
        envs.set_autoreset(autoreset);
        let c = &scenario.camera;
        let channels = match c.format {
            FrameFormat::Rgb => 3,
            FrameFormat::Grey => 1,
        };
        let frame_shape = has(Part::Frames).then_some((c.height as usize, c.width as usize, channels));
        let n = num_envs;
        let (h, w) = (c.height as usize, c.width as usize);
        let lidar = match &scenario.lidar {
            Some(l) if has(Part::Lidar) => {
                Some(zeroed_rows::<f32>(py, [n, l.channels as usize, l.rays as usize]))
            }
            _ => None,
        };
        let depth = has(Part::Depth).then(|| zeroed_rows::<f32>(py, [n, h, w]));
        let semantic = has(Part::Semantic).then(|| zeroed_rows::<u8>(py, [n, h, w]));
        let vehicles = match &scenario.vehicles {
            Some(list) if has(Part::Vehicles) => {
                Some(zeroed_rows::<f32>(py, [n, list.count as usize, lepton_sim::vehicle_list::ROW]))
            }
            _ => None,
        };
        let frames_buffer =
            |py| frame_shape.map(|(h, w, c)| PyArrayDyn::<u8>::zeros(py, vec![n, h, w, c], false).unbind());
        Ok(Self {
            envs,
            parts,
            perception,
            frame_shape,
            obs: PyArrayDyn::<f32>::zeros(py, vec![n, DrivingState::LEN], false).unbind(),
            frames: frames_buffer(py),
            final_obs: PyArrayDyn::<f32>::zeros(py, vec![n, DrivingState::LEN], false).unbind(),
            final_frames: frames_buffer(py),
            lidar,
            depth,
            semantic,
            vehicles,
            rewards: PyArray1::zeros(py, n, false).unbind(),
            terminated: PyArray1::zeros(py, n, false).unbind(),
            truncated: PyArray1::zeros(py, n, false).unbind(),
            episode_seed: PyArray1::zeros(py, n, false).unbind(),
            progress: PyArray1::zeros(py, n, false).unbind(),
            episode_return: PyArray1::zeros(py, n, false).unbind(),
            episode_length: PyArray1::zeros(py, n, false).unbind(),
            ends: vec![None; n],
            lights_ahead: vec![None; n],
            truth: vec![DrivingState::default(); n],
            keep_lane: KeepLane::new(
                scenario.reward.target_speed,
                scenario.ego.vehicle.max_steer,
                scenario.ego.vehicle.length,
            ),
            controls: scenario.actions.controls(),
            scenario,
        })
    }

    #[getter]
    fn num_envs(&self) -> usize {
        self.envs.len()
    }

    #[getter]
    fn num_actions(&self) -> usize {
        self.envs.num_actions()
    }

    /// Whether the agent gives `[steer, throttle]` (`step_continuous`) instead of an index.
    #[getter]
    fn continuous(&self) -> bool {
        self.scenario.actions.continuous.is_some()
    }

    /// The lowest and highest continuous action, `[steer, throttle]` (the full ranges for a
    /// discrete scenario).
    #[getter]
    fn action_low(&self) -> Vec<f32> {
        self.scenario.actions.continuous.unwrap_or_default().low().to_vec()
    }

    #[getter]
    fn action_high(&self) -> Vec<f32> {
        self.scenario.actions.continuous.unwrap_or_default().high().to_vec()
    }

    #[getter]
    fn scenario_name(&self) -> String {
        self.scenario.name.clone()
    }

    /// The scenario's own seed (what `lepton rollout` uses without --seed).
    #[getter]
    fn scenario_seed(&self) -> u64 {
        self.scenario.seed
    }

    /// Seconds of simulated time per step (physics dt × action repeat).
    #[getter]
    fn step_seconds(&self) -> f32 {
        self.scenario.episode.dt * self.scenario.actions.repeat as f32
    }

    #[getter]
    fn state_names(&self) -> Vec<&'static str> {
        DrivingState::NAMES.to_vec()
    }

    #[getter]
    fn state_low(&self) -> Vec<f32> {
        STATE_LOW.to_vec()
    }

    #[getter]
    fn state_high(&self) -> Vec<f32> {
        STATE_HIGH.to_vec()
    }

    /// (height, width, channels) of the frames observation; None for the state observations.
    #[getter]
    fn frame_shape(&self) -> Option<(usize, usize, usize)> {
        self.frame_shape
    }

    /// (channels, rays) of the lidar observation's range image; None for the other observations.
    #[getter]
    fn lidar_shape(&self) -> Option<(usize, usize)> {
        let lidar = self.scenario.lidar.as_ref().filter(|_| self.lidar.is_some())?;
        Some((lidar.channels as usize, lidar.rays as usize))
    }

    /// (rows, 7) of the object-list observation; None for the other observations.
    #[getter]
    fn vehicles_shape(&self) -> Option<(usize, usize)> {
        let list = self.scenario.vehicles.as_ref().filter(|_| self.vehicles.is_some())?;
        Some((list.count as usize, lepton_sim::vehicle_list::ROW))
    }

    /// The object list's farthest object (m, centre to centre).
    #[getter]
    fn vehicles_range(&self) -> Option<f32> {
        self.scenario.vehicles.as_ref().map(|list| list.range)
    }

    /// The lidar's farthest return (m): the range image's value where a beam hit nothing.
    #[getter]
    fn lidar_range(&self) -> Option<f32> {
        self.scenario.lidar.as_ref().map(|lidar| lidar.range)
    }

    /// Each row's elevation and each column's azimuth (radians; azimuth counter-clockwise from
    /// straight ahead), for turning range images into points.
    #[getter]
    fn lidar_angles(&self) -> Option<(Vec<f32>, Vec<f32>)> {
        let beams = lepton_sim::LidarBeams::new(self.scenario.lidar.as_ref()?);
        Some((beams.elevations().to_vec(), beams.azimuths().to_vec()))
    }

    /// The names of the observation's parts, in order (one: the observation is that array;
    /// several: a dict of them).
    #[getter]
    fn parts(&self) -> Vec<&'static str> {
        self.parts.iter().map(|p| p.name()).collect()
    }

    /// (height, width) of the depth and semantic images, when asked for.
    #[getter]
    fn image_shape(&self) -> Option<(usize, usize)> {
        (self.depth.is_some() || self.semantic.is_some())
            .then(|| (self.scenario.camera.height as usize, self.scenario.camera.width as usize))
    }

    /// The most a depth pixel reads (m): where nothing at all was drawn.
    #[getter]
    fn depth_limit(&self) -> f32 {
        lepton_render::NOTHING_DRAWN_DEPTH
    }

    /// The buffers the last reset or step wrote (shared: valid until the next call).
    #[getter]
    fn obs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.observation(py, false)
    }

    #[getter]
    fn final_obs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.observation(py, true)
    }

    #[getter]
    fn rewards<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        self.rewards.bind(py).clone()
    }

    #[getter]
    fn terminated<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        self.terminated.bind(py).clone()
    }

    #[getter]
    fn truncated<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        self.truncated.bind(py).clone()
    }

    #[getter]
    fn episode_seed<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        self.episode_seed.bind(py).clone()
    }

    #[getter]
    fn progress<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        self.progress.bind(py).clone()
    }

    /// For envs whose episode ended on the last step: its return and length (0 otherwise).
    #[getter]
    fn episode_return<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        self.episode_return.bind(py).clone()
    }

    #[getter]
    fn episode_length<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        self.episode_length.bind(py).clone()
    }

    /// Each env's end reason on the last step (`collision`, `off_road`, `success`, `time_limit`,
    /// `flipped`, `stuck`, `physics_invalid`, and on road networks `wrong_way`, `red_light`), or
    /// None.
    #[getter]
    fn ends(&self) -> Vec<Option<&'static str>> {
        self.ends.clone()
    }

    /// Each env's traffic light ahead on its lane after the last reset or step, as
    /// (`"green"`/`"amber"`/`"red"`, metres to its stop line), or None (no light on the way, or
    /// no lights in the scenario).
    #[getter]
    fn lights_ahead(&self) -> Vec<Option<(&'static str, f32)>> {
        self.lights_ahead.clone()
    }

    /// The scripted lane keeper's action for every env (from the true state, as `lepton eval
    /// keep-lane:SCENARIO` drives): a baseline, and the driver of the benchmarks.
    fn keep_lane_actions<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let actions: Vec<i64> =
            self.truth.iter().map(|s| self.keep_lane.act(s, &self.controls) as i64).collect();
        PyArray1::from_vec(py, actions)
    }

    /// Restarts env i's seed stream at `seed + i` and writes the first observations.
    fn reset(&mut self, py: Python<'_>, seed: u64) -> PyResult<()> {
        let envs = AssertSend((&mut self.envs, frame_rows(py, &self.frames, &self.final_frames)));
        let first = py
            .detach(move || {
                let (envs, mut rows) = envs.get();
                envs.try_reset(Reset::All(seed), rows.as_mut())
            })
            .map_err(bad)?;
        let all: Vec<usize> = (0..first.len()).collect();
        self.write_first(py, &all, first)
    }

    /// Resets the envs `indices`, each with its seed (restarting its stream) or None
    /// (continuing it), and writes their rows of the observation.
    fn reset_some(&mut self, py: Python<'_>, indices: Vec<usize>, seeds: Vec<Option<u64>>) -> PyResult<()> {
        let n = self.envs.len();
        if indices.len() != seeds.len() || indices.iter().any(|&i| i >= n) {
            return Err(bad(format!("reset_some: one seed per index, indices below {n}")));
        }
        let which: Vec<(usize, Option<u64>)> = indices.iter().copied().zip(seeds).collect();
        let envs = AssertSend((&mut self.envs, frame_rows(py, &self.frames, &self.final_frames)));
        let first = py
            .detach(move || {
                let (envs, mut rows) = envs.get();
                envs.try_reset(Reset::These(&which), rows.as_mut())
            })
            .map_err(bad)?;
        self.write_first(py, &indices, first)
    }

    /// Steps every env with its action (all in parallel, the GIL released) and writes the
    /// buffers. With autoreset, an env whose episode ended is reset in the same step: `obs` holds
    /// its next episode's first observation and `final_obs` the ended one's last.
    /// Returns how many episodes ended.
    fn step(&mut self, py: Python<'_>, actions: PyReadonlyArray1<'_, i64>) -> PyResult<usize> {
        let n = self.envs.len();
        let k = self.envs.num_actions();
        let actions = actions.as_slice().map_err(|e| bad(format!("actions: {e}")))?;
        if actions.len() != n {
            return Err(bad(format!("actions: one per env, {n} in all (got {})", actions.len())));
        }
        let mut chosen = Vec::with_capacity(n);
        for (i, &a) in actions.iter().enumerate() {
            if !(0..k as i64).contains(&a) {
                return Err(bad(format!(
                    "action {a} of env {i} is out of range: {} has {k} actions (0 to {})",
                    self.scenario.name,
                    k - 1
                )));
            }
            chosen.push(a as usize);
        }
        self.step_with(py, Chosen::Discrete(chosen))
    }

    /// Steps every env with its continuous action, rows of `[steer, throttle]` (each clipped into
    /// the scenario's `actions.continuous` ranges), as `step` does. Returns how many episodes
    /// ended.
    fn step_continuous(&mut self, py: Python<'_>, actions: PyReadonlyArray2<'_, f32>) -> PyResult<usize> {
        let n = self.envs.len();
        let shape = actions.shape().to_vec();
        if shape != [n, 2] {
            return Err(bad(format!(
                "actions: one [steer, throttle] per env, shape ({n}, 2) (got shape {shape:?})"
            )));
        }
        let array = actions.as_array();
        let mut chosen = Vec::with_capacity(n);
        for (i, row) in array.outer_iter().enumerate() {
            let action = [row[0], row[1]];
            if !action.iter().all(|v| v.is_finite()) {
                return Err(bad(format!(
                    "action {action:?} of env {i} is not finite: give [steer, throttle] as numbers"
                )));
            }
            chosen.push(action);
        }
        self.step_with(py, Chosen::Continuous(chosen))
    }
}

/// What the agents chose, owned so that it can cross into the GIL-free closure.
enum Chosen {
    Discrete(Vec<usize>),
    Continuous(Vec<[f32; 2]>),
}

impl VecEnv {
    /// Steps every env with `chosen` and writes the buffers (see `step`).
    fn step_with(&mut self, py: Python<'_>, chosen: Chosen) -> PyResult<usize> {
        let n = self.envs.len();
        let envs = AssertSend((&mut self.envs, frame_rows(py, &self.frames, &self.final_frames), chosen));
        let step = py
            .detach(move || {
                let (envs, mut rows, chosen) = envs.get();
                let act = match &chosen {
                    Chosen::Discrete(actions) => Act::Discrete(actions),
                    Chosen::Continuous(actions) => Act::Continuous(actions),
                };
                envs.try_step(act, rows.as_mut())
            })
            .map_err(bad)?;
        {
            let (rewards, terminated, truncated) =
                (self.rewards.bind(py), self.terminated.bind(py), self.truncated.bind(py));
            buffer(rewards).copy_from_slice(&step.rewards);
            buffer(terminated).copy_from_slice(&step.terminated);
            buffer(truncated).copy_from_slice(&step.truncated);
            let (ret, len) = (self.episode_return.bind(py), self.episode_length.bind(py));
            let (ret, len) = (buffer(ret), buffer(len));
            for (i, e) in step.episodes.iter().enumerate() {
                ret[i] = e.map_or(0.0, |e| e.episode_return);
                len[i] = e.map_or(0, |e| e.length);
                self.ends[i] = step.infos[i].end.map(lepton_sim::EndReason::name);
            }
        }
        let all: Vec<usize> = (0..n).collect();
        self.write_infos(py, &all, &step.infos);
        let obs: Vec<&Observation> = step.obs.iter().collect();
        self.write_obs(py, &all, &obs, false)?;
        let with_final: Vec<usize> = (0..n).filter(|&i| step.final_obs[i].is_some()).collect();
        if !with_final.is_empty() {
            let finals: Vec<&Observation> =
                with_final.iter().filter_map(|&i| step.final_obs[i].as_ref()).collect();
            self.write_obs(py, &with_final, &finals, true)?;
        }
        Ok(step.episodes.iter().flatten().count())
    }

    fn write_first(
        &mut self,
        py: Python<'_>,
        indices: &[usize],
        first: Vec<(Observation, Info)>,
    ) -> PyResult<()> {
        let (obs, infos): (Vec<Observation>, Vec<Info>) = first.into_iter().unzip();
        self.write_infos(py, indices, &infos);
        for &i in indices {
            self.ends[i] = None;
        }
        let refs: Vec<&Observation> = obs.iter().collect();
        self.write_obs(py, indices, &refs, false)
    }

    /// Each listed env's episode seed and progress.
    fn write_infos(&mut self, py: Python<'_>, indices: &[usize], infos: &[Info]) {
        let (seeds, progress) = (self.episode_seed.bind(py), self.progress.bind(py));
        let (seeds, progress) = (buffer(seeds), buffer(progress));
        for (&i, info) in indices.iter().zip(infos) {
            seeds[i] = info.episode_seed;
            progress[i] = info.progress;
            self.lights_ahead[i] = info.light_ahead.map(|(light, metres)| (light.name(), metres));
        }
    }

    /// Writes the observations of envs `indices` into rows of `obs` (or `final_obs`).
    fn write_obs(
        &mut self,
        py: Python<'_>,
        indices: &[usize],
        observations: &[&Observation],
        last: bool,
    ) -> PyResult<()> {
        if !last {
            for (&i, o) in indices.iter().zip(observations) {
                self.truth[i] = o.state.driving;
            }
        }
        for k in 0..self.parts.len() {
            match self.parts[k] {
                Part::State => {
                    let states: Vec<[f32; DrivingState::LEN]> =
                        observations.iter().map(|o| o.state.to_array()).collect();
                    self.write_states(py, indices, &states, last)?;
                }
                Part::Perception => {
                    let perception = self.perception.as_mut().expect("a perception observation has its CNN");
                    // The CNN reads the frames in one batch; a frame stack does not apply (a state).
                    let starts = vec![false; observations.len()];
                    let percepts = AssertSend((perception, observations, starts));
                    let percepts = py
                        .detach(move || {
                            let (perception, observations, starts) = percepts.get();
                            perception.perceive_envs(indices, observations, &starts)
                        })
                        .map_err(bad)?;
                    let states: Vec<[f32; DrivingState::LEN]> = percepts
                        .iter()
                        .map(|p| match p {
                            Percept::State(s) => s.to_vec(),
                            Percept::Frames(_) | Percept::Vehicles(_) => unreachable!("a CNN gives states"),
                        })
                        .collect();
                    self.write_states(py, indices, &states, last)?;
                }
                // The renderer wrote the frames into their rows already (see `frame_rows`).
                Part::Frames => {}
                Part::Lidar => {
                    write_rows(py, &self.lidar, indices, observations, last, |o| o.lidar.as_deref())
                }
                Part::Depth => {
                    write_rows(py, &self.depth, indices, observations, last, |o| o.depth.as_deref())
                }
                Part::Semantic => {
                    write_rows(py, &self.semantic, indices, observations, last, |o| o.semantic.as_deref())
                }
                Part::Vehicles => {
                    write_rows(py, &self.vehicles, indices, observations, last, |o| o.vehicles.as_deref())
                }
            }
        }
        Ok(())
    }

    /// The observation buffers (`last`: of ended episodes): the one part's array, or a dict.
    fn observation<'py>(&self, py: Python<'py>, last: bool) -> PyResult<Bound<'py, PyAny>> {
        let array = |part: Part| -> Bound<'py, PyAny> {
            match part {
                Part::State | Part::Perception => {
                    if last { &self.final_obs } else { &self.obs }.bind(py).clone().into_any()
                }
                Part::Frames => {
                    let (current, ended) = (self.frames.as_ref(), self.final_frames.as_ref());
                    if last { ended } else { current }.expect("frames asked for").bind(py).clone().into_any()
                }
                Part::Lidar => pick(py, &self.lidar, last),
                Part::Depth => pick(py, &self.depth, last),
                Part::Semantic => pick(py, &self.semantic, last),
                Part::Vehicles => pick(py, &self.vehicles, last),
            }
        };
        if let [part] = self.parts[..] {
            return Ok(array(part));
        }
        let dict = pyo3::types::PyDict::new(py);
        for &part in &self.parts {
            dict.set_item(part.name(), array(part))?;
        }
        Ok(dict.into_any())
    }

    fn write_states(
        &mut self,
        py: Python<'_>,
        indices: &[usize],
        states: &[[f32; DrivingState::LEN]],
        last: bool,
    ) -> PyResult<()> {
        let buffer = if last { &self.final_obs } else { &self.obs };
        let array = buffer.bind(py);
        let data = self::buffer(array);
        for (&i, state) in indices.iter().zip(states) {
            for (k, v) in state.iter().enumerate() {
                data[i * DrivingState::LEN + k] = v.clamp(STATE_LOW[k], STATE_HIGH[k]);
            }
        }
        Ok(())
    }
}

/// The current (or, `last`, the ended episodes') buffer of a part asked for.
fn pick<'py, T: numpy::Element>(py: Python<'py>, rows: &Rows<T>, last: bool) -> Bound<'py, PyAny> {
    let (current, ended) = rows.as_ref().expect("a part asked for has its buffers");
    if last { ended } else { current }.bind(py).clone().into_any()
}

/// A current and a last buffer of `shape`, zeroed.
fn zeroed_rows<T: numpy::Element>(
    py: Python<'_>,
    shape: [usize; 3],
) -> (Py<PyArrayDyn<T>>, Py<PyArrayDyn<T>>) {
    let zeros = || PyArrayDyn::<T>::zeros(py, shape.to_vec(), false).unbind();
    (zeros(), zeros())
}

/// Copies each listed env's part (`of` its observation) into its row of `rows` (the last buffer
/// for ended episodes).
fn write_rows<T: numpy::Element + Copy>(
    py: Python<'_>,
    rows: &Rows<T>,
    indices: &[usize],
    observations: &[&Observation],
    last: bool,
    of: impl Fn(&Observation) -> Option<&[T]>,
) {
    let (current, ended) = rows.as_ref().expect("a part asked for has its buffers");
    let data = buffer(if last { ended } else { current }.bind(py));
    for (&i, o) in indices.iter().zip(observations) {
        let values = of(o).expect("the envs make every part asked for");
        let len = values.len();
        data[i * len..(i + 1) * len].copy_from_slice(values);
    }
}

/// The frames observation's two numpy buffers as the rows the renderer writes each frame into
/// directly: the one copy of a frame out of the renderer's read-back tiles (None for the state
/// observations; the perception observation hands its frames to the CNN instead).
fn frame_rows<'a>(
    py: Python<'a>,
    frames: &'a Option<Py<PyArrayDyn<u8>>>,
    final_frames: &'a Option<Py<PyArrayDyn<u8>>>,
) -> Option<lepton_sim::FrameRows<'a>> {
    match (frames, final_frames) {
        (Some(current), Some(last)) => {
            Some(lepton_sim::FrameRows { current: buffer(current.bind(py)), last: buffer(last.bind(py)) })
        }
        _ => None,
    }
}

/// The contents of one of this object's own output arrays, to fill in place. Not through
/// rust-numpy's borrow tracking, which costs a lock and a hash-map lookup per borrow (several
/// per step, about a tenth of a step's time at 16 envs).
#[allow(clippy::mut_from_ref)] // the array is Python's object, written only under the conditions below
fn buffer<'a, T: numpy::Element, D: numpy::ndarray::Dimension>(
    array: &'a Bound<'_, numpy::PyArray<T, D>>,
) -> &'a mut [T] {
    // SAFETY: the arrays are created C-contiguous by this object and never resized, and no other
    // Rust reference to them is alive (each is taken, filled and dropped within one method). They
    // are written with the GIL held, except the frame rows, which the renderer fills while
    // `reset`/`step` wait with the GIL released: Python code of this env's own thread cannot run
    // meanwhile; another Python thread reading them mid-step races as with any numpy operation
    // that releases the GIL.
    unsafe { array.as_slice_mut().expect("the output arrays are contiguous") }
}

/// The XXH3-64 (seed 0) of a file's bytes, as the registry records it (for tools and tests that
/// build registry versions by hand).
#[pyfunction]
fn xxh3_64_file(path: PathBuf) -> PyResult<u64> {
    let bytes = std::fs::read(&path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    Ok(lepton_artifacts::checksum::content_hash(&bytes))
}

/// `registry:NAME[@CHANNEL|@VERSION]` (or `NAME[@...]`) → that version's `part` folder, its files
/// checked first: the command line's own resolution (lepton-pipeline), with its messages.
#[pyfunction]
#[pyo3(signature = (spec, part, registry=None))]
fn registry_resolve(spec: &str, part: &str, registry: Option<PathBuf>) -> PyResult<String> {
    use lepton_pipeline::registry::{self, Part};
    let part = match part {
        "policy" => Part::Policy,
        "model" => Part::Model,
        other => return Err(bad(format!("part must be 'model' or 'policy' (got {other:?})"))),
    };
    let spec = spec.strip_prefix("registry:").unwrap_or(spec);
    let registry = registry.unwrap_or_else(registry::default_registry);
    let dir = registry::resolve_in(&registry, spec, part).map_err(|e| bad(e.to_string()))?;
    Ok(dir.display().to_string())
}

/// A version's lineage (as JSON text), after checking every file it lists against its hash.
#[pyfunction]
fn registry_verify(version_dir: PathBuf) -> PyResult<String> {
    let lineage = lepton_pipeline::registry::verify(&version_dir).map_err(|e| bad(e.to_string()))?;
    Ok(serde_json::to_string(&lineage).expect("a lineage serialises"))
}

/// A pipeline file read and validated (as JSON text): the command line's own reader, so a syntax
/// error names the file, line and column, and every wrong value its field.
#[pyfunction]
fn pipeline_load(path: PathBuf) -> PyResult<String> {
    let pipeline = lepton_pipeline::PipelineFile::read(&path).map_err(bad)?;
    Ok(serde_json::to_string(&pipeline).expect("a pipeline file serialises"))
}

/// `lepton pipeline run FILE`: every stage not already done, the gates, the promotion; the
/// report as JSON text. The stages run the `lepton` program given (a path, or a name on PATH).
#[pyfunction]
fn pipeline_run(py: Python<'_>, path: PathBuf, program: PathBuf) -> PyResult<String> {
    let pipeline = lepton_pipeline::PipelineFile::read(&path).map_err(bad)?;
    let lepton = lepton_pipeline::Lepton::new(program);
    let report = py.detach(|| lepton_pipeline::run(&pipeline, &path, &lepton)).map_err(bad)?;
    Ok(serde_json::to_string(&report).expect("a pipeline report serialises"))
}

/// `lepton pipeline monitor FILE`: `checks` checks of production in the file's field conditions,
/// retraining (with `retrain`) from a condition past a threshold; the report as JSON text.
#[pyfunction]
fn pipeline_monitor(
    py: Python<'_>,
    path: PathBuf,
    program: PathBuf,
    checks: u32,
    retrain: bool,
) -> PyResult<String> {
    let pipeline = lepton_pipeline::PipelineFile::read(&path).map_err(bad)?;
    let lepton = lepton_pipeline::Lepton::new(program);
    let report =
        py.detach(|| lepton_pipeline::monitor(&pipeline, &path, &lepton, checks, retrain)).map_err(bad)?;
    Ok(serde_json::to_string(&report).expect("a monitor report serialises"))
}

/// `lepton registry repair NAME`: channels.json rebuilt from the versions (as JSON text).
#[pyfunction]
#[pyo3(signature = (name, registry=None))]
fn registry_repair(name: &str, registry: Option<PathBuf>) -> PyResult<String> {
    let registry = registry.unwrap_or_else(lepton_pipeline::registry::default_registry);
    let repaired = lepton_pipeline::registry::repair(&registry, name).map_err(bad)?;
    Ok(serde_json::to_string(&repaired).expect("a repair serialises"))
}

/// The names of the scenarios shipped inside the module.
#[pyfunction]
fn shipped_scenarios() -> Vec<&'static str> {
    scenario::SHIPPED.iter().map(|(name, _)| *name).collect()
}

/// The names of the shipped scenarios with several learning cars.
#[pyfunction]
fn shipped_multi_agent_scenarios() -> Vec<&'static str> {
    scenario::SHIPPED_MULTI_AGENT.to_vec()
}

#[pymodule]
fn _lepton(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<VecEnv>()?;
    m.add_class::<multi_agent::MultiAgentEnv>()?;
    m.add_function(wrap_pyfunction!(shipped_scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(shipped_multi_agent_scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(xxh3_64_file, m)?)?;
    m.add_function(wrap_pyfunction!(registry_resolve, m)?)?;
    m.add_function(wrap_pyfunction!(registry_verify, m)?)?;
    m.add_function(wrap_pyfunction!(registry_repair, m)?)?;
    m.add_function(wrap_pyfunction!(pipeline_load, m)?)?;
    m.add_function(wrap_pyfunction!(pipeline_run, m)?)?;
    m.add_function(wrap_pyfunction!(pipeline_monitor, m)?)?;
    m.add("LeptonError", m.py().get_type::<LeptonError>())?;
    m.add("MAX_ENVS", MAX_ENVS)?;
    Ok(())
}
