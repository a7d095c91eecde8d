//! Episode bookkeeping: why an episode ends, the reward terms of a step, and a step's info.

use crate::ground_truth::GroundTruth;
use crate::scenario::Reward;
use serde::Serialize;

/// Why an episode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The ego car touched an obstacle or another car (terminated).
    Collision,
    /// The car's centre left the road and its shoulder (terminated).
    OffRoad,
    /// The goal was reached (terminated).
    Success,
    /// `episode.max_steps` policy steps passed (truncated).
    TimeLimit,
    /// The car tilted more than 60° (truncated: a physics guard).
    Flipped,
    /// The car stayed below `stuck_speed` for `stuck_time` seconds (truncated).
    Stuck,
    /// The physics state became non-finite (truncated: a physics guard).
    PhysicsInvalid,
    /// The car drove in the lanes of the other direction of a two-way road (terminated).
    WrongWay,
    /// The car entered a junction against a red light (terminated).
    RedLight,
}

impl EndReason {
    /// Every reason, in a fixed order.
    pub const ALL: [EndReason; 9] = [
        EndReason::Collision,
        EndReason::OffRoad,
        EndReason::Success,
        EndReason::TimeLimit,
        EndReason::Flipped,
        EndReason::Stuck,
        EndReason::PhysicsInvalid,
        EndReason::WrongWay,
        EndReason::RedLight,
    ];

    /// A real end of the task (`terminated`), as opposed to a cut-off (`truncated`).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            EndReason::Collision
                | EndReason::OffRoad
                | EndReason::Success
                | EndReason::WrongWay
                | EndReason::RedLight
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            EndReason::Collision => "collision",
            EndReason::OffRoad => "off_road",
            EndReason::Success => "success",
            EndReason::TimeLimit => "time_limit",
            EndReason::Flipped => "flipped",
            EndReason::Stuck => "stuck",
            EndReason::PhysicsInvalid => "physics_invalid",
            EndReason::WrongWay => "wrong_way",
            EndReason::RedLight => "red_light",
        }
    }
}

/// The weighted reward terms of one step; the step's reward is their sum.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct RewardTerms {
    pub progress: f32,
    pub lane_centre: f32,
    pub speed: f32,
    pub collision: f32,
    pub off_road: f32,
    pub wrong_way: f32,
    pub red_light: f32,
    pub step: f32,
    pub success: f32,
}

/// What happened during one policy step, as the reward needs it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepEvents {
    /// Metres gained along the road (negative backwards).
    pub progress: f32,
    /// Distance from the nearest lane centre at the end of the step (m).
    pub lane_deviation: f32,
    /// Forward speed at the end of the step (m/s).
    pub speed: f32,
    pub collision: bool,
    pub off_road: bool,
    /// In the other direction's lanes of a two-way road at some moment of the step.
    pub wrong_way: bool,
    /// Entered a junction against a red light during the step.
    pub red_light: bool,
    pub success: bool,
}

impl RewardTerms {
    /// Weighs a step's events with the scenario's reward weights.
    pub fn compute(weights: &Reward, events: &StepEvents) -> Self {
        let flag = |happened: bool, weight: f32| if happened { weight } else { 0.0 };
        let speed_score = (1.0 - (events.speed - weights.target_speed).abs() / weights.target_speed).max(0.0);
        Self {
            progress: weights.progress * events.progress,
            lane_centre: weights.lane_centre * events.lane_deviation,
            speed: weights.speed * speed_score,
            collision: flag(events.collision, weights.collision),
            off_road: flag(events.off_road, weights.off_road),
            wrong_way: flag(events.wrong_way, weights.wrong_way),
            red_light: flag(events.red_light, weights.red_light),
            step: weights.step,
            success: flag(events.success, weights.success),
        }
    }

    pub fn total(&self) -> f32 {
        self.progress
            + self.lane_centre
            + self.speed
            + self.collision
            + self.off_road
            + self.wrong_way
            + self.red_light
            + self.step
            + self.success
    }
}

