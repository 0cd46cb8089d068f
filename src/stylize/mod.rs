//! Restyling frames with a loaded model: the one object the CLI and the element hold. It owns
//! the model on its device, the style weights, the options, and the [`FramePath`] chosen for
//! that device: ganstyle's CPU runtime ([`runtime`]), burn-wgpu with WGSL frame kernels
//! ([`crate::gpu`]), or burn on another device, finished on the host ([`host`]).

pub mod host;
pub mod path;
pub mod runtime;

use std::sync::mpsc;
use std::time::Duration;

use burn::tensor::Device;
use image::RgbImage;

pub use self::path::{FramePath, Network};
use crate::error::{Error, Result};
use crate::frame::finish::Mixing;
use crate::frame::packed::FrameGeometry;
use crate::model::arbitrary::PictureStyles;
use crate::model::{Generator, Model, ModelSource, StyleChoice};

/// How to apply a style.
#[derive(Debug, Clone, PartialEq)]
pub struct StyleOptions {
    /// 0 = the input unchanged (the network is not run), 1 = fully styled.
    pub strength: f32,
    /// Keep the input's colours, take only the styled luminance.
    pub preserve_color: bool,
    /// Longest side the network runs at (0 = native size).
    pub max_size: u32,
    /// How far static pixels of a frame lean towards the previous frame's output, against
    /// flicker (0 = not at all, up to 1). Still images are never leaned.
    pub stability: f32,
}

impl Default for StyleOptions {
    fn default() -> Self {
        Self {
            strength: 1.0,
            preserve_color: false,
            max_size: 0,
            stability: 0.0,
        }
    }
}

impl StyleOptions {
    /// Check ranges.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [("strength", self.strength), ("stability", self.stability)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(Error::Setting(format!("{name} {value} is outside 0..1")));
            }
        }
        Ok(())
    }

    /// How the network's output is mixed with the input and the previous frame.
    pub fn mixing(&self) -> Mixing {
        Mixing {
            strength: self.strength,
            preserve_color: self.preserve_color,
            stability: self.stability,
        }
    }
}

/// What decides a frame's look besides the model. When it changes, the previous frame's output
/// is no reference for `stability`.
#[derive(Debug, Clone, PartialEq)]
struct Look {
    mix: Vec<f32>,
    strength: f32,
    preserve_color: bool,
    max_size: u32,
}

impl Look {
    fn of(mix: &[f32], options: &StyleOptions) -> Self {
        Self {
            mix: mix.to_vec(),
            strength: options.strength,
            preserve_color: options.preserve_color,
            max_size: options.max_size,
        }
    }
}

/// The size the network runs at for a `w`×`h` frame when `max_size` (the longest side, 0 = no
/// limit) makes it smaller; `None` when the frame is run at its own size.
pub fn network_size(w: u32, h: u32, max_size: u32) -> Option<(u32, u32)> {
    let longest = w.max(h);
    (max_size > 0 && longest > max_size).then(|| {
        let scale = max_size as f32 / longest as f32;
        (
            ((w as f32 * scale).round() as u32).max(1),
            ((h as f32 * scale).round() as u32).max(1),
        )
    })
}

/// The frame path for a generator on `device`.
fn path_for(generator: &Generator, device: &Device) -> Box<dyn FramePath> {
    if *device == Device::flex() {
        Box::new(runtime::RuntimePath::new(generator))
    } else if let Some(context) = crate::device::gpu_context(device) {
        Box::new(crate::gpu::GpuFramePath::new(context))
    } else {
        Box::new(host::HostPath::default())
    }
}

/// With style pictures, a strength below 1 moves the style toward the content's own rather
/// than blending outputs: the pictures' styles, and once content has been seen, a generator
/// with its style as one more, on its own frame path.
struct TowardContent {
    styles: PictureStyles,
    with_content: Option<(Generator, Box<dyn FramePath>)>,
    /// The content's style vector, being computed on a helper thread (streams, when
    /// [`Stylizer::encode_content_off_thread`] is on).
    pending: Option<mpsc::Receiver<Vec<f32>>>,
}

