//! Choosing where burn computes, from a `--device` name.

use burn::prelude::Device;

/// Device names this build understands.
pub const DEVICES: &[&str] = &["cpu"];

/// The burn device for `name`: `cpu` is burn's pure-Rust flex backend.
pub fn parse_device(name: &str) -> Result<Device, String> {
    match name {
        "cpu" | "flex" => Ok(Device::flex()),
        "tch-cpu" | "tch-cuda" | "wgpu" => Err(format!(
            "--device {name}: this build has no {name} backend; only `cpu` (burn flex) is available"
        )),
        _ if name.starts_with("tch-cuda:") => Err(format!(
            "--device {name}: this build has no tch-cuda backend; only `cpu` (burn flex) is available"
        )),
        _ => Err(format!("--device {name}: unknown device (known: {})", DEVICES.join(", "))),
    }
}
