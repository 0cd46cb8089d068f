//! `ganstyle eval`: quality and temporal stability of a model.

use std::path::PathBuf;

use clap::Args;

use super::{StyleArgs, parse_size};
use crate::eval;
use crate::train::data::load_image;
use crate::train::loss_net::LossNetwork;

/// Print content loss, style loss, warping error and frame rate for a model.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle eval --model mosaic
  ganstyle eval --model my_style --clip holiday.mp4 --vgg vgg16.pth

Warping error (Lai et al. 2018): mean over frames of the masked mean squared difference
between output t and output t-1 warped by the flow, pixels in [0, 1]. Lower is steadier.
The 'input' column is the same measure on the unstyled clip: the floor set by interpolation.")]
pub struct EvalArgs {
    /// Model and style options.
    #[command(flatten)]
    pub style: StyleArgs,
    /// Also measure on a real clip (flow estimated by Lucas–Kanade).
    #[arg(long)]
    pub clip: Option<PathBuf>,
    /// Frames of the clip to use.
    #[arg(long, default_value_t = 30)]
    pub clip_frames: usize,
    /// Style image for the style loss (default: the one stored in the model).
    #[arg(long)]
    pub style_image: Option<PathBuf>,
    /// VGG16/19 file for the content and style losses (default: the random multi-scale network).
    #[arg(long)]
    pub vgg: Option<PathBuf>,
    /// Frame size for the speed figure, WxH.
    #[arg(long, default_value = "640x480")]
    pub speed_size: String,
}

/// Run the subcommand.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let (sw, sh) = parse_size(&args.speed_size)?;
    let stylizer = args.style.stylizer()?;
    let model = stylizer.model();
    let style = match &args.style_image {
        Some(path) => load_image(path)?,
        None => {
            let index = model
                .style_mix(&crate::model::StyleChoice::from_options(
                    args.style.style.as_deref(),
                    None,
                )?)?
                .iter()
                .position(|w| *w > 0.0)
                .unwrap_or(0);
            model.style_images[index].clone()
        }
    };
    let net = LossNetwork::new(args.vgg.as_deref(), &burn::tensor::Device::flex())?;
    println!(
        "model: {} ({}, styles: {})",
        args.style.model.as_deref().unwrap_or("default"),
        model.meta.generator.arch.name(),
        model.meta.style_names.join(", ")
    );
    let (content, style_loss) = eval::quality(&stylizer, &net, &style);
    println!("content loss:  {content:.4e}   ({})", net.describe());
    println!("style loss:    {style_loss:.4e}");
    println!("warping error (x1e-3):   styled    input");
    let mut clips = eval::synthetic_clips();
    if let Some(path) = &args.clip {
        clips.push(eval::real_clip(path, args.clip_frames, 256)?);
    }
    let mut styled_sum = 0.0;
    let synthetic = clips.len() - usize::from(args.clip.is_some());
    for (i, clip) in clips.iter().enumerate() {
        let r = eval::evaluate_clip(&stylizer, clip);
        println!(
            "  {:<22} {:>8.3} {:>8.3}",
            r.name,
            r.styled * 1e3,
            r.input * 1e3
        );
        if i < synthetic {
            styled_sum += r.styled;
        }
    }
    println!(
        "warping error, mean of synthetic clips: {:.4e}",
        styled_sum / synthetic as f64
    );
    let ms = eval::time_network(&stylizer, sw, sh, 3);
    println!(
        "speed at {sw}x{sh}: {ms:.1} ms/frame ({:.2} fps)",
        1000.0 / ms
    );
    Ok(())
}
