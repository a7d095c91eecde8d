//! Arguments several commands share, parsed and checked by clap (a bad value exits with code 2
//! and names the option): the burn device, WIDTHxHEIGHT sizes, counts of at least one.

use burn::prelude::Device;
use clap::builder::RangedU64ValueParser;

/// A `--device` as given and the burn device it names.
#[derive(Clone, Debug)]
pub struct DeviceChoice {
    pub name: String,
    pub device: Device,
}

/// `--device`: where burn computes (DQN's networks, the perception CNN).
#[derive(clap::Args, Clone, Debug)]
pub struct DeviceArg {
    /// Where to compute: cpu (burn flex), tch-cpu, tch-cuda (or tch-cuda:N) or wgpu (README, "GPU training").
    #[arg(long = "device", value_name = "DEVICE", default_value = "cpu", value_parser = device)]
    pub choice: DeviceChoice,
}

impl DeviceArg {
    pub fn device(&self) -> &Device {
        &self.choice.device
    }

    pub fn name(&self) -> &str {
        &self.choice.name
    }
}

/// `--kernels`: whose CPU kernels the benchmark's networks run on, for a before-and-after in one
/// binary on one machine.
#[derive(clap::Args, Clone, Debug)]
pub struct KernelsArg {
    /// lepton (the convolution and Adam of lepton-kernels, the default) or burn (burn-flex's own).
    #[arg(long = "kernels", value_name = "KERNELS", default_value = "lepton", value_parser = ["lepton", "burn"])]
    pub kernels: String,
}

impl KernelsArg {
    pub fn select(&self) {
        let kernels = if self.kernels == "burn" {
            lepton_kernels::Kernels::Burn
        } else {
            lepton_kernels::Kernels::Lepton
        };
        lepton_kernels::use_kernels(kernels);
    }

    pub fn name(&self) -> &str {
        &self.kernels
    }
}

fn device(name: &str) -> Result<DeviceChoice, lepton_perception::device::DeviceError> {
    let device = lepton_perception::device::parse_device(name)?;
    Ok(DeviceChoice { name: name.to_string(), device })
}

/// `WIDTHxHEIGHT`, e.g. `64x64`; both at least 1.
pub fn size(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("\"{text}\" is not WIDTHxHEIGHT, e.g. 64x64");
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let side = |v: &str| v.trim().parse::<u32>().ok().filter(|&v| v > 0).ok_or_else(bad);
    Ok((side(w)?, side(h)?))
}

/// A window size: `WIDTHxHEIGHT`, 64 to 8192 pixels each.
pub fn window_size(text: &str) -> Result<[u32; 2], String> {
    let (w, h) = size(text)?;
    if !((64..=8192).contains(&w) && (64..=8192).contains(&h)) {
        return Err(format!("\"{text}\": 64 to 8192 pixels each, e.g. 1280x720"));
    }
    Ok([w, h])
}

/// A count that must be at least 1.
pub fn at_least_one<T>() -> RangedU64ValueParser<T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
    <T as TryFrom<u64>>::Error: std::fmt::Display + Send + Sync + 'static,
{
    RangedU64ValueParser::new().range(1..)
}

/// A count from 1 to `max`: what a user can ask for is bounded before anything is allocated
/// for it (clap names the option and the range, exit 2).
pub fn count<T>(max: u64) -> RangedU64ValueParser<T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
    <T as TryFrom<u64>>::Error: std::fmt::Display + Send + Sync + 'static,
{
    RangedU64ValueParser::new().range(1..=max)
}

/// The most envs one command steps side by side (`--envs`).
pub const MAX_ENVS: u64 = 1024;
/// The most episodes one evaluation plays (`--episodes`).
pub const MAX_EPISODES: u64 = 1_000_000;
/// The most frames one collection gathers (`--frames`).
pub const MAX_FRAMES: u64 = 100_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!(size("64x48"), Ok((64, 48)));
        assert_eq!(size("84X84"), Ok((84, 84)));
        assert!(size("64").unwrap_err().contains("WIDTHxHEIGHT"));
        assert!(size("0x4").is_err() && size("ax4").is_err());
        assert_eq!(window_size("1280x720"), Ok([1280, 720]));
        assert!(window_size("32x32").unwrap_err().contains("64 to 8192"));
    }
}
