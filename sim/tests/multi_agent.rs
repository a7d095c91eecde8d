//! Multi-agent worlds: several learning cars stepped together, each with its own observation,
//! reward and end; a car that ends leaves (or respawns) while the others drive on; the same
//! seed gives the same steps; one car's multi-agent env is the single-agent env.

mod common;

use common::{from_text, shipped};
use lepton_sim::lidar::LidarBeams;
use lepton_sim::scenario::{self, AgentEnd, Scenario};
use lepton_sim::{Control, EndReason, Env, MultiAgentEnv, MultiStep};
use std::sync::Arc;

/// A straight two-lane road with cars in lane 0 at the given arc lengths (no jitter), each at
/// `speed`; `extra` is spliced into the scenario.
fn convoy(cars: &[f32], speed: f32, extra: &str) -> Arc<Scenario> {
    let agents: Vec<String> = cars
        .iter()
        .map(|s| format!("(spawn: (s: {s:.1}, lane: 0), start_speed: Some({speed:.1}))"))
        .collect();
    from_text(&format!(
        r#"Scenario(
            road: (segments: [Straight(length: 800.0)], lanes: 2, lane_width: 3.5),
            agents: [{}],
            episode: (max_steps: 400),
            {extra}
        )"#,
        agents.join(", ")
    ))
}

/// Every car under `control`; the results.
fn drive(env: &mut MultiAgentEnv, control: Control) -> MultiStep {
    env.step_controls(&vec![control; env.num_agents()])
}

const CRUISE: Control = Control { steer: 0.0, throttle: 0.3 };

#[test]
fn platoon_steps_four_cars_with_their_own_observations_and_rewards() {
    let mut env = MultiAgentEnv::new(shipped("platoon"), 3);
    let first = env.reset(Some(3));
    assert_eq!((first.len(), env.num_agents()), (4, 4));
    // Each car is where its spawn puts it, in its lane.
    let lanes: Vec<u32> = first.iter().map(|(obs, _)| obs.state.lane).collect();
    assert_eq!(lanes, [0, 0, 0, 1]);
    let s: Vec<f32> = first.iter().map(|(obs, _)| obs.state.s).collect();
    for (got, want) in s.iter().zip([40.0, 25.0, 10.0, 32.0]) {
        assert!((got - want).abs() < 0.5, "spawn s {got} vs {want}");
    }
    let step = env.step(&[1, 1, 1, 1]);
    assert!(step.agents.iter().all(Option::is_some));
    let speeds: Vec<f32> = step.agents.iter().map(|a| a.as_ref().unwrap().obs.state.driving.speed).collect();
    // Car 0 started at 9 m/s, car 2 at 11: their own speeds, not one car's.
    assert!(speeds[0] < speeds[1] && speeds[1] < speeds[2], "{speeds:?}");
    assert!(!step.episode_over);
}

#[test]
fn a_follower_sees_the_car_ahead_in_its_gap() {
    let scenario = convoy(&[60.0, 30.0], 0.0, "");
    let env = MultiAgentEnv::new(scenario.clone(), 1);
    let (behind, ahead) = (env.world().car_state(1), env.world().car_state(0));
    let (first, _) = &MultiAgentEnv::new(scenario, 1).reset(Some(1))[1];
    let length = env.world().ego_length();
    let expected = (ahead.road.s - behind.road.s) - length;
    assert!(
        (first.state.driving.gap_own - expected).abs() < 0.05,
        "gap {} vs {expected}",
        first.state.driving.gap_own
    );
    // The leader sees nothing ahead.
    let (lead, _) = &MultiAgentEnv::new(convoy(&[60.0, 30.0], 0.0, ""), 1).reset(Some(1))[0];
    assert_eq!(lead.state.driving.gap_own, lepton_sim::ground_truth::GAP_RANGE);
}

