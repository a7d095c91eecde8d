//! How an episode looks: the scenario's colours and sun, randomised within the scenario's ranges
//! from the episode seed. A stream of its own, so drawing a look never changes the physics.

use crate::meshes::{PALETTE_SIZE, Palette};
use lepton_sim::scenario::{Event, Look as LookConfig, LookChange};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Salt that separates the look's random stream from the physics stream of the same episode.
const LOOK_STREAM: u64 = 0x4c4f_4f4b_5f52_4e47;

/// The resolved look of one episode. Colours are linear RGB in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeLook {
    pub sky: [f32; 3],
    pub ground: [f32; 3],
    pub road: [f32; 3],
    pub shoulder: [f32; 3],
    pub marking: [f32; 3],
    /// Sun elevation and azimuth (radians).
    pub sun_elevation: f32,
    pub sun_azimuth: f32,
    /// Sun brightness relative to the scenario's (1 = as written).
    pub brightness: f32,
}

impl EpisodeLook {
    /// The look of the episode with seed `episode_seed`.
    pub fn draw(config: &LookConfig, episode_seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(episode_seed ^ LOOK_STREAM);
        let r = &config.randomise;
        let mut jitter = |amount: f32| if amount > 0.0 { rng.random_range(-amount..=amount) } else { 0.0 };
        let colour = |c: [f32; 3], jitter: &mut dyn FnMut(f32) -> f32| {
            c.map(|channel| (channel + jitter(r.colour)).clamp(0.0, 1.0))
        };
        let sky = colour(config.sky, &mut jitter);
        let ground = colour(config.ground, &mut jitter);
        let road = colour(config.road, &mut jitter);
        let shoulder = colour(config.shoulder, &mut jitter);
        let marking = colour(config.marking, &mut jitter);
        let sun_elevation = (config.sun_elevation + jitter(r.sun_angle)).clamp(5.0, 90.0).to_radians();
        let sun_azimuth = (config.sun_azimuth + jitter(r.sun_angle)).to_radians();
        let brightness = (1.0 + jitter(r.brightness)).max(0.05) * config.sun_brightness / 10_000.0;
        Self { sky, ground, road, shoulder, marking, sun_elevation, sun_azimuth, brightness }
    }

    /// The look of episode `episode_seed` after the look changes of the events in `happened`.
    pub fn with_events(config: &LookConfig, episode_seed: u64, events: &[Event], happened: u64) -> Self {
        let mut look = Self::draw(config, episode_seed);
        for change in lepton_sim::events::look_changes(events, happened) {
            look.change(config, change);
        }
        look
    }

    /// Applies an event's change: given colours and sun angles replace the episode's; a new
    /// brightness keeps the episode's random factor.
    fn change(&mut self, config: &LookConfig, change: &LookChange) {
        let replace = |target: &mut [f32; 3], value: Option<[f32; 3]>| *target = value.unwrap_or(*target);
        replace(&mut self.sky, change.sky);
        replace(&mut self.ground, change.ground);
        replace(&mut self.road, change.road);
        replace(&mut self.shoulder, change.shoulder);
        replace(&mut self.marking, change.marking);
        if let Some(elevation) = change.sun_elevation {
            self.sun_elevation = elevation.clamp(5.0, 90.0).to_radians();
        }
        if let Some(azimuth) = change.sun_azimuth {
            self.sun_azimuth = azimuth.to_radians();
        }
        if let Some(brightness) = change.sun_brightness {
            let factor = if config.sun_brightness > 0.0 {
                self.brightness * 10_000.0 / config.sun_brightness
            } else {
                1.0
            };
            self.brightness = (factor * brightness / 10_000.0).max(0.0);
        }
    }

    /// Light falling on a surface facing up: ambient sky light plus the sun at its elevation.
    pub fn light_from_above(&self) -> f32 {
        (0.45 + 0.55 * self.sun_elevation.sin()) * self.brightness
    }

    /// A colour as lit from above, for unlit (baked) rendering.
    pub fn lit(&self, colour: [f32; 3]) -> [f32; 3] {
        let light = self.light_from_above();
        colour.map(|c| (c * light).clamp(0.0, 1.0))
    }

    /// The palette the scene's vertices choose from, in [`Palette`] order (linear RGBA), padded
    /// with white.
    pub fn palette(&self) -> [[f32; 4]; PALETTE_SIZE] {
        let mut p = [[1.0; 4]; PALETTE_SIZE];
        let mut set = |entry: Palette, c: [f32; 3]| p[entry as usize] = [c[0], c[1], c[2], 1.0];
        set(Palette::Ground, self.lit(self.ground));
        set(Palette::Road, self.lit(self.road));
        set(Palette::Shoulder, self.lit(self.shoulder));
        set(Palette::Marking, self.lit(self.marking));
        set(Palette::Sky, self.sky.map(|c| (c * self.brightness.sqrt()).clamp(0.0, 1.0)));
        set(Palette::Object, [self.light_from_above().min(1.0); 3]);
        set(Palette::Tinted, [self.light_from_above().min(1.0); 3]);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_randomisation_the_look_is_the_scenarios() {
        let config = LookConfig::default();
        let look = EpisodeLook::draw(&config, 1);
        assert_eq!(look, EpisodeLook::draw(&config, 2));
        assert_eq!(look.sky, config.sky);
        assert!((look.brightness - 1.0).abs() < 1e-6);
    }

    #[test]
    fn events_change_only_what_they_name() {
        use lepton_sim::scenario::{EventAction, Trigger};
        let config = LookConfig::default();
        let dusk =
            LookChange { sky: Some([0.9, 0.4, 0.2]), sun_brightness: Some(2500.0), ..Default::default() };
        let events = vec![Event {
            name: "dusk".into(),
            when: Trigger::Time { seconds: 1.0 },
            delay: 0.0,
            then: vec![EventAction::Look(dusk)],
        }];
        let before = EpisodeLook::with_events(&config, 3, &events, 0);
        assert_eq!(before, EpisodeLook::draw(&config, 3));
        let after = EpisodeLook::with_events(&config, 3, &events, 1);
        assert_eq!(after.sky, [0.9, 0.4, 0.2]);
        assert_eq!(after.road, before.road);
        assert!((after.brightness - 0.25).abs() < 1e-6);
        assert_ne!(after.palette(), before.palette());
    }

    #[test]
    fn randomisation_stays_in_range_and_follows_the_seed() {
        let mut config = LookConfig::default();
        config.randomise.colour = 0.1;
        config.randomise.brightness = 0.3;
        config.randomise.sun_angle = 10.0;
        let a = EpisodeLook::draw(&config, 1);
        assert_eq!(a, EpisodeLook::draw(&config, 1));
        assert_ne!(a, EpisodeLook::draw(&config, 2));
        for seed in 0..200 {
            let l = EpisodeLook::draw(&config, seed);
            for (got, base) in l.ground.iter().zip(config.ground) {
                assert!((got - base).abs() <= 0.1 + 1e-6);
            }
            assert!((0.7 - 1e-6..=1.3 + 1e-6).contains(&l.brightness));
        }
    }
}
