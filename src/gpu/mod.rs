//! The GPU side of the frame path: a wgpu device and the WGSL kernels in `shaders/` (packed
//! frame → planar floats, planar floats → packed frame, strength blend with colour
//! preservation), run on the very wgpu device burn-wgpu uses. Each kernel has its CPU reference in [`crate::frame`]; tests compare the two
//! on whatever adapter wgpu finds (lavapipe in CI).

pub mod kernels;

use burn::tensor::wgpu::wgpu;

pub use kernels::FrameKernels;

/// A wgpu device and queue, with a description of the adapter. The one burn-wgpu runs on comes
/// from [`crate::device::gpu`].
#[derive(Debug, Clone)]
pub struct GpuContext {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// "NAME, BACKEND" of the adapter.
    pub description: String,
}
