//! `lepton bench perception`: perception CNN inference (preprocessing included) frames per
//! second on synthetic frames.

use super::report::BenchReport;
use crate::args::{DeviceArg, KernelsArg, at_least_one};
use crate::error::{CliError, CliResult};
use lepton_perception::cnn::CnnModel;
use lepton_perception::dataset::FrameShape;
use std::time::Instant;

#[derive(clap::Args)]
pub struct PerceptionBenchArgs {
    #[command(flatten)]
    pub device: DeviceArg,
    #[arg(long, default_value_t = 64, value_parser = at_least_one::<usize>())]
    pub batch_size: usize,
    /// Frame side (square).
    #[arg(long, default_value_t = 84)]
    pub size: u32,
    /// Channels (3 RGB, 1 grey).
    #[arg(long, default_value_t = 3)]
    pub channels: u8,
    /// Batches to time (after one warm-up batch).
    #[arg(long, default_value_t = 20, value_parser = at_least_one::<usize>())]
    pub batches: usize,
    #[command(flatten)]
    pub kernels: KernelsArg,
    #[arg(long)]
    pub json: bool,
}

pub fn bench(args: &PerceptionBenchArgs) -> CliResult<BenchReport> {
    let device = args.device.device().clone();
    args.kernels.select();
    if args.size < 17 {
        return Err(CliError::Usage("--size: at least 17 pixels".into()));
    }
    let frame = FrameShape { width: args.size, height: args.size, channels: args.channels };
    let model = CnnModel::untrained(frame, &device);
    let frames: Vec<Vec<u8>> = (0..args.batch_size)
        .map(|i| (0..frame.len()).map(|k| ((k * 31 + i * 7) % 251) as u8).collect())
        .collect();
    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    model.predict(&refs);
    let started = Instant::now();
    for _ in 0..args.batches {
        model.predict(&refs);
    }
    let per_second = (args.batches * args.batch_size) as f64 / started.elapsed().as_secs_f64();
    Ok(BenchReport::new("perception")
        .setup("device", args.device.name())
        .setup("kernels", args.kernels.name())
        .setup("frame", format!("{}x{}x{}", args.size, args.size, args.channels))
        .setup("batch_size", args.batch_size)
        .figure("frames_per_second", per_second, "frames/s (preprocessing + CNN)"))
}
