//! The element's frame path on a GPU. The packed frame is uploaded once and unpacked by our
//! kernel straight into the network's input tensor; the network (and `max-size` scaling) runs
//! in burn-wgpu; blend, stabilize and pack run on its output tensor; only the packed frame
//! (its own size, not 12 bytes a pixel) comes back. It gives what the CPU runtime's path
//! gives ([`crate::stylize::runtime`]), to rounding. Frames whose rows the pack kernel cannot
//! write (rows not starting on a 4-byte word) go through burn on the host instead.

use std::time::Duration;

use burn::tensor::Tensor;
use burn::tensor::wgpu::wgpu;
use image::RgbImage;

use super::kernels::{FrameKernels, FrameParams, Kernel, check_packable};
use super::{GpuContext, TensorBuffer};
use crate::error::Result;
use crate::frame::packed::FrameGeometry;
use crate::stylize::host::{HostPath, styled_tensor};
use crate::stylize::{FramePath, Network, StyleOptions};

/// Buffers for one frame geometry, kept from frame to frame.
struct FrameBuffers {
    geometry: FrameGeometry,
    /// Bytes of the frame that are read and written, rounded up to whole words.
    words_len: u64,
    /// The packed input frame (also the source of the bytes pack keeps).
    frame: wgpu::Buffer,
    /// The packed output frame, and where it is copied to be read.
    packed: wgpu::Buffer,
    readback: wgpu::Buffer,
    /// Planar: the blended output, and the previous frame's input and output for stability.
    blended: wgpu::Buffer,
    previous_input: wgpu::Buffer,
    previous_output: wgpu::Buffer,
}

/// Restyles packed frames on the GPU burn-wgpu runs on.
pub struct GpuFramePath {
    kernels: FrameKernels,
    buffers: Option<FrameBuffers>,
    /// Whether `previous_input`/`previous_output` hold the frame before this one.
    has_previous: bool,
    /// For frames the kernels cannot pack.
    host: HostPath,
}

impl GpuFramePath {
    /// Build the kernels on `context`, which must be the device and queue of the stylizer's
    /// device ([`crate::device::gpu_context`]).
    pub fn new(context: GpuContext) -> Self {
        Self {
            kernels: FrameKernels::new(context),
            buffers: None,
            has_previous: false,
            host: HostPath::default(),
        }
    }

    /// Whether a frame of `geometry` in `len` bytes can take this path (the pack kernel writes
    /// whole words, so rows must start on one).
    pub fn accepts(geometry: &FrameGeometry, len: usize) -> bool {
        check_packable(geometry, len).is_ok()
    }

    fn ensure_buffers(&mut self, geometry: &FrameGeometry, used: usize) {
        let words_len = used.div_ceil(4) as u64 * 4;
        let fits = |b: &FrameBuffers| b.geometry == *geometry && b.words_len == words_len;
        if !self.buffers.as_ref().is_some_and(fits) {
            let planar = 3 * 4 * u64::from(geometry.width) * u64::from(geometry.height);
            let k = &self.kernels;
            self.buffers = Some(FrameBuffers {
                geometry: *geometry,
                words_len,
                frame: k.storage("frame", words_len),
                packed: k.storage("packed", words_len),
                readback: k.readback(words_len),
                blended: k.storage("blended", planar),
                previous_input: k.storage("previous input", planar),
                previous_output: k.storage("previous output", planar),
            });
            self.has_previous = false;
        }
    }

