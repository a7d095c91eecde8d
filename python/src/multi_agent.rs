//! `lepton._lepton.MultiAgentEnv`: several learning cars in one world, stepped together in Rust
//! with the GIL released, each seeing its state, its lidar or its own camera (a tile per car of
//! one render pass). `lepton.pettingzoo` wraps it as a PettingZoo `ParallelEnv`; this layer
//! speaks in car indices and lists, and checks every action it is given.

use crate::{AssertSend, STATE_HIGH, STATE_LOW, bad};
use lepton_sim::scenario::{self, FrameFormat, Scenario};
use lepton_sim::{AgentStep, CameraSensors, Control, DrivingState, Info, Observation};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyDict, PyTuple};
use std::sync::Arc;

/// What each car observes: its driving state, its lidar's range image, its camera's frame,
/// depth or classes, or several (a dict).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    State,
    Lidar,
    Frames,
    Depth,
    Semantic,
    Vehicles,
}

impl Part {
    const ALL: [Part; 6] =
        [Part::State, Part::Lidar, Part::Frames, Part::Depth, Part::Semantic, Part::Vehicles];

    fn name(self) -> &'static str {
        match self {
            Part::State => "state",
            Part::Lidar => "lidar",
            Part::Frames => "frames",
            Part::Depth => "depth",
            Part::Semantic => "semantic",
            Part::Vehicles => "vehicles",
        }
    }

    /// Whether the part comes from the car's camera.
    fn camera(self) -> bool {
        matches!(self, Part::Frames | Part::Depth | Part::Semantic)
    }
}

/// The cars of one multi-agent scenario in one world, seeded `seed`.
#[pyclass(unsendable, module = "lepton._lepton")]
pub struct MultiAgentEnv {
    /// One world (with a camera on every car when the observation asks for images).
    env: lepton_sim::MultiAgentVecEnv,
    scenario: Arc<Scenario>,
    parts: Vec<Part>,
    continuous: bool,
}