#[test]
fn cars_that_collide_both_end_and_leave_while_the_others_drive_on() {
    // Car 1 rams the stopped car 0; car 2, far behind, cruises.
    let mut env = MultiAgentEnv::new(convoy(&[40.0, 25.0, 5.0], 0.0, ""), 5);
    env.reset(Some(5));
    let (mut ended, mut steps) = (vec![None; 3], 0);
    while ended[0].is_none() && steps < 100 {
        let controls = [
            Control { steer: 0.0, throttle: -1.0 },
            Control { steer: 0.0, throttle: 1.0 },
            Control { steer: 0.0, throttle: -0.2 },
        ];
        let step = env.step_controls(&controls);
        for (i, agent) in step.agents.iter().enumerate() {
            if let Some(agent) = agent.as_ref().filter(|a| a.terminated || a.truncated) {
                ended[i] = agent.info.end;
                assert!(
                    agent.reward <= -9.0 || agent.info.end != Some(EndReason::Collision),
                    "the crash costs"
                );
            }
        }
        steps += 1;
    }
    assert_eq!(ended[..2], [Some(EndReason::Collision), Some(EndReason::Collision)], "after {steps} steps");
    assert_eq!(ended[2], None, "the car behind drives on");
    assert_eq!(env.live_agents(), [2]);
    assert!(!env.world().car_present(0) && !env.world().car_present(1) && env.world().car_present(2));
    let next = drive(&mut env, CRUISE);
    assert!(next.agents[0].is_none() && next.agents[1].is_none() && next.agents[2].is_some());
    assert!(!next.episode_over);
    // Car 2 now drives through where they were: nothing is there to hit.
    let mut over = false;
    // It reaches the road's end, or the time limit (400 steps) ends it.
    for _ in 0..400 {
        let step = drive(&mut env, Control { steer: 0.0, throttle: 0.6 });
        if let Some(end) = step.agents[2].as_ref().and_then(|a| a.info.end) {
            assert_ne!(end, EndReason::Collision, "the cars that left are gone");
        }
        if step.episode_over {
            over = true;
            break;
        }
    }
    assert!(over, "the episode ends once the last car has ended");
}

#[test]
fn a_respawned_car_starts_again_at_its_spawn_and_the_episode_runs_to_its_limit() {
    let scenario = convoy(&[40.0, 25.0], 0.0, "");
    let scenario = Arc::new(Scenario {
        episode: scenario::Episode {
            agent_end: AgentEnd::Respawn,
            max_steps: 120,
            ..scenario.episode.clone()
        },
        ..(*scenario).clone()
    });
    let mut env = MultiAgentEnv::new(scenario, 2);
    env.reset(Some(2));
    let mut respawns = 0;
    let mut last = None;
    for _ in 0..120 {
        let step = env
            .step_controls(&[Control { steer: 0.0, throttle: -1.0 }, Control { steer: 0.0, throttle: 1.0 }]);
        for agent in step.agents.iter().flatten() {
            if let Some((obs, info)) = &agent.respawn {
                respawns += 1;
                assert!(agent.terminated || agent.truncated);
                assert_eq!(info.episode_step, 0);
                assert!(obs.state.s < 45.0 && info.progress == 0.0, "back at its spawn: s {}", obs.state.s);
            }
        }
        assert!(step.agents.iter().all(Option::is_some), "no car leaves");
        last = Some(step);
        if last.as_ref().unwrap().episode_over {
            break;
        }
    }
    assert!(respawns >= 2, "the crashing cars came back ({respawns} respawns)");
    let last = last.unwrap();
    assert!(last.episode_over && env.episode_step() == 120);
    assert!(last.agents.iter().flatten().all(|a| a.respawn.is_none() && (a.terminated || a.truncated)));
}

#[test]
fn the_same_seed_gives_the_same_steps_bit_for_bit() {
    let run = || {
        let mut env = MultiAgentEnv::new(shipped("platoon"), 9);
        let mut trace = Vec::new();
        for k in 0..150usize {
            let actions: Vec<usize> = (0..4).map(|i| (k + i) % 5).collect();
            let step = env.step(&actions);
            for agent in step.agents.iter().flatten() {
                trace.push((agent.reward.to_bits(), agent.obs.state.s.to_bits(), agent.info.end));
            }
            if step.episode_over {
                env.reset(None);
            }
        }
        trace
    };
    let (a, b) = (run(), run());
    assert!(a.len() > 150);
    assert_eq!(a, b);
}

#[test]
fn one_car_multi_agent_is_the_single_agent_env() {
    for name in ["lane_keep", "highway", "intersection"] {
        let scenario = shipped(name);
        let (mut single, mut multi) = (Env::new(scenario.clone(), 4), MultiAgentEnv::new(scenario, 4));
        let (first, _) = single.reset(Some(4));
        assert_eq!(multi.reset(Some(4))[0].0, first);
        for k in 0..200usize {
            let action = k % single.num_actions();
            let a = single.step(action);
            let step = multi.step(&[action]);
            let b = step.agents[0].as_ref().unwrap();
            assert_eq!(
                (a.obs.clone(), a.reward.to_bits(), a.info.end),
                (b.obs.clone(), b.reward.to_bits(), b.info.end)
            );
            if a.terminated || a.truncated {
                assert!(step.episode_over);
                single.reset(None);
                multi.reset(None);
            }
        }
    }
}

