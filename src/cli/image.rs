//! `ganstyle image`: restyle still images.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use super::StyleArgs;
use crate::train::data::load_image;
use crate::train::report::save_png;

/// Restyle one or more images.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle image photo.jpg -o styled.png --model mosaic --strength 0.8
  ganstyle image a.png b.png --out-dir styled/ --model ink-hatching --preserve-color
  ganstyle image photo.jpg -o swirls.png --model duo --style swirls
  ganstyle image photo.jpg -o mix.png --model duo --style-mix 0.5,0.5          # blend two styles")]
pub struct ImageArgs {
    /// Input images (png, jpg).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output file (one input only).
    #[arg(long, short = 'o', conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,
    /// Output folder (outputs keep the input names, as .png).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Replace existing outputs.
    #[arg(long)]
    pub force: bool,
    /// Model and style options.
    #[command(flatten)]
    pub style: StyleArgs,
}

fn output_path(args: &ImageArgs, input: &Path) -> anyhow::Result<PathBuf> {
    match (&args.output, &args.out_dir) {
        (Some(out), None) => Ok(out.clone()),
        (None, Some(dir)) => {
            let stem = input.file_stem().context("input has no file name")?;
            Ok(dir.join(stem).with_extension("png"))
        }
        _ => bail!("give --output FILE (for one input) or --out-dir DIR"),
    }
}

/// Run the subcommand.
pub fn run(args: ImageArgs) -> anyhow::Result<()> {
    if args.output.is_some() && args.inputs.len() > 1 {
        bail!(
            "--output takes one input; use --out-dir for {} inputs",
            args.inputs.len()
        );
    }
    let outputs = args
        .inputs
        .iter()
        .map(|i| output_path(&args, i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for out in &outputs {
        if out.exists() && !args.force {
            bail!("{} exists (use --force to replace it)", out.display());
        }
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