#[pymethods]
impl MultiAgentEnv {
    #[new]
    #[pyo3(signature = (scenario, seed, observation="state", actions="scenario"))]
    fn new(scenario: &str, seed: u64, observation: &str, actions: &str) -> PyResult<Self> {
        let mut parts = Vec::new();
        for name in observation.split(',').map(str::trim) {
            let part = Part::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
                bad(format!(
                    "observation must be one or several of \"state\", \"lidar\", \"frames\", \"depth\", \
                     \"semantic\", \"vehicles\" (got {name:?})"
                ))
            })?;
            if parts.contains(&part) {
                return Err(bad(format!("observation names {name:?} twice")));
            }
            parts.push(part);
        }
        let mut scenario = scenario::load_named(scenario).map_err(bad)?;
        crate::choose_actions(&mut scenario, actions)?;
        if parts.contains(&Part::Lidar) && scenario.lidar.is_none() {
            scenario.lidar = Some(Default::default());
        }
        if parts.contains(&Part::Vehicles) && scenario.vehicles.is_none() {
            scenario.vehicles = Some(Default::default());
        }
        let continuous = scenario.actions.continuous.is_some();
        let scenario = Arc::new(scenario);
        let mut env = if parts.iter().any(|p| p.camera()) {
            let sensors = CameraSensors {
                depth: parts.contains(&Part::Depth),
                semantic: parts.contains(&Part::Semantic),
            };
            lepton_render::camera_multi_agent_vec_env(scenario.clone(), 1, seed, sensors).map_err(bad)?
        } else {
            lepton_sim::MultiAgentVecEnv::new(scenario.clone(), 1, seed)
        };
        // PettingZoo's caller resets once every car has ended.
        env.set_autoreset(false);
        Ok(Self { env, scenario, parts, continuous })
    }

    /// How many cars the scenario declares.
    #[getter]
    fn num_agents(&self) -> usize {
        self.env.num_agents()
    }

    /// The camera's frame shape (height, width, channels), when the observation holds images.
    #[getter]
    fn frame_shape(&self) -> Option<(u32, u32, u8)> {
        let camera = &self.scenario.camera;
        let channels = if camera.format == FrameFormat::Rgb { 3 } else { 1 };
        self.parts.iter().any(|p| p.camera()).then_some((camera.height, camera.width, channels))
    }

    /// Size of each car's discrete action set.
    #[getter]
    fn num_actions(&self) -> usize {
        self.world().num_actions()
    }

    /// Whether each car gives `[steer, throttle]` rather than an action index.
    #[getter]
    fn continuous(&self) -> bool {
        self.continuous
    }

    /// The continuous action's bounds, `([steer_low, throttle_low], [steer_high, throttle_high])`.
    #[getter]
    fn action_bounds(&self) -> ([f32; 2], [f32; 2]) {
        let ranges = self.scenario.actions.continuous.unwrap_or_default();
        ([ranges.steer.0, ranges.throttle.0], [ranges.steer.1, ranges.throttle.1])
    }

    /// The state observation's bounds (its values are clipped into them).
    #[getter]
    fn state_bounds(&self) -> (Vec<f32>, Vec<f32>) {
        (STATE_LOW.to_vec(), STATE_HIGH.to_vec())
    }

    /// The lidar's (channels, rays) and range, when the observation holds it.
    #[getter]
    fn lidar_shape(&self) -> Option<((usize, usize), f32)> {
        let beams = self.world().lidar().filter(|_| self.parts.contains(&Part::Lidar))?;
        Some((beams.shape(), self.scenario.lidar.as_ref().map_or(0.0, |l| l.range)))
    }

    /// The object list's (rows, 7) and range (m), when the observation holds it.
    #[getter]
    fn vehicles_shape(&self) -> Option<((usize, usize), f32)> {
        let list = self.scenario.vehicles.as_ref().filter(|_| self.parts.contains(&Part::Vehicles))?;
        Some(((list.count as usize, lepton_sim::vehicle_list::ROW), list.range))
    }

    /// The observation's parts, in the order asked for.
    #[getter]
    fn parts(&self) -> Vec<&'static str> {
        self.parts.iter().map(|p| p.name()).collect()
    }

    /// The cars still driving.
    #[getter]
    fn live_agents(&self) -> Vec<usize> {
        self.world().live_agents()
    }

    /// Whether the world's episode is over (every car ended, or the time limit).
    #[getter]
    fn episode_over(&self) -> bool {
        self.world().episode_over()
    }

    /// Starts an episode of every car; a seed restarts the seed stream. Each car's
    /// `(observation, info)`, in car order.
    #[pyo3(signature = (seed=None))]
    fn reset<'py>(&mut self, py: Python<'py>, seed: Option<u64>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        let env = AssertSend(&mut self.env);
        let first = py.detach(move || env.get().reset(seed)).map_err(bad)?;
        first[0].iter().map(|(obs, info)| self.look(py, obs, info)).collect()
    }

    /// Steps every car: `actions[i]` is car i's action (an index, or `[steer, throttle]`), or
    /// None for a car that is no longer driving. Each car's
    /// `(observation, reward, terminated, truncated, info, respawn)` or None for a car that had
    /// left; `respawn` is `(observation, info)` of a car that started again (`agent_end: Respawn`).
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        actions: Vec<Bound<'py, PyAny>>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let n = self.env.num_agents();
        if actions.len() != n {
            return Err(bad(format!("actions: one per car, {n} (got {})", actions.len())));
        }
        let live = self.world().live_agents();
        let mut controls = vec![Control::default(); n];
        for (i, action) in actions.iter().enumerate() {
            if action.is_none() {
                if live.contains(&i) && !self.world().episode_over() {
                    return Err(bad(format!(
                        "actions[{i}]: car {i} is driving and needs an action (got None)"
                    )));
                }
                continue;
            }
            controls[i] = self.control(i, action)?;
        }
        let env = AssertSend(&mut self.env);
        let mut step = py.detach(move || env.get().step_controls(&controls)).map_err(bad)?;
        let world = step.worlds.remove(0);
        world.agents.iter().map(|agent| self.result(py, agent.as_ref())).collect()
    }
}

impl MultiAgentEnv {
    fn world(&self) -> &lepton_sim::MultiAgentEnv {
        &self.env.worlds()[0]
    }

    /// Car `i`'s control from its Python action, checked.
    fn control(&self, i: usize, action: &Bound<'_, PyAny>) -> PyResult<Control> {
        if self.continuous {
            let pair: Vec<f32> = action.extract().map_err(|_| {
                bad(format!("actions[{i}]: a continuous action is [steer, throttle] (got {action})"))
            })?;
            let [steer, throttle] = pair[..] else {
                return Err(bad(format!(
                    "actions[{i}]: [steer, throttle] has 2 numbers (got {})",
                    pair.len()
                )));
            };
            if !(steer.is_finite() && throttle.is_finite()) {
                return Err(bad(format!(
                    "actions[{i}]: [steer, throttle] must be finite (got [{steer}, {throttle}])"
                )));
            }
            return Ok(self.scenario.actions.continuous.unwrap_or_default().control([steer, throttle]));
        }
        let n = self.world().num_actions();
        let index: i64 = action
            .extract()
            .map_err(|_| bad(format!("actions[{i}]: an action index from 0 to {} (got {action})", n - 1)))?;
        if index < 0 || index as usize >= n {
            return Err(bad(format!("actions[{i}]: an action index from 0 to {} (got {index})", n - 1)));
        }
        Ok(self.scenario.actions.controls()[index as usize])
    }

