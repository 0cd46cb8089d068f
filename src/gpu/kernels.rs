//! The frame kernels (`shaders/unpack.wgsl`, `pack.wgsl`, `blend.wgsl`, `stabilize.wgsl`) as
//! ready-built compute pipelines. [`FrameKernels::encode`] records one into a command encoder
//! on any buffers (the element's GPU path binds burn's tensor buffers); the host-side entry
//! points ([`FrameKernels::unpack`], ...) upload, dispatch and read back, for tests and tools.

use burn::tensor::wgpu::wgpu;
use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use super::GpuContext;
use crate::error::{Error, Result};
use crate::frame::packed::FrameGeometry;

/// Prepended to every kernel: the uniform struct they share (WGSL has no include).
pub const COMMON: &str = include_str!("../../shaders/frame_params.wgsl");

/// The kernels' WGSL sources by file name, without [`COMMON`], in [`Kernel`] order.
pub const SHADERS: [(&str, &str); 4] = [
    ("unpack.wgsl", include_str!("../../shaders/unpack.wgsl")),
    ("pack.wgsl", include_str!("../../shaders/pack.wgsl")),
    ("blend.wgsl", include_str!("../../shaders/blend.wgsl")),
    (
        "stabilize.wgsl",
        include_str!("../../shaders/stabilize.wgsl"),
    ),
];

/// A kernel's complete source: [`COMMON`] followed by the kernel.
pub fn full_source(kernel: &str) -> String {
    format!("{COMMON}\n{kernel}")
}

/// One of the frame kernels. Its buffers (bindings 1.., in this order) are:
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// packed frame (u32 words, read) → planar f32 `[3, h, w]` in [0, 1].
    Unpack,
    /// planar f32, original packed frame (read) → packed frame (non-colour bytes kept).
    Pack,
    /// planar input, planar styled (read) → planar blended.
    Blend,
    /// previous input, input, previous output (read) → output (read and written in place).
    Stabilize,
}

impl Kernel {
    const ALL: [Kernel; 4] = [
        Kernel::Unpack,
        Kernel::Pack,
        Kernel::Blend,
        Kernel::Stabilize,
    ];

    /// Workgroups for a frame: 8×8 tiles for unpack, else 64 items per group spread over y
    /// when there are more than wgpu's 65535 per dimension.
    fn groups(self, params: &FrameParams) -> (u32, u32) {
        let items = match self {
            Kernel::Unpack => {
                return (params.width.div_ceil(8), params.height.div_ceil(8));
            }
            Kernel::Pack => params.stride / 4 * params.height,
            Kernel::Blend | Kernel::Stabilize => params.width * params.height,
        };
        let groups = items.div_ceil(64).max(1);
        const MAX: u32 = 65535;
        (groups.min(MAX), groups.div_ceil(MAX))
    }
}

/// Uniforms shared by the kernels. Keep in sync with `FrameParams` in shaders/frame_params.wgsl.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct FrameParams {
    width: u32,
    height: u32,
    stride: u32,
    bytes_per_pixel: u32,
    offsets: [u32; 4],
    strength: f32,
    preserve_color: u32,
    stability: f32,
    _pad: u32,
}

impl FrameParams {
    /// A frame's geometry; strength 1, no colour preservation, no stability.
    pub fn new(geometry: &FrameGeometry) -> Self {
        let [r, g, b] = geometry.layout.rgb;
        Self {
            width: geometry.width,
            height: geometry.height,
            stride: geometry.stride as u32,
            bytes_per_pixel: geometry.layout.bytes as u32,
            offsets: [r as u32, g as u32, b as u32, 0],
            strength: 1.0,
            preserve_color: 0,
            stability: 0.0,
            _pad: 0,
        }
    }

    /// With the blend kernel's settings.
    pub fn blend(self, strength: f32, preserve_color: bool) -> Self {
        Self {
            strength,
            preserve_color: u32::from(preserve_color),
            ..self
        }
    }

    /// With the stabilize kernel's setting.
    pub fn stability(self, stability: f32) -> Self {
        Self { stability, ..self }
    }
}

