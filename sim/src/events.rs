//! Scripted events at run time: each physics step, the triggers of the scenario's events are
//! checked against the state the step starts with; a trigger that fires schedules its event's
//! actions `delay` seconds later, and each event happens at most once an episode.
//!
//! Everything here is a function of the episode's state and clock, so events are as
//! deterministic as the physics (and replaying an episode's controls replays its events).

use crate::road::RoadGeometry;
use crate::scenario::{Event, EventAction, LookChange, Trigger};

/// Bit `i` of a mask stands for the scenario's event `i`.
pub type EventMask = u64;

/// Times a whole number of physics steps apart compare equal despite f32 rounding (s).
const TIME_TOLERANCE: f32 = 1e-4;

/// What a trigger looks at: the ego car and the NPCs, in road coordinates.
#[derive(Debug, Clone, Copy)]
pub struct EgoOnRoad {
    /// On a road network: the road whose carriageway the ego is on (`None` in a junction).
    pub road: Option<usize>,
    /// Arc length now, and at the previous physics step (m).
    pub s: f32,
    pub last_s: f32,
    /// Speed (m/s) and body length (m).
    pub speed: f32,
    pub length: f32,
}

/// One NPC as a trigger sees it.
#[derive(Debug, Clone, Copy)]
pub struct NpcOnRoad {
    pub s: f32,
    pub speed: f32,
    pub length: f32,
    pub active: bool,
}

/// The events of one episode: the clock, which have fired and which have happened.
#[derive(Debug, Clone, Default)]
pub struct EventClock {
    /// Physics steps taken this episode, and their length (s): the clock counts steps rather
    /// than summing seconds, so it does not drift.
    steps: u32,
    dt: f32,
    /// When each event's trigger fired (episode seconds).
    fired_at: Vec<Option<f32>>,
    /// Per event: the network road an `EgoAt` trigger names, as an index into `road_names`.
    roads: Vec<Option<usize>>,
    /// Events whose actions have happened.
    happened: EventMask,
}

impl EventClock {
    /// The clock of `events` with physics step `dt`; `road_names` are the network's roads (an
    /// `EgoAt` trigger naming none of them never fires: validation refuses it).
    pub fn new(events: &[Event], dt: f32, road_names: &[String]) -> Self {
        let roads = events
            .iter()
            .map(|e| match &e.when {
                Trigger::EgoAt { road: Some(name), .. } => road_names.iter().position(|n| n == name),
                _ => None,
            })
            .collect();
        Self { steps: 0, dt, fired_at: vec![None; events.len()], roads, happened: 0 }
    }

    /// Episode time (s) at the start of the coming physics step.
    pub fn time(&self) -> f32 {
        self.steps as f32 * self.dt
    }

    /// Events whose actions have happened this episode.
    pub fn happened(&self) -> EventMask {
        self.happened
    }

    /// Checks every trigger at the start of a physics step and returns the events whose actions
    /// are due now (fired this step with no delay, or fired earlier and their delay is over).
    pub fn due(
        &mut self,
        events: &[Event],
        road: &RoadGeometry,
        ego: EgoOnRoad,
        npcs: &[NpcOnRoad],
    ) -> EventMask {
        let mut due = 0;
        let time = self.time();
        for (i, event) in events.iter().enumerate() {
            if self.happened & (1 << i) != 0 {
                continue;
            }
            let on = match event.when {
                Trigger::EgoAt { road: Some(_), .. } => Some(self.roads[i]),
                _ => None,
            };
            if self.fired_at[i].is_none() && fires(&event.when, on, time, road, ego, npcs) {
                self.fired_at[i] = Some(time);
            }
            if self.fired_at[i].is_some_and(|t| time >= t + event.delay - TIME_TOLERANCE) {
                due |= 1 << i;
            }
        }
        self.happened |= due;
        due
    }

    /// Moves the clock on by one physics step.
    pub fn tick(&mut self) {
        self.steps += 1;
    }
}