/// A model loaded on a device, ready to restyle frames.
pub struct Stylizer {
    model: Model,
    device: Device,
    mix: Vec<f32>,
    options: StyleOptions,
    path: Box<dyn FramePath>,
    /// The look of the last frame restyled; None when the next one does not follow it.
    last_look: Option<Look>,
    /// Set for style pictures (see [`TowardContent`]).
    toward: Option<TowardContent>,
    /// Whether a stream's content style is computed on a helper thread.
    content_off_thread: bool,
}

impl Stylizer {
    /// Load `source` on `device` with a style choice.
    pub fn new(
        source: &ModelSource,
        device: Device,
        choice: &StyleChoice,
        options: StyleOptions,
    ) -> Result<Self> {
        let (model, styles) = source.load_styles(&device)?;
        let mut stylizer = Self::from_model(model, device, choice, options)?;
        stylizer.toward = styles.map(|styles| TowardContent {
            styles,
            with_content: None,
            pending: None,
        });
        Ok(stylizer)
    }

    /// Wrap an already loaded model.
    pub fn from_model(
        model: Model,
        device: Device,
        choice: &StyleChoice,
        options: StyleOptions,
    ) -> Result<Self> {
        options.validate()?;
        let mix = model.style_mix(choice)?;
        let path = path_for(&model.generator, &device);
        Ok(Self {
            model,
            device,
            mix,
            options,
            path,
            last_look: None,
            toward: None,
            content_off_thread: false,
        })
    }

    /// With style pictures and a strength below 1, compute a stream's content style (its first
    /// frame's, again after a seek) on a helper thread, so that the frame that starts it does
    /// not wait for the style encoder (the element's streaming thread must not): until it is
    /// there, frames blend the full style with the input by the strength instead. Off by
    /// default, so that a file restyled twice comes out the same.
    pub fn encode_content_off_thread(&mut self, on: bool) {
        self.content_off_thread = on;
    }

    /// Whether `strength` moves the style toward the content's own (style pictures, strength
    /// below 1) rather than blending the output with the input.
    pub fn moves_toward_content(&self) -> bool {
        self.toward.is_some() && self.options.strength < 1.0
    }

    /// Whether the next stream frame would take the content's style (see
    /// [`Self::encode_content_off_thread`]): moving toward it, with no style taken or being
    /// computed.
    pub fn needs_content_style(&self) -> bool {
        self.moves_toward_content()
            && self
                .toward
                .as_ref()
                .is_some_and(|t| t.with_content.is_none() && t.pending.is_none())
    }

    /// Whether frames move toward the content's style now: [`Self::moves_toward_content`], and
    /// that style is known (not still being computed).
    fn toward_content_now(&self) -> bool {
        self.moves_toward_content()
            && self
                .toward
                .as_ref()
                .is_some_and(|t| t.with_content.is_some())
    }

    /// What runs the frames: "ganstyle runtime", "WGSL frame kernels" or burn on the host.
    pub fn path_name(&self) -> &'static str {
        self.path.name()
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The device the model is on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The options frames are restyled with.
    pub fn options(&self) -> &StyleOptions {
        &self.options
    }

    /// Change the options from the next frame on.
    pub fn set_options(&mut self, options: StyleOptions) -> Result<()> {
        options.validate()?;
        self.options = options;
        Ok(())
    }

    /// Change the style from the next frame on.
    pub fn set_style(&mut self, choice: &StyleChoice) -> Result<()> {
        self.mix = self.model.style_mix(choice)?;
        Ok(())
    }

    /// The next frame does not follow the last one (a seek, new caps): it is not leaned
    /// towards it for `stability`, and with style pictures its own style is taken anew as the
    /// content's.
    pub fn forget_previous(&mut self) {
        self.last_look = None;
        self.path.forget_previous();
        if let Some(toward) = &mut self.toward {
            toward.with_content = None;
            toward.pending = None;
        }
    }

