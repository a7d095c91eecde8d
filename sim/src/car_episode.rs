//! One learning car's episode: how far it has come, how long it has stood still, whether a
//! physics step ended it, and its reward and info at the end of a policy step. The single-agent
//! [`crate::Env`] keeps one for the ego; the [`crate::MultiAgentEnv`] one per car.

use crate::episode::{EndReason, Info, RewardTerms, StepEvents};
use crate::ground_truth::GroundTruth;
use crate::scenario::{Reward, Scenario, Success};
use crate::world::{Contacts, EgoState, World};

/// Progress of one car's current episode.
#[derive(Debug, Clone, Default)]
pub(crate) struct CarEpisode {
    /// The seed everything random in the episode was drawn from.
    pub seed: u64,
    /// Policy steps taken.
    pub step: u32,
    /// Metres driven along the route.
    pub progress: f32,
    last_s: f32,
    slow_time: f32,
}

/// What happened to a car during one policy step so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepTally {
    start_progress: f32,
    touched: Contacts,
    wrong_way: bool,
    red_light: bool,
    pub end: Option<EndReason>,
    /// The car's state after the latest physics step.
    pub state: EgoState,
}

impl CarEpisode {
    /// A new episode of car `car` as it stands in `world`.
    pub fn start(world: &World, car: usize, seed: u64) -> Self {
        Self { seed, last_s: world.car_state(car).route_s, ..Default::default() }
    }

    /// The tally of a policy step about to start.
    pub fn begin_step(&self, world: &World, car: usize) -> StepTally {
        StepTally {
            start_progress: self.progress,
            touched: Contacts::default(),
            wrong_way: false,
            red_light: false,
            end: None,
            state: world.car_state(car),
        }
    }

    /// Notes one physics step of car `car` that touched `contacts`: progress, slow time, and
    /// whether its episode ends here (then `tally.end` says why).
    pub fn after_physics(
        &mut self,
        tally: &mut StepTally,
        world: &World,
        car: usize,
        scenario: &Scenario,
        contacts: Contacts,
    ) {
        tally.touched = tally.touched.or(contacts);
        let state = world.car_state(car);
        tally.state = state;
        // Judged once per physics step (a projection onto the oncoming carriageway).
        let wrong = state.finite && world.wrong_way_of(car, &state);
        tally.wrong_way |= wrong;
        tally.red_light |= world.ran_red_light_of(car);
        tally.end = self.physics_end(world, car, scenario, &state, tally.touched, wrong);
    }

    /// Updates progress after a physics step and says whether the episode ends there.
    /// `wrong_way`: whether the car is in the oncoming lanes now ([`World::wrong_way_of`]).
    fn physics_end(
        &mut self,
        world: &World,
        car: usize,
        scenario: &Scenario,
        state: &EgoState,
        touched: Contacts,
        wrong_way: bool,
    ) -> Option<EndReason> {
        if !state.finite {
            return Some(EndReason::PhysicsInvalid);
        }
        let rules = &scenario.episode;
        self.progress += world.route_delta(self.last_s, state.route_s);
        self.last_s = state.route_s;
        // Waiting at a red light is not being stuck.
        if state.speed.abs() < rules.stuck_speed && !world.waiting_for_light_of(car) {
            self.slow_time += rules.dt;
        } else {
            self.slow_time = 0.0;
        }

        if rules.end_on.collision && touched.any() {
            Some(EndReason::Collision)
        } else if rules.end_on.off_road && world.off_road(state) {
            Some(EndReason::OffRoad)
        } else if rules.end_on.wrong_way && wrong_way {
            Some(EndReason::WrongWay)
        } else if rules.end_on.red_light && world.ran_red_light_of(car) {
            Some(EndReason::RedLight)
        } else if rules.end_on.flipped && state.uprightness < 0.5 {
            Some(EndReason::Flipped)
        } else if self.succeeded(world, car, scenario, state) {
            Some(EndReason::Success)
        } else if rules.end_on.stuck && self.slow_time >= rules.stuck_time {
            Some(EndReason::Stuck)
        } else {
            None
        }
    }

    fn succeeded(&self, world: &World, car: usize, scenario: &Scenario, state: &EgoState) -> bool {
        match scenario.episode.success.unwrap_or(Success::Never) {
            Success::Laps(laps) => self.progress >= laps as f32 * world.road().length(),
            Success::Distance(metres) => self.progress >= metres,
            Success::RoadEnd => world.at_route_end_of(car, state),
            Success::Never => false,
        }
    }

    /// Closes a policy step: counts it, applies the time limit, measures the car's ground truth
    /// and weighs the step's events with `reward`. Returns the state, the terms and the end.
    pub fn end_step(
        &mut self,
        tally: &StepTally,
        world: &World,
        car: usize,
        scenario: &Scenario,
        reward: &Reward,
    ) -> (GroundTruth, RewardTerms, Option<EndReason>) {
        self.step += 1;
        let mut end = tally.end;
        if end.is_none() && self.step >= scenario.episode.max_steps {
            end = Some(EndReason::TimeLimit);
        }
        let state =
            if tally.state.finite { GroundTruth::measure_of(world, car) } else { GroundTruth::default() };
        let events = StepEvents {
            progress: self.progress - tally.start_progress,
            lane_deviation: state.driving.lane_offset.abs(),
            speed: state.driving.speed,
            collision: tally.touched.any(),
            off_road: tally.state.finite && world.off_road(&tally.state),
            wrong_way: tally.wrong_way,
            red_light: tally.red_light,
            success: end == Some(EndReason::Success),
        };
        let terms = match world.target_speed() {
            None => RewardTerms::compute(reward, &events),
            Some(target_speed) => RewardTerms::compute(&Reward { target_speed, ..*reward }, &events),
        };
        (state, terms, end)
    }

    /// The info of car `car` now.
    pub fn info(
        &self,
        world: &World,
        car: usize,
        state: GroundTruth,
        ego: &EgoState,
        end: Option<EndReason>,
        reward_terms: RewardTerms,
    ) -> Info {
        let road = world.road();
        let laps = if road.closed() { (self.progress / road.length()).max(0.0) as u32 } else { 0 };
        Info {
            ground_truth: state,
            position: ego.position,
            yaw: ego.yaw,
            progress: self.progress,
            laps,
            episode_step: self.step,
            episode_seed: self.seed,
            end,
            reward_terms,
            events: 0,
            light_ahead: world.light_ahead_of(car),
        }
    }
}
