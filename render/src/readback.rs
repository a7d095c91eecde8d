//! Reading a rendered target back to the CPU (colour, depth or classes): one copy of the whole
//! texture into a mapped buffer per frame, a wait for the device, and the 256-byte row padding stripped on the way out.

use lepton_sim::RenderError;
use std::sync::mpsc;
use wgpu::{
    Buffer, BufferDescriptor, BufferUsages, CommandEncoder, Device, MapMode, PollType, TexelCopyBufferInfo,
    TexelCopyBufferLayout, Texture,
};

/// Row pitch wgpu requires of texture-to-buffer copies.
const ROW_ALIGNMENT: usize = wgpu::COPY_BYTES_PER_ROW_ALIGNMENT as usize;

/// The staging buffer of a target `width` × `height` of `bytes_per_pixel`.
pub struct Readback {
    width: u32,
    height: u32,
    bytes_per_pixel: u32,
    padded_row_bytes: u32,
    buffer: Buffer,
}

impl Readback {
    pub fn new(device: &Device, width: u32, height: u32, bytes_per_pixel: u32) -> Self {
        let padded_row_bytes =
            (width as usize * bytes_per_pixel as usize).div_ceil(ROW_ALIGNMENT) * ROW_ALIGNMENT;
        let buffer = device.create_buffer(&BufferDescriptor {
            label: Some("lepton camera readback"),
            size: padded_row_bytes as u64 * height as u64,
            usage: BufferUsages::MAP_READ | BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Self { width, height, bytes_per_pixel, padded_row_bytes: padded_row_bytes as u32, buffer }
    }

    /// Records the copy of `texture` into the staging buffer.
    pub fn copy(&self, encoder: &mut CommandEncoder, texture: &Texture) {
        let aspect = if texture.format().has_depth_aspect() {
            wgpu::TextureAspect::DepthOnly
        } else {
            wgpu::TextureAspect::All
        };
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo { aspect, ..texture.as_image_copy() },
            TexelCopyBufferInfo {
                buffer: &self.buffer,
                layout: TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(self.padded_row_bytes),
                    rows_per_image: None,
                },
            },
            texture.size(),
        );
    }

    /// Waits for the submitted copy and writes the pixels, tightly packed rows top to bottom, to
    /// `pixels`.
    pub fn read(&self, device: &Device, pixels: &mut Vec<u8>) -> Result<(), RenderError> {
        let failed = |message: String| Err(RenderError::Failed(message));
        let slice = self.buffer.slice(..);
        let (sender, receiver) = mpsc::sync_channel(1);
        slice.map_async(MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
        if let Err(e) = device.poll(PollType::wait_indefinitely()) {
            return failed(format!("waiting for the GPU failed: {e}"));
        }
        match receiver.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return failed(format!("reading the camera frames back failed: {e}")),
            Err(_) => return failed("reading the camera frames back never finished".into()),
        }
        {
            let mapped = slice.get_mapped_range();
            let row = self.width as usize * self.bytes_per_pixel as usize;
            pixels.resize(row * self.height as usize, 0);
            for (y, out) in pixels.chunks_exact_mut(row).enumerate() {
                let start = y * self.padded_row_bytes as usize;
                out.copy_from_slice(&mapped[start..start + row]);
            }
        }
        self.buffer.unmap();
        Ok(())
    }
}
