//! Scripted events: triggers and actions that name NPCs and positions that exist.

use super::*;

/// Checks `events`; on a road network (`network`) the roads `EgoAt` names are checked with the
/// network, and what only a single road carries is refused there.
pub(super) fn events(c: &mut Checker, events: &[Event], road: &RoadFacts, npcs: u32, network: bool) {
    if events.len() > MAX_EVENTS {
        c.report("events", format!("must have at most {MAX_EVENTS} events (got {})", events.len()));
    }
    let npc = |c: &mut Checker, path: String, index: u32| {
        if index >= npcs {
            let have = match npcs {
                0 => "there are none (traffic.count is 0)".to_string(),
                1 => "the only NPC is 0 (traffic.count is 1)".to_string(),
                n => format!("NPCs are numbered 0 to {} (traffic.count is {n})", n - 1),
            };
            c.report(path, format!("must name an NPC: {have} (got {index})"));
        }
    };
    for (i, event) in events.iter().enumerate() {
        let path = format!("events[{i}]");
        if event.name.trim().is_empty() || event.name.chars().count() > 60 {
            c.report(format!("{path}.name"), "must be 1 to 60 characters: the trace and the viewer show it");
        } else if event.name.chars().any(|ch| ch.is_control() || ch == ';' || ch == ',') {
            c.report(
                format!("{path}.name"),
                format!("must not contain ';', ',' or control characters (got {:?})", event.name),
            );
        } else if let Some(first) = events[..i].iter().position(|e| e.name == event.name) {
            c.report(
                format!("{path}.name"),
                format!("must be unique: events[{first}] is also {:?}", event.name),
            );
        }
        let when = format!("{path}.when");
        match &event.when {
            &Trigger::Time { seconds } => {
                c.in_range(&format!("{when}.Time.seconds"), seconds, 0.0, 86_400.0);
            }
            Trigger::EgoAt { s, road: None } if network => {
                c.finite(&format!("{when}.EgoAt.s"), *s);
                c.report(
                    format!("{when}.EgoAt.road"),
                    "on a road network EgoAt names the road: EgoAt(road: \"south\", s: 40.0)",
                );
            }
            Trigger::EgoAt { s, road: None } => along_road(c, &format!("{when}.EgoAt.s"), *s, road),
            Trigger::EgoAt { s, road: Some(_) } if network => {
                // Its name and length are checked with the network's roads.
                c.finite(&format!("{when}.EgoAt.s"), *s);
            }
            Trigger::EgoAt { road: Some(_), .. } => c.report(
                format!("{when}.EgoAt.road"),
                "names a road of a road network: leave it out on a single road",
            ),
            Trigger::Gap { .. } | Trigger::TimeToCollision { .. } if network => c.report(
                when.clone(),
                "names an NPC along a single road and is not yet supported on a network: use Time or EgoAt",
            ),
            &Trigger::Gap { npc: index, below } => {
                npc(c, format!("{when}.Gap.npc"), index);
                c.positive(&format!("{when}.Gap.below"), below, 10_000.0);
            }
            &Trigger::TimeToCollision { npc: index, below } => {
                npc(c, format!("{when}.TimeToCollision.npc"), index);
                c.positive(&format!("{when}.TimeToCollision.below"), below, 3600.0);
            }
        }
        c.in_range(&format!("{path}.delay"), event.delay, 0.0, 86_400.0);
        if event.then.is_empty() {
            c.report(format!("{path}.then"), "must not be empty: an event needs at least one action");
        } else if event.then.len() > MAX_EVENT_ACTIONS {
            c.report(
                format!("{path}.then"),
                format!("must have at most {MAX_EVENT_ACTIONS} actions (got {})", event.then.len()),
            );
        }
        for (j, action) in event.then.iter().enumerate() {
            let path = format!("{path}.then[{j}]");
            let single_road_only = matches!(
                action,
                EventAction::CutIn { .. }
                    | EventAction::Brake { .. }
                    | EventAction::Stop { .. }
                    | EventAction::Obstacle(_)
            );
            if network && single_road_only {
                c.report(
                    path,
                    "acts on a single road's NPCs or places an obstacle along it and is not yet supported on a network: use Look or TargetSpeed",
                );
                continue;
            }
            match action {
                EventAction::CutIn { npc: index, duration } => {
                    npc(c, format!("{path}.CutIn.npc"), *index);
                    c.positive(&format!("{path}.CutIn.duration"), *duration, 60.0);
                }
                EventAction::Brake { npc: index, decel, to_speed } => {
                    npc(c, format!("{path}.Brake.npc"), *index);
                    c.positive(&format!("{path}.Brake.decel"), *decel, MAX_DECEL);
                    c.in_range(&format!("{path}.Brake.to_speed"), *to_speed, 0.0, MAX_SPEED);
                }
                EventAction::Stop { npc: index } => npc(c, format!("{path}.Stop.npc"), *index),
                EventAction::Obstacle(o) => {
                    super::obstacles::single_road(c, &format!("{path}.Obstacle"), o);
                    obstacle(c, &format!("{path}.Obstacle"), o, road)
                }
                EventAction::Look(change) => look_change(c, &format!("{path}.Look"), change),
                EventAction::TargetSpeed { speed } => {
                    c.positive(&format!("{path}.TargetSpeed.speed"), *speed, MAX_SPEED);
                }
            }
        }
    }
}
