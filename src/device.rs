//! Choosing where the network runs: burn's CPU backend (flex) or burn-wgpu on a GPU adapter.

use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, DeviceKind};

use crate::error::{Error, Result};

/// The `--device` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DeviceChoice {
    /// A real GPU when wgpu finds one, else the CPU.
    #[default]
    Auto,
    /// burn's CPU backend (flex).
    Cpu,
    /// burn-wgpu on the best adapter wgpu finds (a software one such as lavapipe counts).
    Gpu,
}

/// A wgpu adapter, as found on this machine.
#[derive(Debug, Clone)]
pub struct Adapter {
    /// Its name.
    pub name: String,
    /// Graphics API (Vulkan, GL, ...).
    pub backend: String,
    /// Whether it is a hardware GPU (not a CPU/software rasterizer).
    pub hardware: bool,
}

/// All adapters wgpu can see.
pub fn adapters() -> Vec<Adapter> {
    let instance = wgpu::Instance::default();
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .map(|a| {
            let info = a.get_info();
            Adapter {
                name: info.name,
                backend: format!("{:?}", info.backend),
                hardware: !matches!(
                    info.device_type,
                    wgpu::DeviceType::Cpu | wgpu::DeviceType::Other
                ),
            }
        })
        .collect()
}

/// The burn device for a choice, with a description for messages.
pub fn select(choice: DeviceChoice) -> Result<(Device, String)> {
    match choice {
        DeviceChoice::Cpu => Ok((Device::flex(), "cpu (flex)".into())),
        DeviceChoice::Gpu => {
            let found = adapters();
            let best = found.iter().find(|a| a.hardware).or(found.first()).ok_or_else(|| {
                Error::Device(
                    "no GPU adapter found by wgpu: install a Vulkan driver (mesa-vulkan-drivers gives a software one) or use --device cpu"
                        .into(),
                )
            })?;
            let kind = if best.hardware {
                DeviceKind::DefaultDevice
            } else {
                DeviceKind::Cpu
            };
            Ok((
                Device::wgpu(kind),
                format!("gpu ({}, {})", best.name, best.backend),
            ))
        }
        DeviceChoice::Auto => match adapters().into_iter().find(|a| a.hardware) {
            Some(a) => Ok((
                Device::wgpu(DeviceKind::DefaultDevice),
                format!("gpu ({}, {})", a.name, a.backend),
            )),
            None => Ok((Device::flex(), "cpu (flex; no hardware GPU found)".into())),
        },
    }
}
