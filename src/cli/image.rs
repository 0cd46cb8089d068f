//! `ganstyle image`: restyle still images.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;

use super::StyleArgs;
use super::outputs::OutputArgs;
use crate::train::data::load_image;
use crate::train::report::save_png;

/// Restyle one or more images.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle image photo.jpg -o styled.png --model mosaic --strength 0.8
  ganstyle image a.png b.png --out-dir styled/ --model ink-hatching --preserve-color
  ganstyle image photo.jpg -o swirls.png --model duo --style swirls
  ganstyle image photo.jpg -o mix.png --model duo --style-mix 0.5,0.5          # blend two styles

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
    let stylizer = args.style.stylizer()?;
    for (input, output) in args.inputs.iter().zip(&outputs) {
        let image = load_image(input)?;
        let styled = stylizer.stylize(&image);
        save_png(output, &styled)?;
        println!("{} -> {}", input.display(), output.display());
    }
    Ok(())
}