/// Whether `trigger` holds at episode time `time`; `on` is the network road an `EgoAt` trigger
/// names (`Some(None)` when it names none), `None` on a single road.
fn fires(
    trigger: &Trigger,
    on: Option<Option<usize>>,
    time: f32,
    road: &RoadGeometry,
    ego: EgoOnRoad,
    npcs: &[NpcOnRoad],
) -> bool {
    match *trigger {
        Trigger::Time { seconds } => time >= seconds - TIME_TOLERANCE,
        // On a network: on the named road, at or past `s` along it.
        Trigger::EgoAt { s, .. } if on.is_some() => {
            on.flatten().is_some_and(|r| ego.road == Some(r) && ego.s >= s)
        }
        Trigger::EgoAt { s, .. } => {
            if road.closed() {
                // On a loop, "reaching" s means crossing it going forward.
                let moved = road.delta_s(ego.last_s, ego.s);
                let to_mark = (s - ego.last_s).rem_euclid(road.length());
                moved > 0.0 && to_mark > 0.0 && to_mark <= moved
            } else {
                ego.s >= s
            }
        }
        Trigger::Gap { npc, below } => gap_to(road, ego, npcs, npc).is_some_and(|gap| gap < below),
        Trigger::TimeToCollision { npc, below } => gap_to(road, ego, npcs, npc).is_some_and(|gap| {
            let closing = ego.speed - npcs[npc as usize].speed;
            closing > 0.0 && gap.max(0.0) / closing < below
        }),
    }
}

/// Bumper-to-bumper distance along the road from the ego car to NPC `index`, when the NPC is on
/// the road and ahead of the ego car.
fn gap_to(road: &RoadGeometry, ego: EgoOnRoad, npcs: &[NpcOnRoad], index: u32) -> Option<f32> {
    let npc = npcs.get(index as usize).filter(|n| n.active)?;
    let ahead = road.delta_s(ego.s, npc.s);
    (ahead > 0.0).then_some(ahead - 0.5 * (ego.length + npc.length))
}

/// The target speed after the events in `happened` (the last `TargetSpeed` in file order wins).
pub fn target_speed(events: &[Event], happened: EventMask) -> Option<f32> {
    actions_of(events, happened)
        .filter_map(|a| match a {
            EventAction::TargetSpeed { speed } => Some(*speed),
            _ => None,
        })
        .last()
}

/// The look changes of the events in `happened`, in file order.
pub fn look_changes(events: &[Event], happened: EventMask) -> impl Iterator<Item = &LookChange> {
    actions_of(events, happened).filter_map(|a| match a {
        EventAction::Look(change) => Some(change),
        _ => None,
    })
}

/// Events that change the look (their bits), so a renderer knows when to recompute its colours.
pub fn look_mask(events: &[Event]) -> EventMask {
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.then.iter().any(|a| matches!(a, EventAction::Look(_))))
        .fold(0, |mask, (i, _)| mask | 1 << i)
}

/// Each `Obstacle` action of the scenario with the event it belongs to, in file order: the order
/// in which worlds and renderers number event obstacles.
pub fn event_obstacles(events: &[Event]) -> impl Iterator<Item = (usize, &crate::scenario::Obstacle)> {
    events.iter().enumerate().flat_map(|(i, e)| {
        e.then.iter().filter_map(move |a| match a {
            EventAction::Obstacle(o) => Some((i, o)),
            _ => None,
        })
    })
}

/// The actions of the events in `mask`, in file order.
fn actions_of(events: &[Event], mask: EventMask) -> impl Iterator<Item = &EventAction> {
    events.iter().enumerate().filter(move |(i, _)| mask & (1 << i) != 0).flat_map(|(_, e)| e.then.iter())
}

