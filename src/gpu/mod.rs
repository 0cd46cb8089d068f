//! The GPU side of the frame path: a wgpu device and the WGSL kernels in `shaders/` (packed
//! frame → planar floats, planar floats → packed frame, strength blend with colour
//! preservation). Each kernel has its CPU reference in [`crate::frame`]; tests compare the two
//! on whatever adapter wgpu finds (lavapipe in CI).

pub mod kernels;

use burn::tensor::wgpu::wgpu;

use crate::error::{Error, Result};

pub use kernels::FrameKernels;

/// A wgpu device and queue, with a description of the adapter.
pub struct GpuContext {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// "NAME (BACKEND)" of the adapter.
    pub description: String,
}

impl GpuContext {
    /// Open the best adapter wgpu finds (a hardware one when there is one).
    pub fn new() -> Result<Self> {
        let instance = wgpu::Instance::default();
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let hardware = |a: &wgpu::Adapter| {
            !matches!(
                a.get_info().device_type,
                wgpu::DeviceType::Cpu | wgpu::DeviceType::Other
            )
        };
        let adapter = adapters
            .iter()
            .find(|a| hardware(a))
            .or(adapters.first())
            .ok_or_else(|| {
                Error::Device(
                    "no GPU adapter found by wgpu: install a Vulkan driver (mesa-vulkan-drivers gives a software one)"
                        .into(),
                )
            })?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("ganstyle"),
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|e| Error::Device(format!("could not open {}: {e}", info.name)))?;
        Ok(Self {
            device,
            queue,
            description: format!("{} ({:?})", info.name, info.backend),
        })
    }
}