/// Everything else about a step: ground truth, the car's pose, the reward's terms, the end reason.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    pub ground_truth: GroundTruth,
    /// World position (y-up) of the car's centre of mass.
    pub position: [f32; 3],
    /// Heading on the road plane (radians).
    pub yaw: f32,
    /// Metres driven along the road this episode.
    pub progress: f32,
    /// Completed laps (closed roads).
    pub laps: u32,
    /// Policy steps taken this episode.
    pub episode_step: u32,
    /// The seed everything random in this episode was drawn from.
    pub episode_seed: u64,
    /// Why the episode ended, on its last step.
    pub end: Option<EndReason>,
    pub reward_terms: RewardTerms,
    /// The scenario's scripted events that happened during this step (bit i: `events[i]`).
    pub events: crate::events::EventMask,
    /// Where the ego's road ends at a junction with lights: the light its lane shows and the
    /// metres to the line.
    pub light_ahead: Option<(crate::signals::Light, f32)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights() -> Reward {
        Reward {
            progress: 0.5,
            lane_centre: -2.0,
            speed: 3.0,
            target_speed: 10.0,
            collision: -7.0,
            off_road: -11.0,
            wrong_way: -17.0,
            red_light: -19.0,
            step: -0.25,
            success: 13.0,
        }
    }

    #[test]
    fn each_term_is_its_weight_times_its_event() {
        let w = weights();
        let base = StepEvents { speed: 10.0, ..Default::default() };
        let t = RewardTerms::compute(&w, &base);
        assert_eq!(t, RewardTerms { speed: 3.0, step: -0.25, ..Default::default() });

        let t = RewardTerms::compute(&w, &StepEvents { progress: 2.0, ..base });
        assert_eq!(t.progress, 1.0);
        let t = RewardTerms::compute(&w, &StepEvents { progress: -2.0, ..base });
        assert_eq!(t.progress, -1.0, "driving backwards costs");
        let t = RewardTerms::compute(&w, &StepEvents { lane_deviation: 0.5, ..base });
        assert_eq!(t.lane_centre, -1.0);
        assert_eq!(RewardTerms::compute(&w, &StepEvents { collision: true, ..base }).collision, -7.0);
        assert_eq!(RewardTerms::compute(&w, &StepEvents { off_road: true, ..base }).off_road, -11.0);
        assert_eq!(RewardTerms::compute(&w, &StepEvents { success: true, ..base }).success, 13.0);
        assert_eq!(RewardTerms::compute(&w, &StepEvents { wrong_way: true, ..base }).wrong_way, -17.0);
        assert_eq!(RewardTerms::compute(&w, &StepEvents { red_light: true, ..base }).red_light, -19.0);
    }

    #[test]
    fn speed_score_peaks_at_the_target_and_floors_at_zero() {
        let w = weights();
        let at = |speed| RewardTerms::compute(&w, &StepEvents { speed, ..Default::default() }).speed;
        assert_eq!(at(10.0), 3.0);
        assert!((at(5.0) - 1.5).abs() < 1e-6);
        assert!((at(15.0) - 1.5).abs() < 1e-6);
        assert_eq!(at(0.0), 0.0);
        assert_eq!(at(25.0), 0.0);
    }

    #[test]
    fn total_adds_every_term() {
        let t = RewardTerms {
            progress: 1.0,
            lane_centre: 2.0,
            speed: 3.0,
            collision: 4.0,
            off_road: 5.0,
            wrong_way: 8.0,
            red_light: 9.0,
            step: 6.0,
            success: 7.0,
        };
        assert_eq!(t.total(), 45.0);
    }

    #[test]
    fn only_crashes_broken_rules_and_success_terminate() {
        let terminal: Vec<_> = EndReason::ALL.iter().filter(|r| r.is_terminal()).collect();
        assert_eq!(
            terminal,
            [
                &EndReason::Collision,
                &EndReason::OffRoad,
                &EndReason::Success,
                &EndReason::WrongWay,
                &EndReason::RedLight
            ]
        );
    }
}
