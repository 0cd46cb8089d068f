//! `ganstyle pattern`: write a built-in procedural style image.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::picture::save_png;
use crate::procedural::StylePattern;

/// Write a built-in style image (the shipped models were trained on these).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle pattern mosaic -o mosaic.png
  ganstyle pattern swirls -o swirls.png --size 1024 --seed 7")]
pub struct PatternArgs {
    /// mosaic, ink-hatching, pointillism, swirls, impasto or watercolour.
    pub name: String,
    /// Output PNG.
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Side in pixels.
    #[arg(long, default_value_t = 512)]
    pub size: u32,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Run the subcommand.
pub fn run(args: PatternArgs) -> anyhow::Result<()> {
    let pattern = StylePattern::from_name(&args.name).with_context(|| {
        let names: Vec<_> = StylePattern::ALL.iter().map(|p| p.name()).collect();
        format!(
            "unknown pattern {:?} (known: {})",
            args.name,
            names.join(", ")
        )
    })?;
    anyhow::ensure!(args.size > 0, "--size must be at least 1");
    save_png(
        &args.output,
        &pattern.render(args.size, args.size, args.seed),
    )?;
    println!("{}", args.output.display());
    Ok(())
}
