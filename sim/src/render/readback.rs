//! One readback per rendered frame: after the render graph has run, the render world copies the
//! whole tiled target into a mapped buffer, waits for the device, and strips the 256-byte row
//! padding into a shared pixel buffer the main world reads when `App::update` returns.

use bevy::prelude::*;
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_resource::{
    Buffer, BufferDescriptor, BufferUsages, CommandEncoderDescriptor, MapMode, PollType, TexelCopyBufferInfo,
    TexelCopyBufferLayout,
};
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::render::texture::GpuImage;
use bevy::render::{Render, RenderApp, RenderSystems};
use std::sync::{Arc, Mutex};

/// Tightly packed RGBA8 pixels of the whole target, rows top to bottom, and whether they are from
/// the latest update.
#[derive(Default)]
pub struct Pixels {
    pub rgba: Vec<u8>,
    pub fresh: bool,
    pub error: Option<String>,
}

/// The render world's side: which image to copy, the staging buffer, and where the pixels go.
#[derive(Resource, Clone)]
pub struct TargetReadback {
    pub image: Handle<Image>,
    pub width: u32,
    pub height: u32,
    pub padded_row_bytes: u32,
    pub buffer: Buffer,
    pub pixels: Arc<Mutex<Pixels>>,
}

impl TargetReadback {
    pub fn new(device: &RenderDevice, image: Handle<Image>, width: u32, height: u32) -> Self {
        let padded_row_bytes = RenderDevice::align_copy_bytes_per_row(width as usize * 4) as u32;
        let buffer = device.create_buffer(&BufferDescriptor {
            label: Some("lepton camera readback"),
            size: padded_row_bytes as u64 * height as u64,
            usage: BufferUsages::MAP_READ | BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Self {
            image,
            width,
            height,
            padded_row_bytes,
            buffer,
            pixels: Arc::new(Mutex::new(Pixels::default())),
        }
    }
}

/// Adds the readback system to the render app; the `TargetReadback` resource is inserted there
/// once the render device exists.
pub struct ReadbackPlugin;

impl Plugin for ReadbackPlugin {
    fn build(&self, app: &mut App) {
        app.sub_app_mut(RenderApp).add_systems(Render, copy_target_to_cpu.after(RenderSystems::Render));
    }
}

fn copy_target_to_cpu(
    readback: Option<Res<TargetReadback>>,
    images: Res<RenderAssets<GpuImage>>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
) {
    let Some(readback) = readback else { return };
    let mut pixels = readback.pixels.lock().unwrap_or_else(|e| e.into_inner());
    let Some(image) = images.get(&readback.image) else {
        pixels.fresh = false;
        return;
    };
    let mut encoder =
        device.create_command_encoder(&CommandEncoderDescriptor { label: Some("lepton readback") });
    encoder.copy_texture_to_buffer(
        image.texture.as_image_copy(),
        TexelCopyBufferInfo {
            buffer: &readback.buffer,
            layout: TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(readback.padded_row_bytes),
                rows_per_image: None,
            },
        },
        image.texture_descriptor.size,
    );
    queue.submit(std::iter::once(encoder.finish()));

    let slice = readback.buffer.slice(..);
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    slice.map_async(MapMode::Read, move |result| {
        let _ = sender.send(result);
    });
    if let Err(e) = device.poll(PollType::wait_indefinitely()) {
        pixels.error = Some(format!("waiting for the GPU failed: {e}"));
        pixels.fresh = false;
        return;
    }
    match receiver.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            pixels.error = Some(format!("reading the camera frames back failed: {e}"));
            pixels.fresh = false;
            return;
        }
        Err(_) => {
            pixels.error = Some("reading the camera frames back never finished".into());
            pixels.fresh = false;
            return;
        }
    }
    {
        let mapped = slice.get_mapped_range();
        let row = readback.width as usize * 4;
        pixels.rgba.resize(row * readback.height as usize, 0);
        for (y, out) in pixels.rgba.chunks_exact_mut(row).enumerate() {
            let start = y * readback.padded_row_bytes as usize;
            out.copy_from_slice(&mapped[start..start + row]);
        }
    }
    readback.buffer.unmap();
    pixels.fresh = true;
}
