//! The object-list sensor: rows against the world's own poses, nearest first, absent rows zero,
//! obstacles and other learning cars listed, and nothing listed without the sensor.

mod common;

use common::{from_text, shipped};
use lepton_sim::road::world_to_plane;
use lepton_sim::scenario::{Scenario, VehicleList};
use lepton_sim::vehicle_list::{POSITION_SCALE, ROW, VELOCITY_SCALE};
use lepton_sim::{Env, MultiAgentEnv};
use std::sync::Arc;

fn with_list(scenario: &Scenario, count: u32, range: f32) -> Arc<Scenario> {
    Arc::new(Scenario { vehicles: Some(VehicleList { count, range }), ..scenario.clone() })
}

fn rows(list: &[f32]) -> Vec<&[f32]> {
    list.chunks_exact(ROW).collect()
}

#[test]
fn highway_lists_the_nearest_npcs_in_the_car_frame_nearest_first() {
    let scenario = with_list(&shipped("highway"), 6, 60.0);
    let mut env = Env::new(scenario, 3);
    let (obs, _) = env.reset(Some(3));
    let mut list = obs.vehicles.expect("the sensor lists");
    for _ in 0..20 {
        list = env.step(0).obs.vehicles.unwrap();
    }
    assert_eq!(list.len(), 6 * ROW);
    let world = env.world();
    let ego = world.ego_state();
    let (ex, ey) = world_to_plane(ego.position);
    // The NPCs within range, by the world's own poses.
    let mut expected: Vec<f32> = (0..world.traffic().npcs.len())
        .filter_map(|i| world.npc_pose(i))
        .map(|(p, _)| {
            let (x, y) = world_to_plane(p);
            (x - ex).hypot(y - ey)
        })
        .filter(|&d| d <= 60.0)
        .collect();
    expected.sort_by(f32::total_cmp);
    let listed: Vec<f32> = rows(&list)
        .iter()
        .filter(|r| r[0] == 1.0)
        .map(|r| (r[1] * POSITION_SCALE).hypot(r[2] * POSITION_SCALE))
        .collect();
    assert!(!listed.is_empty(), "highway has traffic near the start");
    assert_eq!(listed.len(), expected.len().min(6));
    for (got, want) in listed.iter().zip(&expected) {
        assert!((got - want).abs() < 1e-3, "{got} vs {want}");
    }
    // Present rows first, then zeros.
    let present = listed.len();
    assert!(rows(&list)[present..].iter().all(|r| r.iter().all(|&v| v == 0.0)));
    for r in &rows(&list)[..present] {
        // A unit heading, and traffic driving the same way as the car.
        assert!((r[5].hypot(r[6]) - 1.0).abs() < 1e-4);
        assert!(r[5] > 0.9, "{r:?}");
        // Relative speeds of cars on one road are a few m/s at most.
        assert!((r[3] * VELOCITY_SCALE).abs() < 15.0 && (r[4] * VELOCITY_SCALE).abs() < 3.0, "{r:?}");
    }
}

#[test]
fn an_obstacle_ahead_is_listed_straight_ahead_closing_at_the_car_speed() {
    let scenario = from_text(
        r#"Scenario(
            road: (segments: [Straight(length: 300.0)], lanes: 2, lane_width: 3.5),
            ego: (spawn: (s: 10.0, lane: 0, s_jitter: 0.0, offset_jitter: 0.0, heading_jitter: 0.0), start_speed: 6.0),
            obstacles: [(kind: Box, s: 40.0, lane: 0), (kind: Cone, s: 150.0, lane: 1)],
            vehicles: Some((count: 3, range: 80.0)),
        )"#,
    );
    let mut env = Env::new(scenario, 0);
    let (obs, _) = env.reset(Some(0));
    let list = obs.vehicles.unwrap();
    let r = rows(&list);
    // The box: 30 m ahead in the car's lane, still, so it closes at the car's speed.
    assert_eq!(r[0][0], 1.0);
    assert!((r[0][1] * POSITION_SCALE - 30.0).abs() < 0.5, "{:?}", r[0]);
    assert!((r[0][2] * POSITION_SCALE).abs() < 0.2, "{:?}", r[0]);
    let speed = env.world().ego_state().speed;
    assert!((r[0][3] * VELOCITY_SCALE + speed).abs() < 0.3, "{:?} at {speed}", r[0]);
    // The cone is 140 m away: out of range. The other rows are empty.
    assert!(r[1..].iter().all(|row| row.iter().all(|&v| v == 0.0)));
    // Without the sensor nothing is listed.
    let mut plain = Env::new(shipped("tiny"), 0);
    assert!(plain.reset(Some(0)).0.vehicles.is_none());
}

#[test]
fn each_learning_car_lists_the_others_behind_and_beside_it() {
    let scenario = with_list(&shipped("platoon"), 8, 80.0);
    let mut env = MultiAgentEnv::new(scenario, 0);
    let observations = env.reset(Some(0));
    let cars = observations.len();
    assert_eq!(cars, 4);
    for (i, (obs, _)) in observations.iter().enumerate() {
        let list = obs.vehicles.as_ref().unwrap();
        let present = rows(list).iter().filter(|r| r[0] == 1.0).count();
        // The three other cars at least (platoon has no NPCs or obstacles near them).
        assert!(present >= cars - 1, "car {i} lists {present}");
        // Never itself: no row at the car's own position.
        assert!(rows(list).iter().filter(|r| r[0] == 1.0).all(|r| r[1].hypot(r[2]) > 0.01));
    }
}
