//! A burn-wgpu tensor's storage as a wgpu buffer range, so our WGSL kernels read and write
//! tensors in place. burn has no public "tensor → buffer" call; this goes through its
//! `extension` feature: the fusion handle is resolved to the cubecl tensor it stands for, and
//! cubecl's storage resource for that tensor is a range of a wgpu buffer.
//!
//! Ordering: resolving runs and flushes all burn work queued for the tensor, so a kernel
//! submitted on the shared queue afterwards sees its values; burn work queued later is
//! submitted after ours on the same queue and sees what our kernel wrote.

use burn::backend::Cube;
use burn::tensor::wgpu::wgpu;
use burn::tensor::{DType, Tensor};
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl_runtime::storage::ManagedResource;
use cubecl_wgpu::{AutoCompiler, WgpuResource, WgpuServer};

use crate::error::{Error, Result};

/// A tensor's buffer range, held in place (not freed, reused or moved) while this lives.
pub struct TensorBuffer {
    resource: ManagedResource<WgpuResource>,
    /// The bytes the tensor covers.
    len: u64,
    /// The tensor (or its dense copy), so its memory outlives every use of the range.
    _tensor: CubeTensor,
}

fn device_error(what: &str, err: impl std::fmt::Debug) -> Error {
    Error::Device(format!("{what}: {err:?}"))
}

impl TensorBuffer {
    /// The buffer of `tensor`, an f32 tensor on burn-wgpu, after all work on it has run, to
    /// write through: the tensor keeps its handle, so writes change the tensor. Its strides
    /// must be dense row-major.
    pub fn of<const D: usize>(tensor: &Tensor<D>) -> Result<Self> {
        Self::resolve(tensor, false)
    }

    /// The buffer of `tensor` to read from, in dense row-major order: a tensor with other
    /// strides (channels-last, after `interpolate`) is copied into that order first.
    pub fn read<const D: usize>(tensor: &Tensor<D>) -> Result<Self> {
        Self::resolve(tensor, true)
    }

    fn resolve<const D: usize>(tensor: &Tensor<D>, copy_if_strided: bool) -> Result<Self> {
        let fusion = tensor
            .clone()
            .try_into_primitive::<Cube>()
            .map_err(|e| device_error("not a tensor on burn's GPU backend", e))?;
        let client = fusion.client.clone();
        let mut cube = client.resolve_tensor_float::<CubeBackend>(fusion);
        if copy_if_strided {
            cube = into_contiguous(cube);
        }
        let len = (cube.meta.shape().num_elements() * 4) as u64;
        // The allocation may be padded past the tensor's bytes; strides must be dense.
        if cube.dtype != DType::F32 || !cube.is_contiguous() || cube.handle.size() < len {
            return Err(Error::Device(format!(
                "a {:?} tensor of shape {:?} is not a dense f32 buffer (strides {:?})",
                cube.dtype,
                cube.meta.shape(),
                cube.meta.strides(),
            )));
        }
        let resource = cube
            .client
            .get_resource::<WgpuServer<AutoCompiler>>(cube.handle.clone())
            .map_err(|e| device_error("could not reach the tensor's buffer", e))?;
        cube.client
            .flush()
            .map_err(|e| device_error("could not flush burn's GPU work", e))?;
        Ok(Self {
            resource,
            len,
            _tensor: cube,
        })
    }

    /// The range, to bind as a storage buffer.
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        let r = self.resource.resource();
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &r.buffer,
            offset: r.offset,
            size: std::num::NonZeroU64::new(self.len),
        })
    }

    /// The buffer and the range's offset in it, for copies.
    pub fn buffer(&self) -> (&wgpu::Buffer, u64) {
        let r = self.resource.resource();
        (&r.buffer, r.offset)
    }

    /// The tensor's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
