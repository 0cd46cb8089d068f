//! Choosing where the network runs: burn's CPU backend (flex) or burn-wgpu on a GPU adapter.

use std::sync::OnceLock;

use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, DeviceKind};

use crate::error::{Error, Result};
use crate::gpu::GpuContext;

/// Where to run: the element's `device` property and the command line's `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// A real GPU when wgpu finds one, else the CPU.
    #[default]
    Auto,
    /// The CPU: ganstyle's own runtime for inference, burn flex for training.
    Cpu,
    /// burn-wgpu on the best adapter wgpu finds (a software one such as lavapipe counts).
    Gpu,
}

impl DeviceChoice {
    /// The name on the command line and in the element's `device` property.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
        }
    }
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

/// The GPU once opened, or why not (`None`: no adapter at all).
static GPU: OnceLock<std::result::Result<(Device, GpuContext), Option<String>>> = OnceLock::new();

/// burn-wgpu's device on the best adapter (a hardware one when there is one), together with the
/// wgpu device and queue it runs on, so our own kernels ([`crate::gpu`]) share them. Opened once
/// per process; later calls get clones.
pub fn gpu() -> Result<(Device, GpuContext)> {
    GPU.get_or_init(|| {
        let found = adapters();
        let best = found
            .iter()
            .find(|a| a.hardware)
            .or(found.first())
            .ok_or(None)?;
        let kind = if best.hardware {
            DeviceKind::DefaultDevice
        } else {
            DeviceKind::Cpu
        };
        let (device, setup) = Device::wgpu_options()
            .device_kind(kind)
            .init_with_setup()
            .map_err(|e| Some(format!("could not open {}: {e}", best.name)))?;
        let context = GpuContext {
            device: setup.device,
            queue: setup.queue,
            description: format!("{}, {}", best.name, best.backend),
        };
        Ok((device, context))
    })
    .clone()
    .map_err(|why| why.map_or(Error::NoGpu, Error::Device))
}

/// The wgpu device and queue under `device`, when it is the GPU [`gpu`] opened.
pub fn gpu_context(device: &Device) -> Option<GpuContext> {
    GPU.get()?
        .as_ref()
        .ok()
        .filter(|(gpu, _)| gpu == device)
        .map(|(_, context)| context.clone())
}

/// The burn device for a choice, with a description for messages: "cpu" (what runs there,
/// ganstyle's runtime or burn flex, is for the caller to say) or "gpu (ADAPTER, API)".
pub fn select(choice: DeviceChoice) -> Result<(Device, String)> {
    let on_gpu =
        || gpu().map(|(device, context)| (device, format!("gpu ({})", context.description)));
    match choice {
        DeviceChoice::Cpu => Ok((Device::flex(), "cpu".into())),
        DeviceChoice::Gpu => on_gpu(),
        DeviceChoice::Auto if adapters().iter().any(|a| a.hardware) => on_gpu(),
        DeviceChoice::Auto => Ok((Device::flex(), "cpu (no hardware GPU found)".into())),
    }
}

/// This machine's processor for the record a trained model keeps: its model name (Linux's
/// /proc/cpuinfo; "unknown processor" elsewhere) and how many threads training can use,
/// e.g. "AMD EPYC, 2 threads".
pub fn cpu_description() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "{}, {threads} threads",
        cpu_model_name(&info).unwrap_or("unknown processor")
    )
}

/// The first `model name` line of /proc/cpuinfo's text.
fn cpu_model_name(cpuinfo: &str) -> Option<&str> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name" && !value.trim().is_empty()).then(|| value.trim())
    })
}

#[cfg(test)]
mod cpu_tests {
    use super::*;

    #[test]
    fn the_processor_name_comes_from_the_first_model_name_line() {
        let info = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\
                    processor\t: 1\nmodel name\t: other\n";
        assert_eq!(cpu_model_name(info), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model_name("processor\t: 0\nmodel name\t:  \n"), None);
        assert_eq!(cpu_model_name(""), None);
        assert!(cpu_description().contains(" threads"));
    }
}
