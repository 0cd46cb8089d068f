//! The frame kernels (`shaders/unpack.wgsl`, `pack.wgsl`, `blend.wgsl`) as ready-built compute
//! pipelines, with host-side entry points that upload, dispatch and read back.

use burn::tensor::wgpu::wgpu;
use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use super::GpuContext;
use crate::error::{Error, Result};
use crate::frame::packed::FrameGeometry;

/// Prepended to every kernel: the uniform struct they share (WGSL has no include).
pub const COMMON: &str = include_str!("../../shaders/frame_params.wgsl");

/// The kernels' WGSL sources by file name, without [`COMMON`].
pub const SHADERS: [(&str, &str); 3] = [
    ("unpack.wgsl", include_str!("../../shaders/unpack.wgsl")),
    ("pack.wgsl", include_str!("../../shaders/pack.wgsl")),
    ("blend.wgsl", include_str!("../../shaders/blend.wgsl")),
];

/// A kernel's complete source: [`COMMON`] followed by the kernel.
pub fn full_source(kernel: &str) -> String {
    format!("{COMMON}\n{kernel}")
}

/// Uniforms shared by the kernels. Keep in sync with `FrameParams` in shaders/frame_params.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct FrameParams {
    width: u32,
    height: u32,
    stride: u32,
    bytes_per_pixel: u32,
    offsets: [u32; 4],
    strength: f32,
    preserve_color: u32,
    _pad: [u32; 2],
}

impl FrameParams {
    fn new(geometry: &FrameGeometry) -> Self {
        let [r, g, b] = geometry.layout.rgb;
        Self {
            width: geometry.width,
            height: geometry.height,
            stride: geometry.stride as u32,
            bytes_per_pixel: geometry.layout.bytes as u32,
            offsets: [r as u32, g as u32, b as u32, 0],
            strength: 1.0,
            preserve_color: 0,
            _pad: [0; 2],
        }
    }
}

/// The three frame kernels, built once for a device.
pub struct FrameKernels {
    context: GpuContext,
    unpack: wgpu::ComputePipeline,
    pack: wgpu::ComputePipeline,
    blend: wgpu::ComputePipeline,
}

fn pipeline(device: &wgpu::Device, name: &str, source: &str) -> wgpu::ComputePipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(full_source(source).into()),
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(name),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    })
}

impl FrameKernels {
    /// Build the pipelines on `context`'s device.
    pub fn new(context: GpuContext) -> Self {
        let [(_, unpack), (_, pack), (_, blend)] = SHADERS;
        let d = &context.device;
        Self {
            unpack: pipeline(d, "unpack", unpack),
            pack: pipeline(d, "pack", pack),
            blend: pipeline(d, "blend", blend),
            context,
        }
    }

    /// The device the kernels run on.
    pub fn context(&self) -> &GpuContext {
        &self.context
    }

    fn storage(&self, name: &str, bytes: &[u8]) -> wgpu::Buffer {
        self.context
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(name),
                contents: bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            })
    }

    fn output(&self, name: &str, size: u64) -> wgpu::Buffer {
        self.context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(name),
            size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    /// Run `pipeline` with `params` at binding 0 and `buffers` at bindings 1.., then read the
    /// last buffer back.
    fn run(
        &self,
        pipeline: &wgpu::ComputePipeline,
        params: &FrameParams,
        buffers: &[&wgpu::Buffer],
        groups: (u32, u32),
    ) -> Result<Vec<u8>> {
        let device = &self.context.device;
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: bytemuck::bytes_of(params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        for (i, b) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: b.as_entire_binding(),
            });
        }
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let result = buffers.last().expect("an output buffer");
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: result.size(),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
        encoder.copy_buffer_to_buffer(result, 0, &readback, 0, result.size());
        self.context.queue.submit([encoder.finish()]);
        let slice = readback.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: None,
            })
            .map_err(|e| Error::Device(format!("GPU wait failed: {e}")))?;
        rx.recv()
            .map_err(|_| Error::Device("GPU readback never finished".into()))?
            .map_err(|e| Error::Device(format!("GPU readback failed: {e}")))?;
        let bytes = slice
            .get_mapped_range()
            .map_err(|e| Error::Device(format!("GPU readback failed: {e:?}")))?
            .to_vec();
        readback.unmap();
        Ok(bytes)
    }

    /// Packed frame → planar floats `[3, h, w]` in [0, 1] (`shaders/unpack.wgsl`).
    pub fn unpack(&self, frame: &[u8], geometry: &FrameGeometry) -> Result<Vec<f32>> {
        geometry.check(frame.len())?;
        let n = (geometry.width * geometry.height) as usize;
        let input = self.storage("frame", &padded(frame));
        let output = self.output("planar", (3 * n * 4) as u64);
        let groups = (geometry.width.div_ceil(8), geometry.height.div_ceil(8));
        let bytes = self.run(
            &self.unpack,
            &FrameParams::new(geometry),
            &[&input, &output],
            groups,
        )?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Planar floats `[3, h, w]` → the colour bytes of `frame`, other bytes kept
    /// (`shaders/pack.wgsl`). The row stride must be a multiple of 4.
    pub fn pack(&self, planar: &[f32], frame: &mut [u8], geometry: &FrameGeometry) -> Result<()> {
        geometry.check(frame.len())?;
        if !geometry.stride.is_multiple_of(4) {
            return Err(Error::Invalid(format!(
                "the GPU pack kernel needs a row stride that is a multiple of 4, not {}",
                geometry.stride
            )));
        }
        let n = (geometry.width * geometry.height) as usize;
        if planar.len() != 3 * n {
            return Err(Error::Invalid(format!(
                "{} floats do not fill a {}x{} frame",
                planar.len(),
                geometry.width,
                geometry.height
            )));
        }
        let used = (geometry.stride * geometry.height as usize).min(frame.len());
        let original = padded(&frame[..used]);
        let planar = self.storage("planar", bytemuck::cast_slice(planar));
        let original_buffer = self.storage("original", &original);
        let output = self.output("frame", original.len() as u64);
        let words = (original.len() / 4) as u32;
        let bytes = self.run(
            &self.pack,
            &FrameParams::new(geometry),
            &[&planar, &original_buffer, &output],
            (words.div_ceil(64), 1),
        )?;
        frame[..used].copy_from_slice(&bytes[..used]);
        Ok(())
    }

    /// The strength blend of planar `input` and `styled` (`shaders/blend.wgsl`).
    pub fn blend(
        &self,
        input: &[f32],
        styled: &[f32],
        geometry: &FrameGeometry,
        strength: f32,
        preserve_color: bool,
    ) -> Result<Vec<f32>> {
        let n = (geometry.width * geometry.height) as usize;
        if input.len() != 3 * n || styled.len() != 3 * n {
            return Err(Error::Invalid(
                "blend needs two planar images of the frame's size".into(),
            ));
        }
        let params = FrameParams {
            strength,
            preserve_color: u32::from(preserve_color),
            ..FrameParams::new(geometry)
        };
        let a = self.storage("input", bytemuck::cast_slice(input));
        let s = self.storage("styled", bytemuck::cast_slice(styled));
        let output = self.output("blended", (3 * n * 4) as u64);
        let bytes = self.run(
            &self.blend,
            &params,
            &[&a, &s, &output],
            ((n as u32).div_ceil(64), 1),
        )?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }
}

/// The frame's bytes, zero-padded to a whole number of 32-bit words.
fn padded(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v.resize(bytes.len().div_ceil(4) * 4, 0);
    v
}