    /// With style pictures and a strength below 1, make sure there is a content style: take
    /// it from `content` when there is none yet (the first frame of a stream, each still). For
    /// a `stream` frame with [`Self::encode_content_off_thread`], start computing it on a
    /// helper thread instead, or take it once that has finished.
    fn take_content_style(
        &mut self,
        content: impl FnOnce() -> Result<RgbImage>,
        stream: bool,
    ) -> Result<()> {
        if !self.moves_toward_content() {
            return Ok(());
        }
        let device = self.device.clone();
        let off_thread = stream && self.content_off_thread;
        let Some(toward) = self.toward.as_mut().filter(|t| t.with_content.is_none()) else {
            return Ok(());
        };
        let vector = match toward.pending.take() {
            Some(pending) => match pending.try_recv() {
                Ok(vector) => vector,
                Err(mpsc::TryRecvError::Empty) => {
                    toward.pending = Some(pending);
                    return Ok(());
                }
                // The helper ended without a result (it panicked): compute it here.
                Err(mpsc::TryRecvError::Disconnected) => {
                    toward.styles.model.style_vector(&content()?, &device)
                }
            },
            None if off_thread => {
                let image = content()?;
                let model = toward.styles.model.clone();
                let (sender, receiver) = mpsc::channel();
                let helper_device = device.clone();
                let spawned = std::thread::Builder::new()
                    .name("ganstyle-content-style".into())
                    .spawn(move || {
                        // The receiver is gone after a seek: nothing to tell then.
                        let _ = sender.send(model.style_vector(&image, &helper_device));
                    });
                match spawned {
                    Ok(_) => {
                        toward.pending = Some(receiver);
                        return Ok(());
                    }
                    Err(err) => {
                        return Err(Error::Setting(format!(
                            "cannot start a thread for the content's style: {err}"
                        )));
                    }
                }
            }
            None => toward.styles.model.style_vector(&content()?, &device),
        };
        let generator = toward.styles.with_content_vector(vector, &device);
        let path = path_for(&generator, &device);
        toward.with_content = Some((generator, path));
        Ok(())
    }

    /// The style weights and options the network runs with. Moving toward the content, the
    /// pictures' weights are scaled by the strength, the content's style has the rest, and the
    /// output is not blended with the input; otherwise they are as set.
    fn effective(&self) -> (Vec<f32>, StyleOptions) {
        if !self.toward_content_now() {
            return (self.mix.clone(), self.options.clone());
        }
        let s = self.options.strength;
        let mut mix: Vec<f32> = self.mix.iter().map(|w| w * s).collect();
        mix.push(1.0 - s);
        let options = StyleOptions {
            strength: 1.0,
            ..self.options.clone()
        };
        (mix, options)
    }

