//! The depth and semantic cameras' images as pictures people can look at: depth in grey (near
//! bright, far dark, on a log scale from 1 m to 200 m, the sky black), classes in their palette
//! colours ([`crate::batch::Class::colour`]). `lepton render --sensor depth|semantic` and videos
//! (`lepton eval --video DIR --video-sensor depth|semantic`) draw them.

use crate::batch::Class;
use lepton_sim::Frame;

/// Which image of the camera a picture or video shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SensorView {
    /// The colour frame.
    #[default]
    Camera,
    Depth,
    Semantic,
}

impl SensorView {
    /// The images the renderer must draw for it.
    pub fn sensors(self) -> lepton_sim::CameraSensors {
        lepton_sim::CameraSensors { depth: self == SensorView::Depth, semantic: self == SensorView::Semantic }
    }
}

/// A depth image (`width × height` metres) as an RGB picture in shades of grey.
pub fn depth_picture(width: u32, height: u32, metres: &[f32]) -> Frame {
    let shade = |d: f32| {
        if d > 1000.0 {
            return 0;
        }
        let t = 1.0 - d.clamp(1.0, 200.0).ln() / 200f32.ln();
        (40.0 + 215.0 * t).round() as u8
    };
    Frame { width, height, channels: 3, data: metres.iter().flat_map(|&d| [shade(d); 3]).collect() }
}

/// A semantic image (`width × height` classes) as an RGB picture in the classes' colours (black
/// for a value that is no class).
pub fn semantic_picture(width: u32, height: u32, classes: &[u8]) -> Frame {
    let colour = |c: u8| Class::ALL.get(c as usize).map_or([0; 3], |class| class.colour());
    Frame { width, height, channels: 3, data: classes.iter().flat_map(|&c| colour(c)).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_is_brighter_than_far_and_the_sky_is_black() {
        let picture = depth_picture(3, 1, &[2.0, 50.0, 2000.0]);
        let grey: Vec<u8> = picture.data.chunks(3).map(|p| p[0]).collect();
        assert!(grey[0] > grey[1] && grey[1] > grey[2] && grey[2] == 0, "{grey:?}");
    }

    #[test]
    fn classes_take_their_colours() {
        let picture = semantic_picture(2, 1, &[Class::Road as u8, Class::Vehicle as u8]);
        assert_eq!(picture.data, [Class::Road.colour(), Class::Vehicle.colour()].concat());
    }
}