/// The frame kernels, built once for a device.
pub struct FrameKernels {
    context: GpuContext,
    pipelines: [wgpu::ComputePipeline; 4],
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
        let pipelines = SHADERS.map(|(name, source)| pipeline(&context.device, name, source));
        Self { context, pipelines }
    }

    /// The device the kernels run on.
    pub fn context(&self) -> &GpuContext {
        &self.context
    }

    /// Record `kernel` over the frame `params` describes into `encoder`, with `buffers` at
    /// bindings 1.. in the order [`Kernel`] lists them.
    pub fn encode(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kernel: Kernel,
        params: &FrameParams,
        buffers: &[wgpu::BindingResource<'_>],
    ) {
        let device = &self.context.device;
        let pipeline = &self.pipelines[Kernel::ALL.iter().position(|k| *k == kernel).unwrap()];
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("frame params"),
            contents: bytemuck::bytes_of(params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        entries.extend(
            buffers
                .iter()
                .enumerate()
                .map(|(i, resource)| wgpu::BindGroupEntry {
                    binding: i as u32 + 1,
                    resource: resource.clone(),
                }),
        );
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let (x, y) = kernel.groups(params);
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(x, y, 1);
    }

    /// A storage buffer filled with `bytes`.
    pub fn upload(&self, name: &str, bytes: &[u8]) -> wgpu::Buffer {
        self.context
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(name),
                contents: bytes,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// An uninitialised storage buffer of `size` bytes.
    pub fn storage(&self, name: &str, size: u64) -> wgpu::Buffer {
        self.context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(name),
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A buffer to copy results into and map for reading.
    pub fn readback(&self, size: u64) -> wgpu::Buffer {
        self.context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Submit `encoder`, wait for the GPU and copy the start of `readback` into `out`
    /// (`readback` holds at least `out.len()` rounded up to whole words).
    pub fn finish_into(
        &self,
        encoder: wgpu::CommandEncoder,
        readback: &wgpu::Buffer,
        out: &mut [u8],
    ) -> Result<()> {
        let device = &self.context.device;
        self.context.queue.submit([encoder.finish()]);
        let slice = readback.slice(..out.len().div_ceil(4) as u64 * 4);
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
        let len = out.len();
        out.copy_from_slice(
            &slice
                .get_mapped_range()
                .map_err(|e| Error::Device(format!("GPU readback failed: {e:?}")))?[..len],
        );
        readback.unmap();
        Ok(())
    }

    /// Run `kernel` on freshly uploaded buffers and read back the last one.
    fn run(
        &self,
        kernel: Kernel,
        params: &FrameParams,
        buffers: &[&wgpu::Buffer],
    ) -> Result<Vec<u8>> {
        let bindings: Vec<_> = buffers.iter().map(|b| b.as_entire_binding()).collect();
        let result = buffers.last().expect("an output buffer");
        let readback = self.readback(result.size());
        let mut encoder = self
            .context
            .device
            .create_command_encoder(&Default::default());
        self.encode(&mut encoder, kernel, params, &bindings);
        encoder.copy_buffer_to_buffer(result, 0, &readback, 0, result.size());
        let mut bytes = vec![0; result.size() as usize];
        self.finish_into(encoder, &readback, &mut bytes)?;
        Ok(bytes)
    }

    /// Packed frame → planar floats `[3, h, w]` in [0, 1] (`shaders/unpack.wgsl`).
    pub fn unpack(&self, frame: &[u8], geometry: &FrameGeometry) -> Result<Vec<f32>> {
        geometry.check(frame.len())?;
        let n = (geometry.width * geometry.height) as u64;
        let input = self.upload("frame", &padded(frame));
        let output = self.storage("planar", 3 * n * 4);
        let bytes = self.run(
            Kernel::Unpack,
            &FrameParams::new(geometry),
            &[&input, &output],
        )?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Planar floats `[3, h, w]` → the colour bytes of `frame`, other bytes kept
    /// (`shaders/pack.wgsl`). The row stride must be a multiple of 4.
    pub fn pack(&self, planar: &[f32], frame: &mut [u8], geometry: &FrameGeometry) -> Result<()> {
        check_packable(geometry, frame.len())?;
        check_planar(planar, geometry)?;
        let used = geometry.used_len(frame.len());
        let original = padded(&frame[..used]);
        let planar = self.upload("planar", bytemuck::cast_slice(planar));
        let original_buffer = self.upload("original", &original);
        let output = self.storage("frame", original.len() as u64);
        let bytes = self.run(
            Kernel::Pack,
            &FrameParams::new(geometry),
            &[&planar, &original_buffer, &output],
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
        check_planar(input, geometry)?;
        check_planar(styled, geometry)?;
        let a = self.upload("input", bytemuck::cast_slice(input));
        let s = self.upload("styled", bytemuck::cast_slice(styled));
        let output = self.storage("blended", (input.len() * 4) as u64);
        let params = FrameParams::new(geometry).blend(strength, preserve_color);
        let bytes = self.run(Kernel::Blend, &params, &[&a, &s, &output])?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// `output` leaned towards `prev_output` where the input is static
    /// (`shaders/stabilize.wgsl`); all four are planar frames of `geometry`.
    pub fn stabilize(
        &self,
        [prev_input, input, prev_output]: [&[f32]; 3],
        output: &mut [f32],
        geometry: &FrameGeometry,
        stability: f32,
    ) -> Result<()> {
        for planar in [prev_input, input, prev_output, output] {
            check_planar(planar, geometry)?;
        }
        let buffers = [prev_input, input, prev_output, output]
            .map(|p| self.upload("planar", bytemuck::cast_slice(p)));
        let params = FrameParams::new(geometry).stability(stability);
        let bytes = self.run(Kernel::Stabilize, &params, &buffers.each_ref())?;
        output.copy_from_slice(bytemuck::cast_slice(&bytes));
        Ok(())
    }
}

/// The pack kernel writes whole 32-bit words: rows must start on one.
pub fn check_packable(geometry: &FrameGeometry, len: usize) -> Result<()> {
    geometry.check(len)?;
    if !geometry.stride.is_multiple_of(4) {
        return Err(Error::Frame(format!(
            "the GPU pack kernel needs a row stride that is a multiple of 4, not {}",
            geometry.stride
        )));
    }
    Ok(())
}

fn check_planar(planar: &[f32], geometry: &FrameGeometry) -> Result<()> {
    let n = (geometry.width * geometry.height) as usize;
    if planar.len() != 3 * n {
        return Err(Error::Frame(format!(
            "{} floats do not fill a planar {}x{} frame",
            planar.len(),
            geometry.width,
            geometry.height
        )));
    }
    Ok(())
}

/// The frame's bytes, zero-padded to a whole number of 32-bit words.
pub fn padded(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v.resize(bytes.len().div_ceil(4) * 4, 0);
    v
}
