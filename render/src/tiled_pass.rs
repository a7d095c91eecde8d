//! The training cameras' render pass, in bevy's render app: every environment's view drawn into
//! its tile of one target in a single pass, then the whole target read back with one copy.
//!
//! One pipeline, one bind group (the views), one vertex and index buffer for every mesh and one
//! instance buffer; per tile only a viewport, a draw for the static scene and one for all its
//! NPCs. (On a CPU rasteriser
//! the tiles are split over passes of 16, see [`tiles_per_pass`].) Bevy's cameras would
//! cost a pass stack each (depth clears, view uniforms, phase sorting): with N environments the
//! cost grew with N cameras, each clearing a depth texture the size of the whole target.

use crate::batch::{
    Class, DrawMesh, GpuInstance, GpuVertex, GpuView, MeshRange, SceneGeometry, TileLayout, TiledFrame,
};
use crate::readback::Readback;
use bevy::color::{Color, LinearRgba};
use bevy::prelude::*;
use bevy::render::extract_resource::ExtractResourcePlugin;
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::render::{Render, RenderApp, RenderSystems};
use lepton_sim::cameras::RenderError;
use std::mem::size_of;
use std::sync::{Arc, Mutex};
use wgpu::util::DeviceExt;

/// Colour format of the target: 8-bit sRGB, as bevy's cameras wrote it.
const COLOUR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// Tightly packed RGBA8 pixels of the whole target, rows top to bottom, and whether they are from
/// the latest update.
#[derive(Default)]
pub struct Pixels {
    pub rgba: Vec<u8>,
    /// The pass's depth buffer, when the depth camera is asked for: f32 reverse-Z depth
    /// (`near / metres`; 0 where nothing was drawn), native byte order. (The semantic classes
    /// are the alpha of `rgba`.)
    pub depth: Vec<u8>,
    pub fresh: bool,
    pub error: Option<RenderError>,
}

/// Extracts each frame's [`TiledFrame`] and draws it with the [`TiledPass`] the renderer inserts
/// into the render app.
pub struct TiledPassPlugin;

impl Plugin for TiledPassPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins(ExtractResourcePlugin::<TiledFrame>::default());
        app.sub_app_mut(RenderApp).add_systems(Render, draw_tiles.after(RenderSystems::Render));
    }
}

/// The GPU side: pipeline, buffers, target and readback of one renderer.
#[derive(Resource)]
pub struct TiledPass {
    /// Draws both sides of every face: the static scene (its flat bands have no inside), and
    /// boxes a camera may be in or next to.
    pipeline: wgpu::RenderPipeline,
    /// Skips faces turned away from the camera: for closed boxes wholly in front of it, whose
    /// front faces always hide their back faces ([`crate::batch::Draw::cull_back`]).
    culling_pipeline: wgpu::RenderPipeline,
    bind_group: wgpu::BindGroup,
    views: wgpu::Buffer,
    instances: wgpu::Buffer,
    instance_capacity: usize,
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    static_scene: MeshRange,
    npc: MeshRange,
    event_obstacles: Vec<MeshRange>,
    ego: MeshRange,
    colour: wgpu::Texture,
    colour_view: wgpu::TextureView,
    depth_view: wgpu::TextureView,
    /// The pipelines that write the semantic classes (into the colour's alpha), when the depth
    /// or semantic camera is asked for.
    sensor_pipelines: Option<[wgpu::RenderPipeline; 2]>,
    /// The depth buffer and its readback, when the depth camera is asked for: the buffer is
    /// kept after the last pass and copied out.
    depth: wgpu::Texture,
    depth_readback: Option<Readback>,
    clear: wgpu::Color,
    layout: TileLayout,
    /// Tiles drawn per render pass (see [`tiles_per_pass`]).
    tiles_per_pass: u32,
    readback: Readback,
    pub pixels: Arc<Mutex<Pixels>>,
}