#[test]
fn each_car_has_its_own_lidar_that_sees_the_others() {
    // One level channel at bumper height (the default mount looks over a car's roof).
    let lidar = "lidar: Some((channels: 1, rays: 360, vertical_fov: (0.0, 0.0), \
                 mount: (forward: 0.5, up: 0.2, left: 0.0)))";
    let scenario = convoy(&[40.0, 20.0], 0.0, lidar);
    let mut env = MultiAgentEnv::new(scenario, 1);
    let first = env.reset(Some(1));
    let beams = LidarBeams::new(env.scenario().lidar.as_ref().unwrap());
    let (_, rays) = beams.shape();
    let length = env.world().ego_length();
    let gap = 20.0 - length; // nose to tail
    // Columns run from behind on the left round to behind on the right: the middle one looks
    // ahead, the first behind. Car 1's forward beam meets car 0's tail; car 0's backward beam
    // meets car 1's nose.
    let forward = first[1].0.lidar.as_ref().unwrap()[rays / 2];
    let backward = first[0].0.lidar.as_ref().unwrap()[0];
    let mount = env.scenario().lidar.as_ref().unwrap().mount.forward;
    assert!((forward - (gap + length / 2.0 - mount)).abs() < 0.6, "forward {forward}, gap {gap}");
    assert!((backward - (gap + length / 2.0 + mount)).abs() < 0.6, "backward {backward}, gap {gap}");
}

#[test]
fn bad_agents_are_named_by_field() {
    let problems = |agents: &str| {
        let text =
            format!("Scenario(road: (segments: [Straight(length: 200.0)], lanes: 2), agents: [{agents}])");
        scenario::parse_str(&text, "a.ron").unwrap_err().to_string()
    };
    let one = problems("(spawn: (s: 10.0))");
    assert!(one.contains("agents: must list 2 to 64 cars (got 1)"), "{one}");
    let overlap = problems("(spawn: (s: 10.0)), (spawn: (s: 12.0))");
    assert!(overlap.contains("agents[1].spawn: overlaps agents[0]"), "{overlap}");
    let off = problems("(spawn: (s: 10.0)), (spawn: (s: 250.0, lane: 2))");
    assert!(off.contains("agents[1].spawn.s: must be at most the road's length"), "{off}");
    assert!(off.contains("agents[1].spawn.lane: must be a lane index from 0 to 1"), "{off}");
    let route = problems("(spawn: (s: 10.0), route: Some(Roads([\"a\"]))), (spawn: (s: 50.0))");
    assert!(route.contains("agents[0].route: a route needs a road network"), "{route}");
    let reward = problems("(spawn: (s: 10.0), reward: Some((target_speed: 0.0))), (spawn: (s: 50.0))");
    assert!(reward.contains("agents[0].reward.target_speed"), "{reward}");
    let camera = problems("(spawn: (s: 10.0), camera: Some((fov: 200.0, pitch: -95.0))), (spawn: (s: 50.0))");
    assert!(camera.contains("agents[0].camera.fov") && camera.contains("agents[0].camera.pitch"), "{camera}");
    // Side by side in two lanes is fine.
    let fine = "Scenario(road: (segments: [Straight(length: 200.0)], lanes: 2), \
                agents: [(spawn: (s: 10.0)), (spawn: (s: 10.0, lane: 1))])";
    assert!(scenario::parse_str(fine, "a.ron").is_ok());
}

#[test]
fn a_network_agent_route_is_checked_on_the_network() {
    let text = scenario::template_of("intersection", "x").unwrap();
    let base = scenario::parse_str(&text, "x.ron").unwrap();
    let with = |agents: &str| {
        let shown =
            scenario::to_ron(&base).replacen("Scenario(", &format!("Scenario(\n    agents: [{agents}],"), 1);
        scenario::parse_str(&shown, "x.ron")
    };
    let bad = with("(spawn: (s: 5.0)), (spawn: (s: 5.0, lane: 0), route: Some(Random(from: \"nowhere\")))")
        .unwrap_err()
        .to_string();
    assert!(bad.contains("agents[1].route.Random.from"), "{bad}");
    let good = with("(spawn: (s: 5.0)), (spawn: (s: 40.0))").unwrap_or_else(|e| panic!("{e}"));
    let mut env = MultiAgentEnv::new(Arc::new(good), 1);
    let first = env.reset(Some(1));
    assert_eq!(first.len(), 2);
    let step = drive(&mut env, CRUISE);
    assert!(step.agents.iter().all(Option::is_some));
}
