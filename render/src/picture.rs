//! Pictures drawn with plotters — reward curves, scenario maps, the pipeline's gates and monitor
//! — written atomically as PNG or SVG with one embedded font (DejaVu Sans), so they look the same
//! on every machine.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Makes the embedded DejaVu Sans plotters' "sans-serif" (once per process).
pub fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// The series colours, in order (matplotlib's first six).
pub const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// A chart plotters could not draw or write.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct PlotError {
    pub path: std::path::PathBuf,
    /// plotters' own description (its errors are generic over the drawing backend).
    pub message: String,
}

/// Something drawn with plotters on whichever backend the file name asks for.
pub trait Picture {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Writes `picture` (`size` pixels) to `out`, an SVG when `svg` and else a PNG, atomically: drawn
/// to a temporary file beside it, fsynced and renamed.
pub fn write_picture(
    picture: &impl Picture,
    size: (u32, u32),
    svg: bool,
    out: &Path,
) -> Result<(), PlotError> {
    register_font();
    let error = |message: String| PlotError { path: out.to_path_buf(), message };
    let format = out.with_extension(if svg { "svg" } else { "png" });
    let tmp = lepton_artifacts::atomic::temporary(&format).map_err(|e| error(e.to_string()))?;
    let drawn = if svg {
        let root = SVGBackend::new(&tmp, size).into_drawing_area();
        picture.draw(&root).and_then(|()| root.present().map_err(|e| e.to_string()))
    } else {
        // Drawn into memory and encoded by the `image` crate the renderer already uses, so
        // plotters' own PNG encoder (a second, older `image`) is not built.
        let mut rgb = vec![0u8; 3 * size.0 as usize * size.1 as usize];
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        let drawn = picture.draw(&root).and_then(|()| root.present().map_err(|e| e.to_string()));
        drop(root);
        drawn.and_then(|()| {
            image::save_buffer_with_format(
                &tmp,
                &rgb,
                size.0,
                size.1,
                image::ColorType::Rgb8,
                image::ImageFormat::Png,
            )
            .map_err(|e| e.to_string())
        })
    };
    if let Err(message) = drawn {
        return Err(error(message)); // the temporary goes with `tmp`
    }
    lepton_artifacts::atomic::commit(tmp, out).map_err(|e| error(e.to_string()))
}