impl TiledPass {
    /// A pass for the tiles of `layout`, each drawing at most `instances_per_env` mesh instances.
    pub fn new(
        device: &RenderDevice,
        adapter: &wgpu::AdapterInfo,
        geometry: &SceneGeometry,
        layout: TileLayout,
        instances_per_env: usize,
        sensors: lepton_sim::CameraSensors,
    ) -> Result<Self, RenderError> {
        let device = device.wgpu_device();
        let (envs, tile) = (layout.envs, layout.tile);
        let [width, height] = layout.target_size();
        let size = wgpu::Extent3d { width, height, depth_or_array_layers: 1 };
        let limit = device.limits().max_texture_dimension_2d;
        if size.width > limit || size.height > limit {
            return Err(RenderError::Failed(format!(
                "{envs} tiles of {}×{} make a {}×{} target, larger than this adapter's {limit}×{limit}: \
                 use fewer environments or smaller frames",
                tile[0], tile[1], size.width, size.height
            )));
        }
        let errors = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let texture = |label, format, usage| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
        };
        let usage = wgpu::TextureUsages::RENDER_ATTACHMENT;
        let colour = texture("lepton camera tiles", COLOUR_FORMAT, usage | wgpu::TextureUsages::COPY_SRC);
        let depth = texture("lepton camera depth", DEPTH_FORMAT, usage | wgpu::TextureUsages::COPY_SRC);
        let views = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("lepton camera views"),
            size: (envs.max(1) * size_of::<GpuView>()) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let instance_capacity = envs.max(1) * instances_per_env.max(1);
        let instances = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("lepton camera instances"),
            size: (instance_capacity * size_of::<GpuInstance>()) as u64,
            usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let vertices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("lepton scene vertices"),
            contents: bytemuck::cast_slice(&geometry.vertices),
            usage: wgpu::BufferUsages::VERTEX,
        });
        let indices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("lepton scene indices"),
            contents: bytemuck::cast_slice(&geometry.indices),
            usage: wgpu::BufferUsages::INDEX,
        });
        let views_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("lepton camera views"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only: true },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("lepton camera views"),
            layout: &views_layout,
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: views.as_entire_binding() }],
        });
        let culling_pipeline = pipeline(device, &views_layout, Some(wgpu::Face::Back), false);
        let pipeline = pipeline(device, &views_layout, None, false);
        let sensor_pipelines = sensors.any().then(|| {
            [
                self::pipeline(device, &views_layout, None, true),
                self::pipeline(device, &views_layout, Some(wgpu::Face::Back), true),
            ]
        });
        let depth_readback = sensors.depth.then(|| Readback::new(device, size.width, size.height, 4));
        if let Some(error) = bevy::tasks::block_on(errors.pop()) {
            return Err(RenderError::Failed(format!("setting up the camera pass failed: {error}")));
        }
        let clear: LinearRgba = Color::srgb_u8(43, 44, 47).into();
        Ok(Self {
            pipeline,
            culling_pipeline,
            bind_group,
            views,
            instances,
            instance_capacity,
            vertices,
            indices,
            static_scene: geometry.static_scene,
            npc: geometry.npc,
            event_obstacles: geometry.event_obstacles.iter().map(|&(_, range)| range).collect(),
            ego: geometry.ego,
            colour_view: colour.create_view(&Default::default()),
            depth_view: depth.create_view(&Default::default()),
            sensor_pipelines,
            depth,
            depth_readback,
            colour,
            clear: wgpu::Color {
                r: clear.red as f64,
                g: clear.green as f64,
                b: clear.blue as f64,
                a: clear.alpha as f64,
            },
            layout,
            tiles_per_pass: tiles_per_pass(adapter),
            readback: Readback::new(device, size.width, size.height, 4),
            pixels: Arc::new(Mutex::new(Pixels::default())),
        })
    }

    /// Draws `frame` and reads the target back into [`TiledPass::pixels`].
    fn draw(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        frame: &TiledFrame,
    ) -> Result<(), RenderError> {
        if frame.instances.len() > self.instance_capacity {
            return Err(RenderError::Failed(format!(
                "{} mesh instances in one frame, more than the {} planned for",
                frame.instances.len(),
                self.instance_capacity
            )));
        }
        queue.write_buffer(&self.views, 0, bytemuck::cast_slice(&frame.views));
        queue.write_buffer(&self.instances, 0, bytemuck::cast_slice(&frame.instances));
        let mut encoder =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("lepton cameras") });
        let per_pass = self.tiles_per_pass;
        let passes = frame.draws.chunk_by(|a, b| a.env / per_pass == b.env / per_pass);
        let count = passes.clone().count();
        for (k, group) in passes.enumerate() {
            // The first pass clears the target, the others draw on; depth is kept between passes.
            let (first, last) = (k == 0, k + 1 == count);
            let mut clear = self.clear;
            if self.sensor_pipelines.is_some() {
                // Where nothing is drawn the semantic camera sees sky.
                clear.a = Class::Sky as u8 as f64 / 255.0;
            }
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("lepton cameras"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &self.colour_view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: if first { wgpu::LoadOp::Clear(clear) } else { wgpu::LoadOp::Load },
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &self.depth_view,
                    // Reverse Z, as bevy: the far plane at 0.
                    depth_ops: Some(wgpu::Operations {
                        load: if first { wgpu::LoadOp::Clear(0.0) } else { wgpu::LoadOp::Load },
                        // Kept after the last pass only for the depth camera.
                        store: if last && self.depth_readback.is_none() {
                            wgpu::StoreOp::Discard
                        } else {
                            wgpu::StoreOp::Store
                        },
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.set_vertex_buffer(0, self.vertices.slice(..));
            pass.set_vertex_buffer(1, self.instances.slice(..));
            pass.set_index_buffer(self.indices.slice(..), wgpu::IndexFormat::Uint32);
            let [w, h] = self.layout.tile;
            // What is drawn from both sides first, then the boxes whose back faces can go: two
            // pipeline binds per pass, not two per tile. Opaque, depth-tested and never at equal
            // depth: the order changes no pixel.
            let pipelines = match &self.sensor_pipelines {
                None => [(&self.pipeline, false), (&self.culling_pipeline, true)],
                Some([both_sides, culling]) => [(both_sides, false), (culling, true)],
            };
            for (pipeline, cull_back) in pipelines {
                pass.set_pipeline(pipeline);
                let mut tile = None;
                for draw in group.iter().filter(|d| d.cull_back == cull_back) {
                    if tile != Some(draw.env) {
                        tile = Some(draw.env);
                        let [x, y] = self.layout.origin(draw.env);
                        pass.set_viewport(x as f32, y as f32, w as f32, h as f32, 0.0, 1.0);
                    }
                    let mesh = match draw.mesh {
                        DrawMesh::StaticScene => self.static_scene,
                        DrawMesh::Npcs => self.npc,
                        DrawMesh::EventObstacle(k) => self.event_obstacles[k],
                        DrawMesh::Ego => self.ego,
                    };
                    pass.draw_indexed(
                        mesh.first_index..mesh.first_index + mesh.index_count,
                        mesh.base_vertex,
                        draw.instance..draw.instance + draw.count,
                    );
                }
            }
        }
        self.readback.copy(&mut encoder, &self.colour);
        if let Some(depth) = &self.depth_readback {
            depth.copy(&mut encoder, &self.depth);
        }
        queue.submit(std::iter::once(encoder.finish()));
        let mut pixels = self.pixels.lock().unwrap_or_else(|e| e.into_inner());
        self.readback.read(device, &mut pixels.rgba)?;
        if let Some(depth) = &self.depth_readback {
            depth.read(device, &mut pixels.depth)?;
        }
        Ok(())
    }
}

/// Tiles per render pass: all of them on a GPU. A CPU rasteriser (lavapipe) sorts a whole pass's
/// triangles into bins before drawing any; with hundreds of tiles in one pass that costs more
/// than starting a new pass (measured at 256 envs of 84×84: passes of 16 tiles draw 1.2× more
/// frames per second than one pass, and as many per frame as 16 envs do).
fn tiles_per_pass(adapter: &wgpu::AdapterInfo) -> u32 {
    if adapter.device_type == wgpu::DeviceType::Cpu { 16 } else { u32::MAX }
}

/// A pipeline: the scene's vertices and the instances in, flat colours out, depth tested, faces
/// turned away from the camera culled when `cull` says so (meshes wind their outsides
/// counter-clockwise, as bevy's).
/// With `sensors`, the semantic classes go into the colour's alpha.
fn pipeline(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
    cull: Option<wgpu::Face>,
    sensors: bool,
) -> wgpu::RenderPipeline {
    let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("lepton tiled cameras"),
        source: wgpu::ShaderSource::Wgsl(include_str!("tiled.wgsl").into()),
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("lepton tiled cameras"),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    let vertex_attributes = wgpu::vertex_attr_array![0 => Float32x3, 1 => Uint32, 2 => Float32x4];
    let instance_attributes = wgpu::vertex_attr_array![
        3 => Float32x4, 4 => Float32x4, 5 => Float32x4, 6 => Float32x4, 7 => Uint32, 8 => Float32x3,
        9 => Uint32
    ];
    let (vertex_entry, fragment_entry) =
        if sensors { ("vertex_sensors", "fragment_sensors") } else { ("vertex", "fragment") };
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("lepton tiled cameras"),
        layout: Some(&pipeline_layout),
        vertex: wgpu::VertexState {
            module: &shader,
            entry_point: Some(vertex_entry),
            compilation_options: Default::default(),
            buffers: &[
                wgpu::VertexBufferLayout {
                    array_stride: size_of::<GpuVertex>() as u64,
                    step_mode: wgpu::VertexStepMode::Vertex,
                    attributes: &vertex_attributes,
                },
                wgpu::VertexBufferLayout {
                    array_stride: size_of::<GpuInstance>() as u64,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &instance_attributes,
                },
            ],
        },
        primitive: wgpu::PrimitiveState {
            front_face: wgpu::FrontFace::Ccw,
            cull_mode: cull,
            ..Default::default()
        },
        depth_stencil: Some(wgpu::DepthStencilState {
            format: DEPTH_FORMAT,
            depth_write_enabled: Some(true),
            depth_compare: Some(wgpu::CompareFunction::GreaterEqual),
            stencil: Default::default(),
            bias: Default::default(),
        }),
        multisample: Default::default(),
        fragment: Some(wgpu::FragmentState {
            module: &shader,
            entry_point: Some(fragment_entry),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: COLOUR_FORMAT,
                blend: None,
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

/// Draws the extracted frame, when there is a pass and a frame, and hands over the pixels.
fn draw_tiles(
    pass: Option<Res<TiledPass>>,
    frame: Option<Res<TiledFrame>>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
) {
    let (Some(pass), Some(frame)) = (pass, frame) else { return };
    let result = pass.draw(device.wgpu_device(), &queue, &frame);
    let mut pixels = pass.pixels.lock().unwrap_or_else(|e| e.into_inner());
    pixels.fresh = result.is_ok();
    pixels.error = result.err();
}