/// The names of the events in `mask`, joined by `;` (the rollout trace's column).
pub fn names(events: &[Event], mask: EventMask) -> String {
    let mut out = String::new();
    for (i, event) in events.iter().enumerate() {
        if mask & (1 << i) != 0 {
            if !out.is_empty() {
                out.push(';');
            }
            out.push_str(&event.name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Road;

    fn event(when: Trigger, delay: f32) -> Event {
        Event { name: "e".into(), when, delay, then: vec![EventAction::Stop { npc: 0 }] }
    }

    fn ego(s: f32, speed: f32) -> EgoOnRoad {
        EgoOnRoad { road: Some(0), s, last_s: s - 0.1, speed, length: 4.0 }
    }

    #[test]
    fn triggers_fire_at_their_conditions_and_events_happen_once_after_their_delay() {
        let road = RoadGeometry::new(&Road::default());
        let npc = |s, speed| [NpcOnRoad { s, speed, length: 4.0, active: true }];
        let events = vec![
            event(Trigger::Time { seconds: 0.5 }, 0.0),
            event(Trigger::EgoAt { s: 50.0, road: None }, 0.2),
            event(Trigger::Gap { npc: 0, below: 10.0 }, 0.0),
            event(Trigger::TimeToCollision { npc: 0, below: 2.0 }, 0.0),
        ];
        let mut clock = EventClock::new(&events, 0.02, &[String::new()]);
        // 30 m ahead, 26 m gap, closing at 10 m/s: TTC 2.6 s.
        assert_eq!(clock.due(&events, &road, ego(10.0, 20.0), &npc(40.0, 10.0)), 0);
        // 20 m ahead, 16 m gap: TTC 1.6 s.
        assert_eq!(clock.due(&events, &road, ego(20.0, 20.0), &npc(40.0, 10.0)), 0b1000);
        // 12 m ahead (8 m gap) — but the NPC behind does not count.
        assert_eq!(clock.due(&events, &road, ego(48.0, 20.0), &npc(40.0, 10.0)), 0);
        assert_eq!(clock.due(&events, &road, ego(28.0, 20.0), &npc(40.0, 10.0)), 0b0100);
        for _ in 0..25 {
            clock.tick();
        }
        assert_eq!(clock.due(&events, &road, ego(50.0, 20.0), &npc(40.0, 10.0)), 0b0001, "0.5 s");
        for _ in 0..9 {
            clock.tick();
            assert_eq!(clock.due(&events, &road, ego(50.0, 20.0), &npc(40.0, 10.0)), 0, "delay not over");
        }
        clock.tick();
        assert_eq!(clock.due(&events, &road, ego(50.0, 20.0), &npc(40.0, 10.0)), 0b0010, "0.2 s later");
        assert_eq!(clock.happened(), 0b1111);
        assert_eq!(names(&events, 0b0101), "e;e");
    }

    #[test]
    fn on_a_loop_ego_at_fires_when_the_car_crosses_the_mark() {
        let road = RoadGeometry::new(&Road::default());
        assert!(!road.closed());
        let road_loop = RoadGeometry::new(&Road { closed: true, ..Default::default() });
        let length = road_loop.length();
        let at = |s| Trigger::EgoAt { s, road: None };
        let crossing = EgoOnRoad { road: Some(0), s: 0.3, last_s: length - 0.2, speed: 10.0, length: 4.0 };
        assert!(fires(&at(0.1), None, 0.0, &road_loop, crossing, &[]));
        assert!(!fires(&at(5.0), None, 0.0, &road_loop, crossing, &[]));
        assert!(fires(&at(5.0), None, 0.0, &road, ego(6.0, 1.0), &[]), "open road: at or past the mark");
        // On a network: only on the named road (index 2 here), at or past the mark along it.
        let on_road = |road, s| EgoOnRoad { road, s, last_s: s - 0.2, speed: 10.0, length: 4.0 };
        assert!(fires(&at(5.0), Some(Some(2)), 0.0, &road, on_road(Some(2), 6.0), &[]));
        assert!(!fires(&at(5.0), Some(Some(2)), 0.0, &road, on_road(Some(1), 6.0), &[]), "another road");
        assert!(!fires(&at(5.0), Some(Some(2)), 0.0, &road, on_road(None, 6.0), &[]), "in a junction");
        assert!(!fires(&at(5.0), Some(Some(2)), 0.0, &road, on_road(Some(2), 4.0), &[]), "short of it");
        assert!(!fires(&at(5.0), Some(None), 0.0, &road, on_road(Some(2), 6.0), &[]), "an unknown road");
    }
}