    /// Run `f` with the frame path in use and its network with style weights `mix`: the one
    /// with the content's style when moving toward it, else the model's.
    fn with_path<R>(
        &mut self,
        mix: &[f32],
        f: impl FnOnce(&mut dyn FramePath, &Network<'_>) -> R,
    ) -> R {
        let toward = self.toward_content_now();
        let (generator, path) = match self.toward.as_mut().and_then(|t| t.with_content.as_mut()) {
            Some((generator, path)) if toward => (&*generator, path),
            _ => (&self.model.generator, &mut self.path),
        };
        let network = Network {
            generator,
            device: &self.device,
            mix,
        };
        f(path.as_mut(), &network)
    }

    /// Restyle the next frame of a stream in place (packed as `geometry` says) with the
    /// current style and options. With `stability` above 0 its static pixels lean towards the
    /// previous frame's output when this frame follows it with the same look. Returns the time
    /// spent in the network itself where the path can tell (see [`FramePath::restyle`]).
    pub fn restyle_frame(
        &mut self,
        frame: &mut [u8],
        geometry: &FrameGeometry,
    ) -> Result<Duration> {
        if self.options.strength == 0.0 {
            self.forget_previous();
            return Ok(Duration::ZERO);
        }
        self.take_content_style(|| crate::frame::packed::unpack(frame, geometry), true)?;
        let (mix, options) = self.effective();
        let look = Look::of(&mix, &options);
        let fresh = self.last_look.as_ref() != Some(&look);
        self.last_look = Some(look);
        self.with_path(&mix, |path, network| {
            if fresh {
                path.forget_previous();
            }
            path.restyle(network, frame, geometry, &options)
        })
    }

    /// Restyle a still image with the current style and options (never leaned towards
    /// anything: `stability` is for streams). The next stream frame does not follow it.
    pub fn stylize(&mut self, image: &RgbImage) -> Result<RgbImage> {
        let mut out = image.clone();
        self.forget_previous();
        if self.options.strength > 0.0 {
            self.take_content_style(|| Ok(image.clone()), false)?;
            let (mix, options) = self.effective();
            let still = StyleOptions {
                stability: 0.0,
                ..options
            };
            let geometry = FrameGeometry::rgb(image.width(), image.height());
            self.with_path(&mix, |path, network| {
                path.restyle(network, &mut out, &geometry, &still)
            })?;
        }
        self.forget_previous();
        Ok(out)
    }

    /// The network's output for `image` at its own size with the style as set: no
    /// `max_size`, no blending, not moved toward the image's own style.
    pub fn network_output(&mut self, image: &RgbImage) -> Result<RgbImage> {
        let mix = self.mix.clone();
        let network = Network {
            generator: &self.model.generator,
            device: &self.device,
            mix: &mix,
        };
        self.path.network_output(&network, image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::packed::unpack;
    use crate::model::Arch;

    fn untrained() -> Stylizer {
        let device = Device::flex();
        let model = Model::untrained(Arch::Fast, &device);
        Stylizer::from_model(
            model,
            device,
            &StyleChoice::Default,
            StyleOptions::default(),
        )
        .unwrap()
    }

    fn frame(w: u32, h: u32, shift: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([((x + shift) * 9) as u8, (y * 7) as u8, ((x + y) * 3) as u8])
        })
    }

    /// The tiny arbitrary-style model and a style picture saved in `dir`, with strength 0.5.
    fn tiny_style_picture(dir: &std::path::Path) -> (ModelSource, StyleOptions) {
        let model = dir.join("arbitrary.gsm");
        crate::model::arbitrary::tests::tiny(&Device::flex())
            .save(&model)
            .unwrap();
        let picture = dir.join("painting.png");
        frame(48, 40, 11).save(&picture).unwrap();
        let source = ModelSource::StylePictures {
            model,
            pictures: vec![picture],
        };
        let half = StyleOptions {
            strength: 0.5,
            ..StyleOptions::default()
        };
        (source, half)
    }

    /// `image` restyled as the next frame of a stream.
    fn stream_frame(s: &mut Stylizer, image: &RgbImage, geometry: &FrameGeometry) -> RgbImage {
        let mut bytes = image.as_raw().clone();
        s.restyle_frame(&mut bytes, geometry).unwrap();
        unpack(&bytes, geometry).unwrap()
    }

    #[test]
    fn off_the_streaming_thread_the_content_style_takes_over_once_computed() {
        let dir = tempfile::tempdir().unwrap();
        let (source, half) = tiny_style_picture(dir.path());
        let new = || Stylizer::new(&source, Device::flex(), &StyleChoice::Default, half.clone());
        let (mut helped, mut waiting) = (new().unwrap(), new().unwrap());
        helped.encode_content_off_thread(true);
        // The plain blend of the full style with the input, as for a fixed-style model.
        let mut blend = Stylizer::from_model(
            source.load(&Device::flex()).unwrap(),
            Device::flex(),
            &StyleChoice::Default,
            half.clone(),
        )
        .unwrap();
        let geometry = FrameGeometry::rgb(24, 16);
        let run = |s: &mut Stylizer, image: &RgbImage| stream_frame(s, image, &geometry);
        let first = frame(24, 16, 0);
        let toward = run(&mut waiting, &first);
        let blended = run(&mut blend, &first);
        assert_ne!(toward, blended);
        // The frame that starts the encoder does not wait for it: it is blended.
        assert_eq!(run(&mut helped, &first), blended);
        // A later frame finds the content's style there and moves toward it, as waiting does.
        let started = std::time::Instant::now();
        while run(&mut helped, &first) != toward {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the content's style never took over"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(run(&mut helped, &first), toward);
        // A seek starts over: blended until the new frame's style is computed.
        helped.forget_previous();
        assert_eq!(run(&mut helped, &first), blended);
    }

    #[test]
    fn strength_with_style_pictures_moves_toward_the_first_frames_own_style() {
        let dir = tempfile::tempdir().unwrap();
        let (source, half) = tiny_style_picture(dir.path());
        let mut s =
            Stylizer::new(&source, Device::flex(), &StyleChoice::Default, half.clone()).unwrap();
        assert!(s.moves_toward_content());
        let geometry = FrameGeometry::rgb(24, 16);
        let run = |s: &mut Stylizer, image: &RgbImage| stream_frame(s, image, &geometry);
        let (first, second) = (frame(24, 16, 0), frame(24, 16, 90));
        // A still takes its own style as the content's, and so does a stream's first frame.
        let first_alone = s.stylize(&first).unwrap();
        let second_alone = s.stylize(&second).unwrap();
        assert_eq!(run(&mut s, &first), first_alone);
        // The second frame keeps the first one's content style (no new style every frame).
        let second_in_stream = run(&mut s, &second);
        assert_ne!(second_in_stream, second_alone);
        // After a seek the next frame's own style is taken.
        s.forget_previous();
        assert_eq!(run(&mut s, &second), second_alone);

        // Not the plain blend of input and full output, which fixed-style models give.
        s.set_options(StyleOptions::default()).unwrap();
        assert!(!s.moves_toward_content());
        let full = s.stylize(&second).unwrap();
        let off_blend = second_alone
            .as_raw()
            .iter()
            .zip(second.as_raw().iter().zip(full.as_raw()))
            .map(|(h, (i, o))| (f32::from(*h) - (f32::from(*i) + f32::from(*o)) / 2.0).abs())
            .sum::<f32>()
            / full.as_raw().len() as f32;
        assert!(off_blend > 1.0, "{off_blend} levels from the plain blend");
        // At full strength the content's style plays no part: the baked model's output.
        let baked = source.load(&Device::flex()).unwrap();
        let mut plain = Stylizer::from_model(
            baked,
            Device::flex(),
            &StyleChoice::Default,
            StyleOptions::default(),
        )
        .unwrap();
        assert_eq!(plain.stylize(&second).unwrap(), full);
    }

    #[test]
    fn the_cpu_gets_the_runtime_path() {
        assert_eq!(untrained().path_name(), "ganstyle runtime");
    }

    #[test]
    fn out_of_range_options_are_refused_by_name() {
        let mut s = untrained();
        for (bad, name) in [
            (
                StyleOptions {
                    strength: 1.5,
                    ..StyleOptions::default()
                },
                "strength",
            ),
            (
                StyleOptions {
                    stability: -0.1,
                    ..StyleOptions::default()
                },
                "stability",
            ),
        ] {
            let err = s.set_options(bad).unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
        }
        assert_eq!(*s.options(), StyleOptions::default(), "options kept");
    }

    #[test]
    fn stream_frames_lean_on_the_previous_one_only_while_the_look_holds() {
        let mut s = untrained();
        let stable = StyleOptions {
            stability: 1.0,
            ..StyleOptions::default()
        };
        s.set_options(stable.clone()).unwrap();
        let geometry = FrameGeometry::rgb(24, 16);
        let run = |s: &mut Stylizer, image: &RgbImage| stream_frame(s, image, &geometry);
        let first = frame(24, 16, 0);
        // Sensor noise: every value 2 levels up, below what counts as a change.
        let mut nudged = first.clone();
        nudged.iter_mut().for_each(|v| *v = v.saturating_add(2));
        let alone = s.stylize(&nudged).unwrap();
        let out_first = run(&mut s, &first);
        assert_ne!(alone, out_first, "the nudge changes the network's output");
        // Right after the first frame, fully stable: the static picture keeps its output.
        assert_eq!(run(&mut s, &nudged), out_first);
        // A still image in between breaks the stream, as a seek does.
        assert_eq!(s.stylize(&first).unwrap(), out_first);
        assert_eq!(run(&mut s, &nudged), alone);
        s.forget_previous();
        assert_eq!(run(&mut s, &first), out_first);
        // Another look: the frame is restyled on its own, with the new strength.
        s.set_options(StyleOptions {
            strength: 0.5,
            ..stable
        })
        .unwrap();
        let half = run(&mut s, &nudged);
        assert_eq!(half, s.stylize(&nudged).unwrap());
        assert_ne!(half, alone);
    }
}