    /// A car's observation (an array, or a dict of arrays) and info dict.
    fn look<'py>(&self, py: Python<'py>, obs: &Observation, info: &Info) -> PyResult<Bound<'py, PyTuple>> {
        (self.observation(py, obs)?, info_dict(py, info)?).into_pyobject(py)
    }

    fn observation<'py>(&self, py: Python<'py>, obs: &Observation) -> PyResult<Bound<'py, PyAny>> {
        let array = |part: Part| -> PyResult<Bound<'py, PyAny>> {
            match part {
                Part::State => {
                    let state: Vec<f32> = obs
                        .state
                        .to_array()
                        .iter()
                        .enumerate()
                        .map(|(k, v)| v.clamp(STATE_LOW[k], STATE_HIGH[k]))
                        .collect();
                    Ok(PyArray1::from_vec(py, state).into_any())
                }
                Part::Lidar => {
                    let beams = self.world().lidar().expect("a lidar observation has its lidar");
                    let (channels, rays) = beams.shape();
                    let ranges = obs.lidar.clone().expect("the env scans when it has a lidar");
                    Ok(PyArray1::from_vec(py, ranges).reshape([channels, rays])?.into_any())
                }
                Part::Frames => {
                    let frame = obs.frame.as_ref().expect("the cameras drew a frame");
                    let shape = [frame.height as usize, frame.width as usize, frame.channels as usize];
                    Ok(PyArray1::from_slice(py, &frame.data).reshape(shape)?.into_any())
                }
                Part::Depth => {
                    let (h, w) = (self.scenario.camera.height as usize, self.scenario.camera.width as usize);
                    let depth = obs.depth.clone().expect("the cameras drew depth");
                    Ok(PyArray1::from_vec(py, depth).reshape([h, w])?.into_any())
                }
                Part::Semantic => {
                    let (h, w) = (self.scenario.camera.height as usize, self.scenario.camera.width as usize);
                    let classes = obs.semantic.clone().expect("the cameras drew classes");
                    Ok(PyArray1::from_vec(py, classes).reshape([h, w])?.into_any())
                }
                Part::Vehicles => {
                    let rows = obs.vehicles.clone().expect("the env lists when it has the sensor");
                    let row = lepton_sim::vehicle_list::ROW;
                    let shape = [rows.len() / row, row];
                    Ok(PyArray1::from_vec(py, rows).reshape(shape)?.into_any())
                }
            }
        };
        if let [part] = self.parts[..] {
            return array(part);
        }
        let dict = PyDict::new(py);
        for &part in &self.parts {
            dict.set_item(part.name(), array(part)?)?;
        }
        Ok(dict.into_any())
    }

    fn result<'py>(&self, py: Python<'py>, agent: Option<&AgentStep>) -> PyResult<Bound<'py, PyAny>> {
        let Some(agent) = agent else { return Ok(py.None().into_bound(py)) };
        let respawn = match &agent.respawn {
            Some((obs, info)) => self.look(py, obs, info)?.into_any(),
            None => py.None().into_bound(py),
        };
        let tuple = (
            self.observation(py, &agent.obs)?,
            agent.reward,
            agent.terminated,
            agent.truncated,
            info_dict(py, &agent.info)?,
            respawn,
        );
        Ok(tuple.into_pyobject(py)?.into_any())
    }
}

/// A car's info as a dict: why its episode ended (None while it drives), its episode's seed and
/// step, the metres it has driven, where it is, and its reward's terms.
fn info_dict<'py>(py: Python<'py>, info: &Info) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("end", info.end.map(|e| e.name()))?;
    dict.set_item("episode_seed", info.episode_seed)?;
    dict.set_item("episode_step", info.episode_step)?;
    dict.set_item("progress", info.progress)?;
    dict.set_item("position", info.position.to_vec())?;
    let terms = serde_json::to_value(info.reward_terms).expect("reward terms serialise");
    let terms_dict = PyDict::new(py);
    for (name, value) in terms.as_object().expect("a struct serialises as an object") {
        terms_dict.set_item(name, value.as_f64())?;
    }
    dict.set_item("reward_terms", terms_dict)?;
    let state: Vec<(&str, f32)> =
        DrivingState::NAMES.iter().copied().zip(info.ground_truth.to_array()).collect();
    dict.set_item("ground_truth", state.into_py_dict(py)?)?;
    Ok(dict)
}
