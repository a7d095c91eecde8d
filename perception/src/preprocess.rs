//! Frame preprocessing as small composable steps, Gymnasium-wrapper style:
//! u8 frame → optional grey → optional resize → planar u8 (or f32 in [0, 1]) → stack of the last k frames.

use lepton_sim::Frame;
use serde::{Deserialize, Serialize};

/// An image in planar-agnostic, row-major interleaved layout (H × W × C), u8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub data: Vec<u8>,
}

impl Image {
    pub fn from_frame(frame: &Frame) -> Self {
        Self { width: frame.width, height: frame.height, channels: frame.channels, data: frame.data.clone() }
    }

    /// Number of values (H × W × C).
    pub fn len(&self) -> usize {
        self.width as usize * self.height as usize * self.channels as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One preprocessing step on u8 images.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// RGB → one channel of BT.601 luma (the renderer's own grey formula); grey stays grey.
    Grey,
    /// Area-average (down) or bilinear (up) resize to `width` × `height`.
    Resize { width: u32, height: u32 },
}

impl Step {
    pub fn apply(&self, image: &Image) -> Image {
        match *self {
            Step::Grey => grey(image),
            Step::Resize { width, height } => resize(image, width, height),
        }
    }
}

/// A chain of [`Step`]s ending in the conversion to f32 in [0, 1], channel-major (C × H × W),
/// the layout the networks take.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    pub steps: Vec<Step>,
}

impl Preprocess {
    /// Grey if asked, then resize if the size differs from the input's.
    pub fn new(grey: bool, resize: Option<(u32, u32)>) -> Self {
        let mut steps = Vec::new();
        if grey {
            steps.push(Step::Grey);
        }
        if let Some((width, height)) = resize {
            steps.push(Step::Resize { width, height });
        }
        Self { steps }
    }

    /// The u8 image after every step.
    pub fn image(&self, image: &Image) -> Image {
        let mut out = image.clone();
        for step in &self.steps {
            out = step.apply(&out);
        }
        out
    }

    /// The (channels, height, width) this pipeline makes of an input of the given shape.
    pub fn output_shape(&self, channels: u8, height: u32, width: u32) -> (usize, usize, usize) {
        let (mut c, mut h, mut w) = (channels, height, width);
        for step in &self.steps {
            match *step {
                Step::Grey => c = 1,
                Step::Resize { width, height } => (w, h) = (width, height),
            }
        }
        (c as usize, h as usize, w as usize)
    }

    /// Runs the steps and returns the u8 values channel-major (C × H × W).
    pub fn to_u8_chw(&self, image: &Image) -> Vec<u8> {
        if self.steps.is_empty() { to_u8_chw(image) } else { to_u8_chw(&self.image(image)) }
    }

    /// Runs the steps and writes f32 values in [0, 1], channel-major, to `out`.
    pub fn to_f32_into(&self, image: &Image, out: &mut Vec<f32>) {
        let image = if self.steps.is_empty() { image.clone() } else { self.image(image) };
        to_f32_chw(&image, out);
    }
}

/// Interleaved u8 H × W × C → planar C × H × W (the layout networks and the replay buffer take).
pub fn to_u8_chw(image: &Image) -> Vec<u8> {
    let c = image.channels as usize;
    if c == 1 {
        return image.data.clone();
    }
    let hw = image.width as usize * image.height as usize;
    let mut out = vec![0u8; c * hw];
    for (i, px) in image.data.chunks_exact(c).enumerate() {
        for (ch, &v) in px.iter().enumerate() {
            out[ch * hw + i] = v;
        }
    }
    out
}

/// u8 HWC → f32 CHW in [0, 1], appended to `out`.
pub fn to_f32_chw(image: &Image, out: &mut Vec<f32>) {
    let c = image.channels as usize;
    let hw = image.width as usize * image.height as usize;
    out.reserve(c * hw);
    for channel in 0..c {
        out.extend(image.data[channel..].iter().step_by(c).take(hw).map(|&v| v as f32 / 255.0));
    }
}

