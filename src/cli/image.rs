//! `ganstyle image`: restyle still images.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;

use super::StyleArgs;
use super::outputs::OutputArgs;
use crate::error::Error;
use crate::picture::save_png;
use crate::picture::{MAX_IMAGE_PIXELS, load_image_within};

/// Restyle one or more images.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle image photo.jpg -o styled.png --model mosaic --strength 0.8
  ganstyle image a.png b.png --out-dir styled/ --model impasto --preserve-color
  ganstyle image photo.jpg -o swirls.png --model four-lite --style swirls
  ganstyle image photo.jpg -o mix.png --model four-lite --style-mix 0,0.5,0.5,0   # blend swirls and impasto

Outputs are PNG; with --out-dir each keeps its input's name, as .png.")]
pub struct ImageArgs {
    /// Input images (png, jpg).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where the styled images go.
    #[command(flatten)]
    pub outputs: OutputArgs,
    /// Model and style options.
    #[command(flatten)]
    pub style: StyleArgs,
    /// Refuse images with more pixels than this (checked before decoding).
    #[arg(long, default_value_t = MAX_IMAGE_PIXELS, value_name = "PIXELS")]
    pub max_pixels: u64,
}

/// Run the subcommand.
pub fn run(args: ImageArgs) -> anyhow::Result<()> {
    let outputs = args.outputs.paths(&args.inputs, |_| "png".into())?;
    for out in &outputs {
        let ext = out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if ext.as_deref() != Some("png") {
            bail!("{}: output must be a .png file", out.display());
        }
    }
    let mut stylizer = args.style.stylizer()?;
    for (input, output) in args.inputs.iter().zip(&outputs) {
        let image = load_image_within(input, args.max_pixels).map_err(too_large_hint)?;
        let styled = stylizer.stylize(&image)?;
        save_png(output, &styled)?;
        println!("{} -> {}", input.display(), output.display());
    }
    Ok(())
}

/// A too-large image's error, with what the user can do about it.
fn too_large_hint(err: Error) -> anyhow::Error {
    match err {
        Error::ImageTooLarge { width, height, .. } => {
            let pixels = u64::from(width) * u64::from(height);
            anyhow::anyhow!(
                "{err}; --max-pixels {pixels} allows it (decoding it takes {} MB; --max-size 2048 would run the network at 2048 px on the long side, but the image is still decoded and written at full size)",
                pixels * 3 / 1_000_000
            )
        }
        other => other.into(),
    }
}
