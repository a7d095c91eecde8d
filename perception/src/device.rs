//! Choosing where burn computes, from a `--device` name. The backend is picked at run time; the
//! optional ones are compiled in by cargo features (`tch`: libtorch on CPU or CUDA; `wgpu`: any
//! Vulkan/Metal/DX12 GPU through wgpu). A name whose backend is missing or absent is an error that
//! says what to install or rebuild.

use burn::prelude::Device;

/// Device names, for help texts.
pub const DEVICES: &[&str] = &["cpu", "tch-cpu", "tch-cuda[:N]", "wgpu"];

/// Device names this build can use.
pub fn compiled_devices() -> Vec<&'static str> {
    let mut names = vec!["cpu"];
    if cfg!(feature = "tch") {
        names.extend(["tch-cpu", "tch-cuda[:N]"]);
    }
    if cfg!(feature = "wgpu") {
        names.push("wgpu");
    }
    names
}

/// Why a `--device` name gives no device; each message says what to install, rebuild or pass.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeviceError {
    #[error("--device {name}: unknown device (known: {})", DEVICES.join(", "))]
    Unknown { name: String },
    #[error("--device {name}: the CUDA device index must be a number, e.g. tch-cuda:0")]
    CudaIndex { name: String },
    #[error(
        "--device {name}: this build of lepton has no `{feature}` backend; rebuild with \
         `cargo build --release --features {feature}`{install} (this build has: {})",
        compiled_devices().join(", ")
    )]
    NotCompiled { name: String, feature: &'static str, install: &'static str },
    #[error(
        "--device {name}: libtorch sees {count} CUDA device(s). It needs an NVIDIA GPU with its \
         driver and a CUDA build of libtorch (the PyPI wheel torch==2.9.0 is one: \
         scripts/setup-libtorch); or train with --device cpu"
    )]
    NoCuda { name: String, count: usize },
    #[error(
        "--device {name}: no usable wgpu adapter ({reason}); install a GPU driver with Vulkan \
         support, or Mesa's software rasteriser (Debian/Ubuntu: apt-get install \
         mesa-vulkan-drivers libvulkan1)"
    )]
    NoAdapter { name: String, reason: String },
}

/// The burn device for `name`: `cpu` is burn's pure-Rust flex backend (the default).
pub fn parse_device(name: &str) -> Result<Device, DeviceError> {
    match name {
        "cpu" | "flex" => Ok(Device::flex()),
        "tch-cpu" => tch::cpu(name),
        "tch-cuda" => tch::cuda(name, 0),
        "wgpu" => wgpu::default_adapter(name),
        _ => match name.strip_prefix("tch-cuda:") {
            Some(index) => {
                let index = index.parse().map_err(|_| DeviceError::CudaIndex { name: name.into() })?;
                tch::cuda(name, index)
            }
            None => Err(DeviceError::Unknown { name: name.into() }),
        },
    }
}

/// The error for a backend this build lacks.
#[cfg(not(all(feature = "tch", feature = "wgpu")))]
fn not_compiled(name: &str, feature: &'static str, install: &'static str) -> DeviceError {
    DeviceError::NotCompiled { name: name.into(), feature, install }
}

#[cfg(feature = "tch")]
mod tch {
    use super::DeviceError;
    use burn::prelude::Device;
    use burn::tensor::DeviceType;

    // burn 0.22 marks the libtorch constructors deprecated in favour of a generic API that has no
    // libtorch variant yet; they are the way to name a libtorch device.
    #[allow(deprecated)]
    pub fn cpu(_name: &str) -> Result<Device, DeviceError> {
        Ok(Device::libtorch())
    }

    #[allow(deprecated)]
    pub fn cuda(name: &str, index: usize) -> Result<Device, DeviceError> {
        // burn lists libtorch's CUDA devices only; a CPU-only libtorch or a machine without an
        // NVIDIA driver lists none.
        let count = Device::enumerate(DeviceType::LibTorch).len();
        if index >= count {
            return Err(DeviceError::NoCuda { name: name.into(), count });
        }
        Ok(Device::libtorch_cuda(index))
    }
}

#[cfg(not(feature = "tch"))]
mod tch {
    use super::DeviceError;
    use burn::prelude::Device;

    const INSTALL: &str = " after installing libtorch 2.9.0 (scripts/setup-libtorch; README: GPU training)";

    pub fn cpu(name: &str) -> Result<Device, DeviceError> {
        Err(super::not_compiled(name, "tch", INSTALL))
    }

    pub fn cuda(name: &str, _index: usize) -> Result<Device, DeviceError> {
        Err(super::not_compiled(name, "tch", INSTALL))
    }
}

#[cfg(feature = "wgpu")]
mod wgpu {
    use super::DeviceError;
    use burn::prelude::Device;
    use burn::tensor::DeviceKind;
    use std::sync::OnceLock;

    /// wgpu's preferred adapter (a discrete GPU if there is one; lavapipe on a machine without).
    /// burn initialises a wgpu device once per process, so the outcome is kept.
    pub fn default_adapter(name: &str) -> Result<Device, DeviceError> {
        static DEVICE: OnceLock<Result<Device, DeviceError>> = OnceLock::new();
        DEVICE
            .get_or_init(|| {
                Device::wgpu_options()
                    .device_kind(DeviceKind::DefaultDevice)
                    .init()
                    .map_err(|e| DeviceError::NoAdapter { name: name.into(), reason: format!("{e:?}") })
            })
            .clone()
    }
}

#[cfg(not(feature = "wgpu"))]
mod wgpu {
    use super::DeviceError;
    use burn::prelude::Device;

    pub fn default_adapter(name: &str) -> Result<Device, DeviceError> {
        Err(super::not_compiled(name, "wgpu", ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_devices_or_to_errors_that_say_what_to_do() {
        assert!(parse_device("cpu").is_ok());
        let unknown = parse_device("tpu").unwrap_err().to_string();
        assert!(unknown.contains("unknown device"), "{unknown}");
        let index = parse_device("tch-cuda:x").unwrap_err().to_string();
        assert!(index.contains("index"), "{index}");
        if !cfg!(feature = "tch") {
            let e = parse_device("tch-cpu").unwrap_err().to_string();
            assert!(e.contains("--features tch") && e.contains("setup-libtorch"), "{e}");
        }
        if !cfg!(feature = "wgpu") {
            let e = parse_device("wgpu").unwrap_err().to_string();
            assert!(e.contains("--features wgpu"), "{e}");
        }
    }

    #[cfg(feature = "tch")]
    #[test]
    fn a_cuda_device_libtorch_cannot_see_is_an_error() {
        let err = parse_device("tch-cuda:99").unwrap_err().to_string();
        assert!(err.contains("CUDA device(s)"), "{err}");
    }
}
