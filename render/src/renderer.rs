//! The batched headless renderer: one bevy `App` draws the cameras of all N environments in one
//! render pass, each into its own tile of one target, and reads every tile back with one copy
//! per frame (see [`super::tiled_pass`]).
//!
//! Training frames are unlit with light baked into the colours (no shadows, MSAA, tonemapping or
//! post-processing), and the app is stepped by hand without pipelined rendering, so the frame
//! returned after a step shows the world after that step.

use crate::batch::{CameraBatch, SceneGeometry, TileLayout, TiledFrame, View};
use crate::scene::Poses;
use crate::tiled_pass::{Pixels, TiledPass, TiledPassPlugin};
use bevy::pbr::PbrPlugin;
use bevy::prelude::*;
use bevy::render::RenderApp;
use bevy::render::renderer::{RenderAdapterInfo, RenderDevice};
use bevy::render::settings::{RenderCreation, WgpuSettings};
use bevy::render::{RenderPlugin, settings::Backends};
use bevy::window::ExitCondition;
use lepton_sim::cameras::{CameraSensors, RenderError};
use lepton_sim::env::Frame;
use lepton_sim::network::Network;
use lepton_sim::scenario::{FrameFormat, Scenario};
use lepton_sim::world::World as SimWorld;
use std::sync::{Arc, Mutex};

/// Checks that wgpu can find an adapter before bevy is asked to (bevy panics without one).
pub fn probe_adapter() -> Result<String, RenderError> {
    let backends = Backends::from_env().unwrap_or(Backends::VULKAN | Backends::GL);
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter = pollster_block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .map_err(|_| RenderError::NoAdapter)?;
    let info = adapter.get_info();
    Ok(format!("{} ({:?})", info.name, info.backend))
}

/// Bevy's renderer as training and the viewer use it: Vulkan (or GL) unless `WGPU_BACKEND` says
/// otherwise, and pipelines compiled when first needed rather than in the background, so no
/// frame is drawn with a pipeline missing.
pub fn render_plugin() -> RenderPlugin {
    RenderPlugin {
        render_creation: RenderCreation::Automatic(Box::new(WgpuSettings {
            backends: Some(Backends::from_env().unwrap_or(Backends::VULKAN | Backends::GL)),
            ..default()
        })),
        synchronous_pipeline_compilation: true,
        ..default()
    }
}

/// Runs a future that completes without waiting on anything else (adapter requests do).
fn pollster_block_on<F: std::future::Future>(future: F) -> F::Output {
    bevy::tasks::block_on(future)
}

/// Renders the camera frames of N environments of one scenario.
pub struct Renderer {
    app: App,
    batch: CameraBatch,
    layout: TileLayout,
    format: FrameFormat,
    scenario: Arc<Scenario>,
    pixels: Arc<Mutex<Pixels>>,
    sensors: CameraSensors,
}

impl Renderer {
    /// A renderer for `envs` environments of `scenario`, with frames as the scenario's camera says.
    pub fn new(scenario: Arc<Scenario>, network: &Network, envs: usize) -> Result<Self, RenderError> {
        Self::with_view(scenario, network, envs, View::Car)
    }

    /// A renderer whose pass also draws the depth and semantic images `sensors` asks for.
    pub fn with_sensors(
        scenario: Arc<Scenario>,
        network: &Network,
        envs: usize,
        sensors: CameraSensors,
    ) -> Result<Self, RenderError> {
        Self::build(scenario, network, envs, View::Car, sensors)
    }

    /// A renderer whose cameras look from `view` (the chase view's frames are RGB).
    pub fn with_view(
        scenario: Arc<Scenario>,
        network: &Network,
        envs: usize,
        view: View,
    ) -> Result<Self, RenderError> {
        Self::build(scenario, network, envs, view, CameraSensors::NONE)
    }

