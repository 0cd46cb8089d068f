//! The GPU side of the frame path: the WGSL kernels in `shaders/` (packed frame → planar
//! floats, planar floats → packed frame, strength blend with colour preservation, stability)
//! run on the very wgpu device and queue burn-wgpu uses ([`kernels`]), on burn's own tensor
//! buffers ([`tensor_buffer`]), chained into the element's frame path ([`frame_path`]). Each
//! kernel has its CPU reference in [`crate::frame`]; tests compare the two on whatever adapter
//! wgpu finds (lavapipe in CI).

pub mod frame_path;
pub mod kernels;
pub mod tensor_buffer;

use burn::tensor::wgpu::wgpu;

pub use frame_path::GpuFramePath;
pub use kernels::FrameKernels;
pub use tensor_buffer::TensorBuffer;

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
