//! The command-line interface: one module per subcommand, shared option groups here.

mod bench;
mod bench_train;
mod choices;
mod devices;
mod eval;
mod image;
mod import;
mod info;
mod live;
mod outputs;
mod pattern;
mod progress;
mod restyle;
mod train;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand};

use crate::device::{self, DeviceChoice};
use crate::model::{ModelSource, StyleChoice};
use crate::stylize::{StyleOptions, Stylizer};

/// Video and camera style transfer with a feed-forward generator trained GAN-style.
#[derive(Debug, Parser)]
#[command(name = "ganstyle", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a new style (generator + discriminator, content/style/adversarial/temporal losses).
    Train(train::TrainArgs),
    /// Live: a webcam (or a test source / clip) through the element to a window, a virtual
    /// camera, a stream or a file.
    Live(live::LiveArgs),
    /// Restyle recorded clips, audio kept.
    Restyle(restyle::RestyleArgs),
    /// Restyle still images.
    Image(image::ImageArgs),
    /// List cameras and compute devices.
    Devices(devices::DevicesArgs),
    /// Quality and temporal-stability figures for a model.
    Eval(eval::EvalArgs),
    /// Show a model file's metadata (architecture, styles, how it was trained).
    Info(info::InfoArgs),
    /// Write one of the built-in procedural style images (mosaic, ink-hatching, pointillism, swirls, impasto, watercolour).
    Pattern(pattern::PatternArgs),
    /// Import networks made elsewhere (Magenta's arbitrary-style ONNX files), or bake style
    /// pictures into a fixed-style model.
    Import(import::ImportArgs),
    /// Measure speed: ms/frame, fps, GFLOP/s against this machine's matrix-product ceiling.
    Bench(bench::BenchArgs),
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let result = match cli.command {
        Command::Train(args) => train::run(args),
        Command::Live(args) => live::run(args),
        Command::Restyle(args) => restyle::run(args),
        Command::Image(args) => image::run(args),
        Command::Devices(args) => devices::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Info(args) => info::run(args),
        Command::Pattern(args) => pattern::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Import(args) => import::run(args),
    };
    result.map_err(
        |err| match err.downcast_ref::<crate::Error>().and_then(flag_hint) {
            Some(hint) => anyhow::anyhow!("{err}; {hint}"),
            None => err,
        },
    )
}

/// The flag that deals with a library error, said the way the command line says it (the
/// library's messages name no flags: the element and library users have none).
pub(crate) fn flag_hint(err: &crate::Error) -> Option<&'static str> {
    use crate::Error;
    Some(match err {
        Error::Exists(_) => "pass --force to replace it",
        Error::NoDisplay => "write to a file, a stream or v4l2:/dev/videoN with --output instead",
        Error::NoGpu => "--device cpu runs on the CPU",
        Error::CameraNotFound { .. } => {
            "pick one with --camera N (see `ganstyle devices`), or run without a camera with --source test"
        }
        Error::Diverged(_) => "lower --lr",
        _ => return None,
    })
}

/// A library error as the command line says it: with the flag that deals with it, if any.
pub(crate) fn explain(err: &crate::Error) -> String {
    match flag_hint(err) {
        Some(hint) => format!("{err}; {hint}"),
        None => err.to_string(),
    }
}