    /// A renderer looking from `view` whose pass also draws the images `sensors` asks for.
    pub fn build(
        scenario: Arc<Scenario>,
        network: &Network,
        envs: usize,
        view: View,
        sensors: CameraSensors,
    ) -> Result<Self, RenderError> {
        probe_adapter()?;
        let layout = TileLayout::new(envs, view.size(&scenario));
        let format = if view == View::Car { scenario.camera.format } else { FrameFormat::Rgb };

        // Bevy provides the device and runs the pass; nothing of its scene rendering is needed.
        let plugins = DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                close_when_requested: false,
                ..default()
            })
            .set(render_plugin())
            .disable::<PbrPlugin>();
        // The window, its event loop and the HUD belong to the viewer, not to training.
        #[cfg(feature = "window")]
        let plugins = plugins
            .disable::<bevy::winit::WinitPlugin>()
            .disable::<bevy::ui_render::UiRenderPlugin>()
            .disable::<bevy::ui::UiPlugin>();
        let mut app = App::new();
        app.add_plugins(plugins).add_plugins(TiledPassPlugin);
        app.finish();
        app.cleanup();

        let geometry = SceneGeometry::new(&scenario, network);
        let device = app.world().resource::<RenderDevice>().clone();
        let adapter: wgpu::AdapterInfo = (*app.world().resource::<RenderAdapterInfo>().0).clone();
        let instances_per_env = CameraBatch::instances_per_env(&scenario);
        let pass = TiledPass::new(&device, &adapter, &geometry, layout, instances_per_env, sensors)?;
        let pixels = pass.pixels.clone();
        app.sub_app_mut(RenderApp).insert_resource(pass);
        app.insert_resource(TiledFrame::default());
        Ok(Self { app, batch: CameraBatch::new(envs, view), layout, format, scenario, pixels, sensors })
    }

    /// Number of environments.
    pub fn len(&self) -> usize {
        self.layout.envs
    }

    pub fn is_empty(&self) -> bool {
        self.layout.envs == 0
    }

    /// Size of the whole tiled target (pixels).
    pub fn target_size(&self) -> [u32; 2] {
        self.layout.target_size()
    }

    /// Moves environment `env`'s cars and camera to where `world` has them, with the look of
    /// episode `episode_seed`.
    pub fn sync(&mut self, env: usize, world: &SimWorld, episode_seed: u64) {
        self.sync_car(env, world, 0, episode_seed);
    }

    /// Moves tile `tile`'s camera onto learning car `car` of `world` (a tile per car of a
    /// multi-agent world), the other cars and the look as `world` has them.
    pub fn sync_car(&mut self, tile: usize, world: &SimWorld, car: usize, episode_seed: u64) {
        let poses = Poses::of_car(world, self.scenario.traffic.count as usize, car);
        self.batch.sync(tile, &self.scenario, &poses, episode_seed);
    }

    /// Renders every environment's camera and reads all tiles back.
    pub fn render(&mut self) -> Result<(), RenderError> {
        self.batch.gather(&mut self.app.world_mut().resource_mut::<TiledFrame>());
        // Bevy's render app starts drawing a few updates after it is built.
        for _ in 0..STARTUP_UPDATES {
            self.pixels.lock().unwrap_or_else(|e| e.into_inner()).fresh = false;
            self.app.update();
            let pixels = self.pixels.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(error) = &pixels.error {
                return Err(error.clone());
            }
            if pixels.fresh {
                return Ok(());
            }
        }
        Err(RenderError::Failed("the renderer drew no frame".into()))
    }

    /// Environment `env`'s frame from the last [`Renderer::render`], in the scenario's format.
    pub fn frame(&self, env: usize) -> Frame {
        let [w, h] = self.layout.tile;
        let mut data = vec![0; self.frame_len()];
        self.frame_into(env, &mut data);
        Frame { width: w, height: h, channels: self.channels(), data }
    }

    /// Bytes of one frame: height × width × channels.
    pub fn frame_len(&self) -> usize {
        let [w, h] = self.layout.tile;
        (w * h) as usize * self.channels() as usize
    }

    fn channels(&self) -> u8 {
        if self.format == FrameFormat::Rgb { 3 } else { 1 }
    }

    /// [`Renderer::frame`] written into `out` (exactly [`Renderer::frame_len`] bytes, rows top to
    /// bottom, channels interleaved): the one copy out of the read-back tiles, into memory the
    /// caller owns (a numpy array, a batch).
    ///
    /// # Panics
    /// If `out` is not [`Renderer::frame_len`] bytes long.
    pub fn frame_into(&self, env: usize, out: &mut [u8]) {
        assert_eq!(out.len(), self.frame_len(), "a frame's bytes");
        let w = self.layout.tile[0] as usize;
        let pixels = self.pixels.lock().unwrap_or_else(|e| e.into_inner());
        let channels = self.channels() as usize;
        for (line, row) in self.tile_rows(env, 4, &pixels.rgba).zip(out.chunks_exact_mut(w * channels)) {
            match self.format {
                FrameFormat::Rgb => {
                    for (px, rgb) in line.chunks_exact(4).zip(row.chunks_exact_mut(3)) {
                        rgb.copy_from_slice(&px[..3]);
                    }
                }
                FrameFormat::Grey => {
                    for (px, grey) in line.chunks_exact(4).zip(row.iter_mut()) {
                        *grey = luma(px[0], px[1], px[2]);
                    }
                }
            }
        }
    }
}

