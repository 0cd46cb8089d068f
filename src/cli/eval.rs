//! `ganstyle eval`: quality and temporal stability of a model.

use std::path::PathBuf;

use clap::Args;

use super::{StyleArgs, parse_size};
use crate::assets::{self, PhotoSet};
use crate::eval::{self, colour_transfer, stylization};
use crate::picture::fit_short_side;
use crate::picture::load_image;
use crate::stylize::Stylizer;
use crate::train::loss_net::LossNetwork;
use crate::train::vgg::Vgg;

/// Print stylization ratio, content loss, style loss, warping error and frame rate for a model.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle eval --model mosaic
  ganstyle eval --model my_style --photos my_photos/ --clip holiday.mp4 --vgg vgg16.pth

Stylization ratio (needs the pretrained VGG16 that scripts/fetch-assets.sh fetches, or --vgg):
the style loss of the output over that of the photo, so 1 means no closer to the style than
the photo itself; geometric mean over the photos. The style loss is the mean over relu1_2,
relu2_2, relu3_3 and relu4_3 of the squared Frobenius distance between Gram matrices (G = F F^T
/ (C H W)) of the picture and of the style image (at 256 px on its short side). relu1_2
dominates that mean, so the ratio per layer is shown too, and 'mean over layers' averages the
four ratios. The colour-transfer column is Reinhard's mean/std transfer in Lab: colours only.
A model no better than it is a colour grade, not a style.

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
    /// Measure the style loss and stylization ratio against this image instead of the style
    /// image stored in the model (with --style-image, the style picture itself).
    #[arg(long, value_name = "IMG")]
    pub target_style: Option<PathBuf>,
    /// VGG16/19 file (torchvision .pth/.safetensors, or a Keras .h5) for the losses (default:
    /// the fetched VGG16, else the random multi-scale network, which gives no stylization ratio).
    #[arg(long)]
    pub vgg: Option<PathBuf>,
    /// Folder of photographs for the stylization ratio and the moving-photo clips (default:
    /// the held-out photographs scripts/fetch-assets.sh fetches).
    #[arg(long, value_name = "DIR")]
    pub photos: Option<PathBuf>,
    /// Frame size for the speed figure, WxH.
    #[arg(long, default_value = "640x480")]
    pub speed_size: String,
}

/// Run the subcommand.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let (sw, sh) = parse_size(&args.speed_size)?;
    let mut stylizer = args.style.stylizer()?;
    let model = stylizer.model();
    let style = match &args.target_style {
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
    let vgg = args.vgg.clone().or_else(assets::vgg16);
    let net = LossNetwork::new(vgg.as_deref(), &burn::tensor::Device::flex())?;
    println!(
        "model: {} ({}, styles: {})",
        args.style.model.as_deref().unwrap_or("default"),
        model.meta.generator.arch.name(),
        model.meta.style_names.join(", ")
    );
    let photos_dir = args
        .photos
        .clone()
        .or_else(|| assets::photos(PhotoSet::Eval));
    let photos = match &photos_dir {
        Some(dir) => assets::load_photos(dir, stylization::STYLE_SIDE)?,
        None => Vec::new(),
    };
    match (&net, &photos_dir) {
        (LossNetwork::Vgg(vgg), Some(_)) if vgg.variant != 16 => println!(
            "stylization ratio: not measured; it is defined on VGG16's relu1_2..relu4_3, and {} is not VGG16",
            vgg.describe()
        ),
        (LossNetwork::Vgg(vgg), Some(dir)) => {
            print_stylization(&mut stylizer, vgg, &style, &photos, dir)?;
        }
        _ => println!(
            "stylization ratio: not measured; it needs the pretrained VGG16 and photographs (run scripts/fetch-assets.sh, or pass --vgg and --photos)"
        ),
    }
    let (content, style_loss) = eval::quality(&mut stylizer, &net, &style)?;
    println!("content loss:  {content:.4e}   ({})", net.describe());
    println!("style loss:    {style_loss:.4e}");
    println!("warping error (x1e-3):   styled    input");
    let mut clips = eval::photo_clips(&photos);
    let from_photos = clips.len();
    clips.extend(eval::synthetic_clips());
    if let Some(path) = &args.clip {
        clips.push(eval::real_clip(path, args.clip_frames, 256)?);
    }
    let (mut photo_sum, mut synthetic_sum) = (0.0, 0.0);
    let synthetic = clips.len() - usize::from(args.clip.is_some());
    for (i, clip) in clips.iter().enumerate() {
        let r = eval::evaluate_clip(&mut stylizer, clip)?;
        println!(
            "  {:<22} {:>8.3} {:>8.3}",
            r.name,
            r.styled * 1e3,
            r.input * 1e3
        );
        if i < from_photos {
            photo_sum += r.styled;
        } else if i < synthetic {
            synthetic_sum += r.styled;
        }
    }
    if from_photos > 0 {
        println!(
            "warping error, mean of moving-photo clips: {:.4e}",
            photo_sum / from_photos as f64
        );
    }
    println!(
        "warping error, mean of synthetic clips: {:.4e}",
        synthetic_sum / (synthetic - from_photos) as f64
    );
    let ms = eval::time_network(&mut stylizer, sw, sh, 3)?;
    println!(
        "speed at {sw}x{sh}: {ms:.1} ms/frame ({:.2} fps)",
        1000.0 / ms
    );
    Ok(())
}

/// The stylization table: the model beside the colour-transfer baseline, per photo and
/// combined, per layer.
fn print_stylization(
    stylizer: &mut Stylizer,
    vgg: &Vgg,
    style: &image::RgbImage,
    photos: &[(String, image::RgbImage)],
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let style = fit_short_side(style, stylization::STYLE_SIDE);
    let target = stylization::StyleTarget::new(vgg, &style);
    println!(
        "stylization on {} photographs in {} ({}; style image {}x{}):",
        photos.len(),
        dir.display(),
        vgg.describe(),
        style.width(),
        style.height()
    );
    println!("  {:<24} {:>8} {:>16}", "", "model", "colour transfer");
    let (mut model, mut baseline) = (Vec::new(), Vec::new());
    for (name, photo) in photos {
        let styled = stylizer.stylize(photo)?;
        let graded = colour_transfer::reinhard(photo, &style);
        let figures = stylization::measure(vgg, &target, photo, &[&styled, &graded]);
        println!(
            "  ratio, {:<17} {:>8.3} {:>16.3}",
            name, figures[0].ratio, figures[1].ratio
        );
        model.push(figures[0]);
        baseline.push(figures[1]);
    }
    let (m, b) = (
        stylization::combine(&model),
        stylization::combine(&baseline),
    );
    println!(
        "  {:<24} {:>8.3} {:>16.3}",
        "stylization ratio", m.ratio, b.ratio
    );
    println!(
        "  {:<24} {:>8.3} {:>16.3}",
        "mean over layers",
        stylization::combined_mean_layer_ratio(&model),
        stylization::combined_mean_layer_ratio(&baseline)
    );
    for (l, layer) in stylization::LAYERS.iter().enumerate() {
        println!(
            "    {:<22} {:>8.3} {:>16.3}",
            format!("ratio at {layer}"),
            m.layer_ratios[l],
            b.layer_ratios[l]
        );
    }
    println!(
        "  {:<24} {:>8.3e} {:>16.3e}",
        "content loss (relu3_3)", m.content, b.content
    );
    Ok(())
}
