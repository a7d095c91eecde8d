//! How an episode looks: the scenario's colours and sun, randomised within the scenario's ranges
//! from the episode seed. A stream of its own, so drawing a look never changes the physics.

use super::meshes::{PALETTE_SIZE, Palette};
use crate::scenario::Look as LookConfig;
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
