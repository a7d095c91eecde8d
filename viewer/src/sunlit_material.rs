//! `SunlitMaterial`: the viewer's lit look in one cheap shader (`shaders/sunlit.wgsl`): vertex
//! colours under the sun and a sky/ground hemisphere, with distance haze. Shadows are geometry
//! (see `lit_scene`), not shadow maps: on a CPU rasteriser bevy's PBR path with shadow maps drew
//! 0.8 frames a second at 1280×720.

use bevy::mesh::MeshVertexBufferLayoutRef;
use bevy::pbr::{MaterialPipeline, MaterialPipelineKey};
use bevy::prelude::*;
use bevy::render::render_resource::{
    AsBindGroup, RenderPipelineDescriptor, ShaderType, SpecializedMeshPipelineError,
};
use bevy::shader::ShaderRef;

const SHADER: &str = "embedded://lepton_viewer/shaders/sunlit.wgsl";

/// The light of one look (all linear RGB; see the shader).
#[derive(ShaderType, Debug, Clone, Copy, PartialEq)]
pub struct Sunlight {
    pub towards_sun: Vec4,
    pub sun: Vec4,
    pub sky: Vec4,
    pub ground: Vec4,
    pub haze: Vec4,
    /// Fog start, end (m), amount (0 or 1), unused.
    pub fog: Vec4,
}

impl Sunlight {
    /// No light but the vertex colours themselves, no fog: for the sky and glowing markers.
    pub fn unlit() -> Self {
        Self {
            towards_sun: Vec4::Y,
            sun: Vec4::ZERO,
            sky: Vec4::ONE,
            ground: Vec4::ONE,
            haze: Vec4::ZERO,
            fog: Vec4::ZERO,
        }
    }
}

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct SunlitMaterial {
    #[uniform(0)]
    pub light: Sunlight,
    /// Blended over what is behind it by the vertex colours' alpha (shadows).
    pub blend: bool,
}

impl Material for SunlitMaterial {
    fn fragment_shader() -> ShaderRef {
        SHADER.into()
    }

    fn alpha_mode(&self) -> AlphaMode {
        if self.blend { AlphaMode::Blend } else { AlphaMode::Opaque }
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
        // Both sides are drawn (and lit from the side the camera sees).
        descriptor.primitive.cull_mode = None;
        Ok(())
    }
}

/// Registers [`SunlitMaterial`] and embeds its shader.
pub struct SunlitMaterialPlugin;

impl Plugin for SunlitMaterialPlugin {
    fn build(&self, app: &mut App) {
        bevy::asset::embedded_asset!(app, "shaders/sunlit.wgsl");
        app.add_plugins(MaterialPlugin::<SunlitMaterial>::default());
    }
}
