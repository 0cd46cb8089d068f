//! The frame path on the CPU: ganstyle's own runtime ([`crate::infer`]) reads the packed frame
//! straight into the network, and one parallel pass finishes it ([`crate::frame::finish`]).

use std::time::Duration;

use image::RgbImage;

use super::StyleOptions;
use super::path::{FramePath, Network};
use crate::error::Result;
use crate::frame::finish::FrameHistory;
use crate::frame::packed::FrameGeometry;
use crate::infer::CpuGenerator;
use crate::infer::source::Packed;
use crate::model::Generator;

/// Restyles frames with the network compiled for ganstyle's CPU runtime.
pub struct RuntimePath {
    cpu: CpuGenerator,
    history: FrameHistory,
}

impl RuntimePath {
    /// Compile `generator` for the runtime.
    pub fn new(generator: &Generator) -> Self {
        Self {
            cpu: CpuGenerator::new(generator),
            history: FrameHistory::default(),
        }
    }
}

impl FramePath for RuntimePath {
    fn name(&self) -> &'static str {
        "ganstyle runtime"
    }

    fn restyle(
        &mut self,
        network: &Network<'_>,
        frame: &mut [u8],
        geometry: &FrameGeometry,
        options: &StyleOptions,
    ) -> Result<Duration> {
        let size = super::network_size(geometry.width, geometry.height, options.max_size);
        let source = Packed::new(frame, *geometry)?;
        let (output, elapsed) = self.cpu.styled(&source, network.mix, size);
        let done = self
            .history
            .finish(frame, geometry, output.as_styled(), options.mixing());
        self.cpu.recycle(output.into_buffer());
        done.map(|()| elapsed)
    }

    fn network_output(&mut self, network: &Network<'_>, image: &RgbImage) -> Result<RgbImage> {
        Ok(self.cpu.forward_image(image, network.mix))
    }

    fn forget_previous(&mut self) {
        self.history.forget();
    }
}
