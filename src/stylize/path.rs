//! Where frames are restyled: one [`FramePath`] per kind of device, chosen once when a model is
//! loaded. Each takes a packed frame, runs the network on it (at most at `max-size`), blends by
//! `strength` and `preserve-color`, leans static pixels towards its own previous frame by
//! `stability`, and writes the result over the frame.

use std::time::Duration;

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;

use super::StyleOptions;
use crate::error::Result;
use crate::frame::packed::FrameGeometry;
use crate::model::Generator;

/// The network a path runs: the generator on its device, with the style weights to apply.
pub struct Network<'a> {
    /// The generator (burn).
    pub generator: &'a Generator,
    /// The device it is on.
    pub device: &'a Device,
    /// One weight per style.
    pub mix: &'a [f32],
}

impl Network<'_> {
    /// The style weights as a `[1, styles]` tensor on the network's device.
    pub fn mix_tensor(&self) -> Tensor<2> {
        let n = self.mix.len();
        Tensor::from_data(TensorData::new(self.mix.to_vec(), [1, n]), self.device)
    }
}

/// One way of restyling packed frames in place. A path keeps what it needs from frame to frame:
/// buffers, and the previous frame's input and output for `stability`.
pub trait FramePath: Send {
    /// What runs the frames, for `active-device` and messages.
    fn name(&self) -> &'static str;

    /// Restyle `frame` (packed as `geometry` says) in place with `options`, whose strength is
    /// above 0. Returns the time the network itself took, where it can be told apart from the
    /// rest (zero where it cannot).
    fn restyle(
        &mut self,
        network: &Network<'_>,
        frame: &mut [u8],
        geometry: &FrameGeometry,
        options: &StyleOptions,
    ) -> Result<Duration>;

    /// The network's output for `image` at the image's own size: no `max-size`, no blending.
    fn network_output(&mut self, network: &Network<'_>, image: &RgbImage) -> Result<RgbImage>;

    /// The next frame does not follow the last one (a seek, new caps, another look): it is not
    /// leaned towards it.
    fn forget_previous(&mut self);
}