/// BT.601 luma, rounded, as the renderer computes it for `format: Grey`.
pub fn grey(image: &Image) -> Image {
    if image.channels == 1 {
        return image.clone();
    }
    let c = image.channels as usize;
    let data = image
        .data
        .chunks_exact(c)
        .map(|p| (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).round().min(255.0) as u8)
        .collect();
    Image { width: image.width, height: image.height, channels: 1, data }
}

/// Resizes with an area average when shrinking (no aliasing of thin lane lines) and bilinear
/// interpolation when growing.
pub fn resize(image: &Image, width: u32, height: u32) -> Image {
    if (image.width, image.height) == (width, height) {
        return image.clone();
    }
    let (sw, sh, c) = (image.width as usize, image.height as usize, image.channels as usize);
    let (dw, dh) = (width as usize, height as usize);
    let mut data = vec![0u8; dw * dh * c];
    let sx = sw as f32 / dw as f32;
    let sy = sh as f32 / dh as f32;
    for y in 0..dh {
        for x in 0..dw {
            for ch in 0..c {
                let value = if sx >= 1.0 && sy >= 1.0 {
                    area_mean(
                        image,
                        ch,
                        x as f32 * sx,
                        (x + 1) as f32 * sx,
                        y as f32 * sy,
                        (y + 1) as f32 * sy,
                    )
                } else {
                    bilinear(image, ch, (x as f32 + 0.5) * sx - 0.5, (y as f32 + 0.5) * sy - 0.5)
                };
                data[(y * dw + x) * c + ch] = value.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Image { width, height, channels: image.channels, data }
}

fn pixel(image: &Image, ch: usize, x: usize, y: usize) -> f32 {
    image.data[(y * image.width as usize + x) * image.channels as usize + ch] as f32
}

/// Mean over the source rectangle [x0, x1) × [y0, y1), weighting partly covered pixels.
fn area_mean(image: &Image, ch: usize, x0: f32, x1: f32, y0: f32, y1: f32) -> f32 {
    let (mut sum, mut weight) = (0.0, 0.0);
    let (w, h) = (image.width as usize, image.height as usize);
    for y in (y0.floor() as usize)..(y1.ceil() as usize).min(h) {
        let wy = (y1.min(y as f32 + 1.0) - y0.max(y as f32)).max(0.0);
        for x in (x0.floor() as usize)..(x1.ceil() as usize).min(w) {
            let wx = (x1.min(x as f32 + 1.0) - x0.max(x as f32)).max(0.0);
            sum += wx * wy * pixel(image, ch, x, y);
            weight += wx * wy;
        }
    }
    if weight > 0.0 { sum / weight } else { 0.0 }
}

fn bilinear(image: &Image, ch: usize, x: f32, y: f32) -> f32 {
    let (w, h) = (image.width as usize, image.height as usize);
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let top = pixel(image, ch, x0, y0) * (1.0 - fx) + pixel(image, ch, x1, y0) * fx;
    let bottom = pixel(image, ch, x0, y1) * (1.0 - fx) + pixel(image, ch, x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// The last `k` preprocessed frames of one env, u8, each C × H × W, oldest first.
///
/// At an episode start the stack restarts: every slot is filled with the first frame, so no
/// frame of the previous episode leaks into the new one (the rule the replay buffer follows
/// when it rebuilds stacks).
#[derive(Debug, Clone)]
pub struct FrameStack {
    k: usize,
    frame_len: usize,
    /// Ring of k frames; `newest` indexes the latest.
    frames: Vec<Vec<u8>>,
    newest: usize,
    started: bool,
}

impl FrameStack {
    pub fn new(k: usize) -> Self {
        assert!(k >= 1, "a frame stack holds at least one frame");
        Self { k, frame_len: 0, frames: vec![Vec::new(); k], newest: 0, started: false }
    }

    pub fn k(&self) -> usize {
        self.k
    }

    /// The stack that [`FrameStack::to_vec`] gave as `stack` (k frames of `frame_len` values,
    /// oldest first): pushing onto it continues exactly as the original would.
    pub fn from_vec(k: usize, frame_len: usize, stack: &[u8]) -> Option<Self> {
        if k == 0 || frame_len == 0 || stack.len() != k * frame_len {
            return None;
        }
        let frames = stack.chunks(frame_len).map(<[u8]>::to_vec).collect();
        Some(Self { k, frame_len, frames, newest: k - 1, started: true })
    }

    /// Adds a preprocessed frame; `episode_start` restarts the stack.
    pub fn push(&mut self, frame: &[u8], episode_start: bool) {
        if episode_start || !self.started || frame.len() != self.frame_len {
            self.frame_len = frame.len();
            for slot in &mut self.frames {
                slot.clear();
                slot.extend_from_slice(frame);
            }
            self.newest = 0;
            self.started = true;
            return;
        }
        self.newest = (self.newest + 1) % self.k;
        let slot = &mut self.frames[self.newest];
        slot.clear();
        slot.extend_from_slice(frame);
    }

    /// The stack, oldest frame first, appended to `out`.
    pub fn write_into(&self, out: &mut Vec<u8>) {
        for age in (0..self.k).rev() {
            out.extend_from_slice(&self.frames[(self.newest + self.k - age) % self.k]);
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.k * self.frame_len);
        self.write_into(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(width: u32, height: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Image {
        let mut data = Vec::new();
        for y in 0..height {
            for x in 0..width {
                data.extend_from_slice(&f(x, y));
            }
        }
        Image { width, height, channels: 3, data }
    }

    #[test]
    fn to_f32_is_channel_major_in_unit_range() {
        let image = rgb(2, 1, |x, _| if x == 0 { [255, 0, 51] } else { [0, 255, 102] });
        let mut out = Vec::new();
        Preprocess::default().to_f32_into(&image, &mut out);
        assert_eq!(out, vec![1.0, 0.0, 0.0, 1.0, 0.2, 0.4]);
    }

    #[test]
    fn grey_is_bt601_luma() {
        let image = rgb(3, 1, |x, _| [[255, 0, 0], [0, 255, 0], [0, 0, 255]][x as usize]);
        assert_eq!(grey(&image).data, vec![76, 150, 29]);
        assert_eq!(grey(&image).channels, 1);
    }

    #[test]
    fn resize_halves_by_averaging_and_keeps_constant_images_constant() {
        let image = rgb(4, 2, |x, _| if x % 2 == 0 { [0, 0, 0] } else { [200, 100, 50] });
        let small = resize(&image, 2, 1);
        assert_eq!((small.width, small.height, small.channels), (2, 1, 3));
        assert_eq!(small.data, vec![100, 50, 25, 100, 50, 25]);
        let flat = rgb(84, 84, |_, _| [9, 99, 199]);
        for (w, h) in [(64, 64), (96, 96), (84, 42)] {
            let out = resize(&flat, w, h);
            assert_eq!(out.len(), (w * h * 3) as usize);
            assert!(out.data.chunks(3).all(|p| p == [9, 99, 199]), "{w}x{h}");
        }
    }

    #[test]
    fn the_pipeline_reports_its_output_shape() {
        let p = Preprocess::new(true, Some((64, 48)));
        let image = rgb(84, 84, |x, y| [(x * 3) as u8, (y * 3) as u8, 7]);
        let mut out = Vec::new();
        p.to_f32_into(&image, &mut out);
        assert_eq!(p.output_shape(3, 84, 84), (1, 48, 64));
        assert_eq!(out.len(), 64 * 48);
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn the_stack_keeps_the_last_k_frames_oldest_first_and_restarts_at_episode_ends() {
        let mut stack = FrameStack::new(3);
        stack.push(&[1, 1], true);
        assert_eq!(stack.to_vec(), vec![1, 1, 1, 1, 1, 1], "first frame fills every slot");
        stack.push(&[2, 2], false);
        stack.push(&[3, 3], false);
        stack.push(&[4, 4], false);
        assert_eq!(stack.to_vec(), vec![2, 2, 3, 3, 4, 4]);
        stack.push(&[9, 9], true);
        assert_eq!(stack.to_vec(), vec![9; 6], "nothing of the old episode survives a restart");
        stack.push(&[5, 5], false);
        assert_eq!(stack.to_vec(), vec![9, 9, 9, 9, 5, 5]);
    }
}