impl Renderer {
    /// Which images beside the colour frame this renderer draws.
    pub fn sensors(&self) -> CameraSensors {
        self.sensors
    }

    /// Environment `env`'s depth image from the last [`Renderer::render`]: height × width metres
    /// along the camera's forward axis, rows top to bottom (`None` unless the renderer draws depth).
    pub fn depth(&self, env: usize) -> Option<Vec<f32>> {
        if !self.sensors.depth {
            return None;
        }
        let pixels = self.pixels.lock().unwrap_or_else(|e| e.into_inner());
        // Reverse Z with an infinite far plane: the buffer holds near / depth (0: nothing drawn,
        // which the sky walls never leave).
        let metres = |b: &[u8]| {
            let z = f32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            if z > 0.0 { crate::batch::NEAR / z } else { NOTHING_DRAWN_DEPTH }
        };
        Some(
            self.tile_rows(env, 4, &pixels.depth).flat_map(|line| line.chunks_exact(4).map(metres)).collect(),
        )
    }

    /// Environment `env`'s semantic image from the last [`Renderer::render`]: height × width
    /// classes ([`crate::batch::Class`]; `None` unless the renderer draws them).
    pub fn semantic(&self, env: usize) -> Option<Vec<u8>> {
        if !self.sensors.semantic {
            return None;
        }
        let pixels = self.pixels.lock().unwrap_or_else(|e| e.into_inner());
        // The classes are the colour's alpha.
        Some(
            self.tile_rows(env, 4, &pixels.rgba)
                .flat_map(|line| line.chunks_exact(4).map(|px| px[3]))
                .collect(),
        )
    }

    /// The rows of env `env`'s tile in `target` (a whole read-back target of `bytes` a pixel),
    /// top to bottom.
    fn tile_rows<'a>(&self, env: usize, bytes: usize, target: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
        let [w, h] = self.layout.tile.map(|v| v as usize);
        let [x0, y0] = self.layout.origin(env as u32).map(|v| v as usize);
        let stride = self.layout.target_size()[0] as usize * bytes;
        (0..h).map(move |y| {
            let start = (y0 + y) * stride + x0 * bytes;
            &target[start..start + w * bytes]
        })
    }
}

/// What the depth camera reads where nothing was drawn (the sky walls close every view, so only a
/// camera outside the world would see it): far beyond any scene (m).
pub const NOTHING_DRAWN_DEPTH: f32 = 1.0e6;

/// Updates the first render may take while bevy's render app gets ready.
const STARTUP_UPDATES: usize = 10;

/// ITU-R BT.601 luma of an sRGB-encoded pixel, in integer arithmetic.
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * r as u32 + 587 * g as u32 + 114 * b as u32 + 500) / 1000) as u8
}
