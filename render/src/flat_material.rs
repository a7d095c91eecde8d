//! `FlatMaterial`: a palette of colours, one chosen per vertex (see `meshes::Palette`), times the
//! mesh's vertex colours, with no lighting, textures, back-face culling, shadows or prepass. The
//! light of the scene is baked into the colours. StandardMaterial's fragment shader costs ~10×
//! more per pixel on a CPU rasteriser.

use crate::meshes::PALETTE_SIZE;
use bevy::mesh::MeshVertexBufferLayoutRef;
use bevy::pbr::{MaterialPipeline, MaterialPipelineKey};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, RenderPipelineDescriptor, SpecializedMeshPipelineError};
use bevy::shader::ShaderRef;

/// Path of the embedded shader (see [`FlatMaterialPlugin`]).
const SHADER: &str = "embedded://lepton_render/flat.wgsl";

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct FlatMaterial {
    /// Linear RGBA colours the vertices choose from; multiplied by the vertex colours.
    #[uniform(0)]
    pub palette: [Vec4; PALETTE_SIZE],
}

impl FlatMaterial {
    /// A material with this palette (linear RGBA, see [`super::EpisodeLook::palette`]).
    pub fn new(palette: &[[f32; 4]; PALETTE_SIZE]) -> Self {
        Self { palette: palette.map(Vec4::from_array) }
    }
}

impl Material for FlatMaterial {
    fn fragment_shader() -> ShaderRef {
        SHADER.into()
    }

    fn enable_prepass() -> bool {
        false
    }

    fn enable_shadows() -> bool {
        false
    }

    fn specialize(
        _pipeline: &MaterialPipeline,
        descriptor: &mut RenderPipelineDescriptor,
        _layout: &MeshVertexBufferLayoutRef,
        _key: MaterialPipelineKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        // Meshes are drawn from both sides: no winding to get wrong, nothing to cull at this size.
        descriptor.primitive.cull_mode = None;
        Ok(())
    }
}

/// Registers [`FlatMaterial`] and embeds its shader.
pub struct FlatMaterialPlugin;

impl Plugin for FlatMaterialPlugin {
    fn build(&self, app: &mut App) {
        bevy::asset::embedded_asset!(app, "flat.wgsl");
        app.add_plugins(MaterialPlugin::<FlatMaterial>::default());
    }
}
