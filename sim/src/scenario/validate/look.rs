//! The look: colours, the sun, randomisation ranges, and look changes events make.

use super::*;

pub(super) fn look(c: &mut Checker, look: &Look) {
    c.colour("look.sky", look.sky);
    c.colour("look.ground", look.ground);
    c.colour("look.road", look.road);
    c.colour("look.shoulder", look.shoulder);
    c.colour("look.marking", look.marking);
    c.in_range("look.sun_elevation", look.sun_elevation, 0.0, 90.0);
    c.in_range("look.sun_azimuth", look.sun_azimuth, -360.0, 360.0);
    c.in_range("look.sun_brightness", look.sun_brightness, 0.0, 1_000_000.0);
    let r = &look.randomise;
    c.in_range("look.randomise.brightness", r.brightness, 0.0, 1.0);
    c.in_range("look.randomise.colour", r.colour, 0.0, 0.5);
    c.in_range("look.randomise.sun_angle", r.sun_angle, 0.0, 90.0);
}
pub(super) fn look_change(c: &mut Checker, path: &str, change: &LookChange) {
    let colours = [
        ("sky", change.sky),
        ("ground", change.ground),
        ("road", change.road),
        ("shoulder", change.shoulder),
        ("marking", change.marking),
    ];
    for (field, colour) in colours {
        if let Some(colour) = colour {
            c.colour(&format!("{path}.{field}"), colour);
        }
    }
    if let Some(v) = change.sun_elevation {
        c.in_range(&format!("{path}.sun_elevation"), v, 0.0, 90.0);
    }
    if let Some(v) = change.sun_azimuth {
        c.in_range(&format!("{path}.sun_azimuth"), v, -360.0, 360.0);
    }
    if let Some(v) = change.sun_brightness {
        c.in_range(&format!("{path}.sun_brightness"), v, 0.0, 1_000_000.0);
    }
    if *change == LookChange::default() {
        c.report(path, "changes nothing: give at least one field (sky, sun_brightness, …)");
    }
}
