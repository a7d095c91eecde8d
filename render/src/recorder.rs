//! Recording episodes from the chase camera: one MP4 per episode, for `lepton eval --video` and
//! the periodic evaluations of `lepton train --video-every`. The chase frames come from a second
//! batched renderer (all envs side by side in one pass), so the agent's own frames are untouched.

use crate::batch::View;
use crate::renderer::Renderer;
use crate::sensor_pictures::{SensorView, depth_picture, semantic_picture};
use crate::video::{VideoError, VideoSummary, VideoWriter};
use lepton_sim::VecEnv;
use lepton_sim::cameras::RenderError;
use lepton_sim::network::Network;
use lepton_sim::scenario::Scenario;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Size of the chase camera's videos (pixels): 16:9, small enough to encode in real time here.
pub const VIDEO_SIZE: [u32; 2] = [640, 360];

/// Why episodes could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Video(#[from] VideoError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// One recorded episode, as `videos.json` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedEpisode {
    /// The file's name inside the video folder.
    pub file: String,
    pub env: usize,
    pub episode_seed: u64,
    pub episode_return: f32,
    pub end: String,
    #[serde(flatten)]
    pub video: VideoSummary,
}

/// Records each env's episodes from the chase camera.
pub struct EpisodeRecorder {
    renderer: Renderer,
    /// What the videos show: the chase camera's colour, depth or classes.
    shows: SensorView,
    dir: PathBuf,
    fps: f32,
    /// The video under way of each env, with its episode seed.
    writers: Vec<Option<(VideoWriter, u64)>>,
    /// Episodes each env has recorded.
    counts: Vec<usize>,
    pub recorded: Vec<RecordedEpisode>,
}

impl EpisodeRecorder {
    /// A recorder for `envs` envs of `scenario`, writing into `dir`. Videos play in real time:
    /// one frame per policy step.
    pub fn new(scenario: &Arc<Scenario>, envs: usize, dir: &Path) -> Result<Self, RecordError> {
        Self::showing(scenario, envs, dir, SensorView::Camera)
    }

    /// A recorder whose videos show the chase camera's `shows` image: its colour, its depth or
    /// its semantic classes.
    pub fn showing(
        scenario: &Arc<Scenario>,
        envs: usize,
        dir: &Path,
        shows: SensorView,
    ) -> Result<Self, RecordError> {
        let network =
            Network::new(scenario).map_err(|e| RenderError::Failed(format!("{}: {e}", e.path())))?;
        let view = View::Chase { width: VIDEO_SIZE[0], height: VIDEO_SIZE[1] };
        let renderer = Renderer::build(scenario.clone(), &network, envs, view, shows.sensors())?;
        std::fs::create_dir_all(dir).map_err(|source| RecordError::Io { path: dir.to_path_buf(), source })?;
        let fps = 1.0 / (scenario.actions.repeat as f32 * scenario.episode.dt);
        Ok(Self {
            renderer,
            shows,
            dir: dir.to_path_buf(),
            fps,
            writers: (0..envs).map(|_| None).collect(),
            counts: vec![0; envs],
            recorded: Vec::new(),
        })
    }

    /// Draws every env marked `recording` as it stands now and appends the frame to its episode's
    /// video (starting one if its episode has none yet).
    pub fn capture(&mut self, envs: &VecEnv, recording: &[bool]) -> Result<(), RecordError> {
        if !recording.iter().any(|&r| r) {
            return Ok(());
        }
        for (i, env) in envs.envs().iter().enumerate() {
            self.renderer.sync(i, env.world(), env.episode_seed());
        }
        self.renderer.render()?;
        for (i, env) in envs.envs().iter().enumerate() {
            if !recording[i] {
                continue;
            }
            if self.writers[i].is_none() {
                let path = self.dir.join(format!("env{i}-episode{}.mp4", self.counts[i]));
                self.writers[i] =
                    Some((VideoWriter::create(&path, VIDEO_SIZE, self.fps)?, env.episode_seed()));
            }
            let (writer, _) = self.writers[i].as_mut().expect("started above");
            let [w, h] = VIDEO_SIZE;
            let frame = match self.shows {
                SensorView::Camera => self.renderer.frame(i),
                SensorView::Depth => depth_picture(w, h, &self.renderer.depth(i).expect("drawn with depth")),
                SensorView::Semantic => {
                    semantic_picture(w, h, &self.renderer.semantic(i).expect("drawn with classes"))
                }
            };
            writer.push(&frame)?;
        }
        Ok(())
    }

    /// Env `env`'s episode ended with `episode_return` and `end`: its video is finished.
    pub fn end_episode(&mut self, env: usize, episode_return: f32, end: &str) -> Result<(), RecordError> {
        let Some((writer, episode_seed)) = self.writers[env].take() else {
            return Ok(());
        };
        let file = format!("env{env}-episode{}.mp4", self.counts[env]);
        self.counts[env] += 1;
        let video = writer.finish()?;
        self.recorded.push(RecordedEpisode {
            file,
            env,
            episode_seed,
            episode_return,
            end: end.to_string(),
            video,
        });
        Ok(())
    }

    /// Writes `videos.json`, the list of recorded episodes, and returns them.
    pub fn finish(self) -> Result<Vec<RecordedEpisode>, RecordError> {
        let path = self.dir.join("videos.json");
        let text = serde_json::to_string_pretty(&self.recorded).expect("the list serialises");
        lepton_artifacts::atomic::write(&path, text.as_bytes())
            .map_err(|source| RecordError::Io { path, source })?;
        Ok(self.recorded)
    }
}