    /// Restyle a packable `frame` in place with the kernels; `network` is on this path's
    /// device.
    fn restyle_packable(
        &mut self,
        network: &Network<'_>,
        frame: &mut [u8],
        geometry: &FrameGeometry,
        options: &StyleOptions,
    ) -> Result<()> {
        check_packable(geometry, frame.len())?;
        let stability = options.stability;
        let used = geometry.used_len(frame.len());
        self.ensure_buffers(geometry, used);
        let use_previous = self.has_previous && stability > 0.0;
        let b = self.buffers.as_ref().expect("just ensured");
        let k = &self.kernels;
        let (device, queue) = (&k.context().device, &k.context().queue);

        // Upload: whole words, then the last partial word zero-padded.
        let whole = used / 4 * 4;
        queue.write_buffer(&b.frame, 0, &frame[..whole]);
        if whole < used {
            let mut tail = [0u8; 4];
            tail[..used - whole].copy_from_slice(&frame[whole..used]);
            queue.write_buffer(&b.frame, whole as u64, &tail);
        }

        // Unpack into the network's input tensor.
        let [w, h] = [geometry.width as usize, geometry.height as usize];
        let input = Tensor::<4>::zeros([1, 3, h, w], network.device);
        let input_buffer = TensorBuffer::of(&input)?;
        let params = FrameParams::new(geometry)
            .blend(options.strength, options.preserve_color)
            .stability(stability);
        let mut encoder = device.create_command_encoder(&Default::default());
        k.encode(
            &mut encoder,
            Kernel::Unpack,
            &params,
            &[b.frame.as_entire_binding(), input_buffer.binding()],
        );
        queue.submit([encoder.finish()]);

        // The network, then blend, stabilize and pack on its output.
        let styled = styled_tensor(network, input.clone(), options.max_size);
        let styled_buffer = TensorBuffer::read(&styled)?;
        let mut encoder = device.create_command_encoder(&Default::default());
        k.encode(
            &mut encoder,
            Kernel::Blend,
            &params,
            &[
                input_buffer.binding(),
                styled_buffer.binding(),
                b.blended.as_entire_binding(),
            ],
        );
        if use_previous {
            k.encode(
                &mut encoder,
                Kernel::Stabilize,
                &params,
                &[
                    b.previous_input.as_entire_binding(),
                    input_buffer.binding(),
                    b.previous_output.as_entire_binding(),
                    b.blended.as_entire_binding(),
                ],
            );
        }
        k.encode(
            &mut encoder,
            Kernel::Pack,
            &params,
            &[
                b.blended.as_entire_binding(),
                b.frame.as_entire_binding(),
                b.packed.as_entire_binding(),
            ],
        );
        encoder.copy_buffer_to_buffer(&b.packed, 0, &b.readback, 0, b.words_len);
        if stability > 0.0 {
            let (buffer, offset) = input_buffer.buffer();
            let len = input_buffer.len();
            encoder.copy_buffer_to_buffer(buffer, offset, &b.previous_input, 0, len);
            encoder.copy_buffer_to_buffer(&b.blended, 0, &b.previous_output, 0, len);
        }
        k.finish_into(encoder, &b.readback, &mut frame[..used])?;
        self.has_previous = stability > 0.0;
        drop((input_buffer, styled_buffer));
        Ok(())
    }
}

impl FramePath for GpuFramePath {
    fn name(&self) -> &'static str {
        "WGSL frame kernels"
    }

    /// The network's time is not told apart from the frame kernels': zero.
    fn restyle(
        &mut self,
        network: &Network<'_>,
        frame: &mut [u8],
        geometry: &FrameGeometry,
        options: &StyleOptions,
    ) -> Result<Duration> {
        // Whichever way this frame goes, the other way's previous frame is not the last.
        if Self::accepts(geometry, frame.len()) {
            self.host.forget_previous();
            let done = self.restyle_packable(network, frame, geometry, options);
            if done.is_err() {
                self.has_previous = false;
            }
            done.map(|()| Duration::ZERO)
        } else {
            self.has_previous = false;
            self.host.restyle(network, frame, geometry, options)
        }
    }

    fn network_output(&mut self, network: &Network<'_>, image: &RgbImage) -> Result<RgbImage> {
        self.host.network_output(network, image)
    }

    fn forget_previous(&mut self) {
        self.has_previous = false;
        self.host.forget_previous();
    }
}