/// A frame size typed as `WxH`.
pub(crate) fn parse_size(s: &str) -> anyhow::Result<(u32, u32)> {
    let parsed = s
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)));
    match parsed {
        Some((w, h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => anyhow::bail!("size {s:?} is not WxH (e.g. 640x480)"),
    }
}

/// The model to use and how to apply it (shared by `image`, `restyle` and `live`).
#[derive(Debug, Clone, Args)]
pub struct StyleArgs {
    /// Model file or shipped model name (see `ganstyle info`); the embedded default when absent.
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// Style name or index, for multi-style models.
    #[arg(long)]
    pub style: Option<String>,
    /// Any picture as the style (repeat to blend several with --style-mix; a folder gives every
    /// picture in it, and `live` steps through them with n/p), through an arbitrary-style
    /// model: --model, or the one scripts/fetch-assets.sh imports.
    #[arg(long = "style-image", value_name = "IMG")]
    pub style_images: Vec<std::path::PathBuf>,
    /// Blend styles of a multi-style model: one weight per style, e.g. 0.7,0.3.
    #[arg(long, value_name = "W1,W2,...")]
    pub style_mix: Option<String>,
    /// How much of the style to apply, 0..1 (0 leaves the input unchanged). With --style-image
    /// the style itself moves toward the input's own (each image's; a video's first frame's):
    /// half the style, not a faded double image.
    #[arg(long, default_value_t = 1.0)]
    pub strength: f32,
    /// Keep the input's colours, transfer only luminance.
    #[arg(long)]
    pub preserve_color: bool,
    /// Where the network runs.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Longest side the network runs at; larger inputs are processed smaller and upscaled (0 = native).
    #[arg(long, default_value_t = 0)]
    pub max_size: u32,
}

impl StyleArgs {
    /// Check the options before any work starts: ranges, and that the model loads and has
    /// the style asked for. Returns the model's style names.
    pub fn validate(&self) -> anyhow::Result<Vec<String>> {
        self.options().validate()?;
        let model = self.source()?.load(&burn::tensor::Device::flex())?;
        model.style_mix(&StyleChoice::from_options(
            self.style.as_deref(),
            self.style_mix.as_deref(),
        )?)?;
        Ok(model.meta.style_names)
    }

    /// Where the model comes from: the model, or an arbitrary-style model with the style
    /// pictures.
    pub fn source(&self) -> crate::Result<ModelSource> {
        if self.style_images.is_empty() {
            ModelSource::resolve(self.model.as_deref())
        } else {
            let pictures = crate::model::style_picture::expand(&self.style_images)?;
            ModelSource::style_pictures(self.model.as_deref(), pictures)
        }
    }

    /// The style pictures, folders expanded (empty when none are given or a folder has none:
    /// [`Self::validate`] reports that).
    pub fn pictures(&self) -> Vec<std::path::PathBuf> {
        crate::model::style_picture::expand(&self.style_images).unwrap_or_default()
    }

    fn options(&self) -> StyleOptions {
        StyleOptions {
            strength: self.strength,
            preserve_color: self.preserve_color,
            max_size: self.max_size,
            ..StyleOptions::default()
        }
    }

    /// Set a `ganstyle` element's properties to these options.
    pub fn configure(&self, element: &gstreamer::Element) {
        use gstreamer::prelude::*;
        if let Some(model) = &self.model {
            element.set_property("model", model);
        }
        if let Some(picture) = self.pictures().first() {
            element.set_property("style-image", picture.display().to_string());
        }
        element.set_property("style", &self.style);
        element.set_property("style-mix", &self.style_mix);
        element.set_property("strength", f64::from(self.strength));
        element.set_property("preserve-color", self.preserve_color);
        element.set_property_from_str("device", self.device.name());
        element.set_property("max-size", self.max_size);
    }

    /// Load the model and build the stylizer these options describe.
    pub fn stylizer(&self) -> anyhow::Result<Stylizer> {
        let source = self.source()?;
        let choice = StyleChoice::from_options(self.style.as_deref(), self.style_mix.as_deref())?;
        let (device, _) = device::select(self.device)?;
        Ok(Stylizer::new(&source, device, &choice, self.options())?)
    }
}

/// Set by Ctrl-C (SIGINT/SIGTERM): long-running commands stop cleanly when they see it. A
/// second Ctrl-C exits at once.
pub fn interrupt_flag() -> &'static AtomicBool {
    static FLAG: OnceLock<&'static AtomicBool> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                // No destructors run on this exit: remove the half-written outputs here.
                crate::files::remove_partial_files();
                std::process::exit(130);
            }
            eprintln!("\nstopping (Ctrl-C again to quit at once)");
        });
        flag
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_subcommand_is_a_valid_clap_command() {
        // clap's own consistency checks (unique long names, valid defaults, ...), which it
        // otherwise runs only when a subcommand is parsed.
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn library_errors_name_no_flags_and_the_cli_adds_them() {
        let exists = crate::files::refuse_existing(Path::new("Cargo.toml"), false).unwrap_err();
        assert_eq!(exists.to_string(), "Cargo.toml exists");
        assert_eq!(
            explain(&exists),
            "Cargo.toml exists; pass --force to replace it"
        );
        let both = StyleChoice::from_options(Some("a"), Some("1,1")).unwrap_err();
        assert!(!both.to_string().contains("--"), "{both}");
        for err in [
            crate::Error::NoGpu,
            crate::Error::NoDisplay,
            crate::Error::Diverged(5),
        ] {
            assert!(!err.to_string().contains("--"), "{err}");
            assert!(explain(&err).contains("--"), "{}", explain(&err));
        }
    }
}
