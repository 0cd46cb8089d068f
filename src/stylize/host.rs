//! The frame path through burn on any device, finished on the host: the frame is unpacked to an
//! image, uploaded, run (with any `max-size` scaling) on the device, downloaded, and finished
//! like the runtime's output. The GPU path falls back to it for frames its kernels cannot pack.

use std::time::{Duration, Instant};

use burn::tensor::Tensor;
use burn::tensor::module::{avg_pool2d, interpolate};
use burn::tensor::ops::{AvgPoolOptions, InterpolateMode, InterpolateOptions};
use image::RgbImage;

use super::path::{FramePath, Network};
use super::{StyleOptions, network_size};
use crate::error::Result;
use crate::frame;
use crate::frame::finish::{FrameHistory, Styled};
use crate::frame::packed::{self, FrameGeometry};

/// The styled frame for `x` (`[1, 3, h, w]` in [0, 1] on the network's device) at the same
/// size, without blending. With `max_size` (the longest side, 0 = none) the network runs on a
/// smaller copy (area averaged by the whole factor, then bilinear) and its output is scaled
/// back up (bicubic), all on the device: what the CPU runtime does with its own kernels.
pub fn styled_tensor(network: &Network<'_>, x: Tensor<4>, max_size: u32) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let forward = |x| network.generator.forward(x, network.mix_tensor());
    let Some((sw, sh)) = network_size(w as u32, h as u32, max_size) else {
        return forward(x);
    };
    let factor = (w / sw as usize).min(h / sh as usize);
    let x = if factor >= 2 {
        avg_pool2d(
            x,
            AvgPoolOptions::new([factor, factor]).with_stride([factor, factor]),
        )
    } else {
        x
    };
    let resize = |t, size: [usize; 2], mode| {
        let options = InterpolateOptions::new(mode)
            .with_align_corners(false)
            .with_output_size(size);
        interpolate(t, options)
    };
    let small = resize(x, [sh as usize, sw as usize], InterpolateMode::Bilinear);
    resize(forward(small), [h, w], InterpolateMode::Bicubic)
}

/// Restyles frames with burn on the network's device, blending on the host.
#[derive(Default)]
pub struct HostPath {
    history: FrameHistory,
}

impl FramePath for HostPath {
    fn name(&self) -> &'static str {
        "burn, frames finished on the host"
    }

    /// The time returned covers the upload, the network (with any scaling) and the download.
    fn restyle(
        &mut self,
        network: &Network<'_>,
        frame: &mut [u8],
        geometry: &FrameGeometry,
        options: &StyleOptions,
    ) -> Result<Duration> {
        let input = packed::unpack(frame, geometry)?;
        let started = Instant::now();
        let x = frame::image_to_tensor(&input, network.device);
        let styled = frame::tensor_to_images(styled_tensor(network, x, options.max_size))
            .pop()
            .expect("one image");
        let elapsed = started.elapsed();
        self.history.finish(
            frame,
            geometry,
            Styled::Bytes(styled.as_raw()),
            options.mixing(),
        )?;
        Ok(elapsed)
    }

    fn network_output(&mut self, network: &Network<'_>, image: &RgbImage) -> Result<RgbImage> {
        let y = network.generator.forward(
            frame::image_to_tensor(image, network.device),
            network.mix_tensor(),
        );
        Ok(frame::tensor_to_images(y).pop().expect("one image"))
    }

    fn forget_previous(&mut self) {
        self.history.forget();
    }
}
