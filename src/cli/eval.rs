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
  ganstyle eval --model tuned.gsm --before arbitrary.gsm --style-image paintings/

With several style pictures (and no --style-mix) each is measured in turn, then a summary
table gives each picture's figures; --before adds a column for the other model everywhere.

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
    /// Another model measured the same way, printed beside this one (say, the same network
    /// before a temporal fine-tune): a file or shipped name, with the same --style or
    /// --style-image.
    #[arg(long, value_name = "MODEL")]
    pub before: Option<String>,
}

/// A model being measured, with the label of its column and the model as given.
struct Subject {
    label: &'static str,
    spec: String,
    stylizer: Stylizer,
}

/// What the summary keeps of one style's measurement, per subject.
#[derive(Default, Clone, Copy)]
struct Headline {
    ratio: Option<f64>,
    mean_layers: Option<f64>,
    warping: Option<f64>,
}

/// Run the subcommand.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let (sw, sh) = parse_size(&args.speed_size)?;
    // Several style pictures, not mixed: one measurement each.
    let pictures = args.style.pictures();
    let styles: Vec<StyleArgs> = if pictures.len() > 1 && args.style.style_mix.is_none() {
        pictures
            .iter()
            .map(|p| StyleArgs {
                style_images: vec![p.clone()],
                ..args.style.clone()
            })
            .collect()
    } else {
        vec![args.style.clone()]
    };
    let vgg = args.vgg.clone().or_else(assets::vgg16);
    let net = LossNetwork::new(vgg.as_deref(), &burn::tensor::Device::flex())?;
    let photos_dir = args
        .photos
        .clone()
        .or_else(|| assets::photos(PhotoSet::Eval));
    let photos = match &photos_dir {
        Some(dir) => assets::load_photos(dir, stylization::STYLE_SIDE)?,
        None => Vec::new(),
    };
    let mut clips = eval::photo_clips(&photos);
    let from_photos = clips.len();
    clips.extend(eval::synthetic_clips());
    if let Some(path) = &args.clip {
        clips.push(eval::real_clip(path, args.clip_frames, 256)?);
    }
    let clips = Clips {
        clips,
        from_photos,
        real: args.clip.is_some(),
    };

    let mut summary = Vec::new();
    for (i, style_args) in styles.iter().enumerate() {
        let mut subjects = subjects(&args, style_args)?;
        if i == 0 {
            for subject in &subjects {
                let model = subject.stylizer.model();
                println!(
                    "{}: {} ({}, styles: {})",
                    subject.label,
                    subject.spec,
                    model.meta.generator.arch.name(),
                    model.meta.style_names.join(", ")
                );
            }
        }
        let name = style_args
            .pictures()
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if styles.len() > 1 {
            println!(
                "\n== style picture {} of {}: {name} ==",
                i + 1,
                styles.len()
            );
        }
        let style = target_style(&args, style_args, &subjects)?;
        let mut headlines = vec![Headline::default(); subjects.len()];
        match (&net, &photos_dir) {
            (LossNetwork::Vgg(vgg), Some(_)) if vgg.variant != 16 => println!(
                "stylization ratio: not measured; it is defined on VGG16's relu1_2..relu4_3, and {} is not VGG16",
                vgg.describe()
            ),
            (LossNetwork::Vgg(vgg), Some(dir)) => {
                print_stylization(&mut subjects, vgg, &style, &photos, dir, &mut headlines)?;
            }
            _ => println!(
                "stylization ratio: not measured; it needs the pretrained VGG16 and photographs (run scripts/fetch-assets.sh, or pass --vgg and --photos)"
            ),
        }
        print_quality(&mut subjects, &net, &style)?;
        print_warping(&mut subjects, &clips, &mut headlines)?;
        if i == 0 {
            for subject in &mut subjects {
                let ms = eval::time_network(&mut subject.stylizer, sw, sh, 3)?;
                println!(
                    "speed at {sw}x{sh}, {}: {ms:.1} ms/frame ({:.2} fps)",
                    subject.label,
                    1000.0 / ms
                );
            }
        }
        summary.push((name, subjects.iter().map(|s| s.label).collect(), headlines));
    }
    if summary.len() > 1 {
        print_summary(&summary);
    }
    Ok(())
}

/// The model (and the `--before` one) with the style `style` asks for.
fn subjects(args: &EvalArgs, style: &StyleArgs) -> anyhow::Result<Vec<Subject>> {
    let mut subjects = Vec::new();
    if let Some(before_spec) = &args.before {
        let before = StyleArgs {
            model: Some(before_spec.clone()),
            ..style.clone()
        };
        subjects.push(Subject {
            label: "before",
            spec: before_spec.clone(),
            stylizer: before.stylizer()?,
        });
    }
    let label = if subjects.is_empty() {
        "model"
    } else {
        "after"
    };
    subjects.push(Subject {
        label,
        spec: style.model.clone().unwrap_or_else(|| "default".into()),
        stylizer: style.stylizer()?,
    });
    Ok(subjects)
}

/// The picture the style loss is measured against: `--target-style`, else the style image
/// the (last) model holds for the style asked for.
fn target_style(
    args: &EvalArgs,
    style: &StyleArgs,
    subjects: &[Subject],
) -> anyhow::Result<image::RgbImage> {
    if let Some(path) = &args.target_style {
        return Ok(load_image(path)?);
    }
    let model = subjects
        .last()
        .expect("one subject at least")
        .stylizer
        .model();
    let index = model
        .style_mix(&crate::model::StyleChoice::from_options(
            style.style.as_deref(),
            None,
        )?)?
        .iter()
        .position(|w| *w > 0.0)
        .unwrap_or(0);
    Ok(model.style_images[index].clone())
}

/// The stylization table: each subject beside the colour-transfer baseline, per photo and
/// combined, per layer.
fn print_stylization(
    subjects: &mut [Subject],
    vgg: &Vgg,
    style: &image::RgbImage,
    photos: &[(String, image::RgbImage)],
    dir: &std::path::Path,
    headlines: &mut [Headline],
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
    let row = |name: &str, values: &[String]| {
        let cells: String = values.iter().map(|v| format!(" {v:>8}")).collect();
        println!("  {name:<24}{cells}");
    };
    let mut header: Vec<String> = subjects.iter().map(|s| s.label.to_string()).collect();
    header.push("colour transfer".into());
    println!(
        "  {:<24}{}",
        "",
        header
            .iter()
            .map(|h| format!(" {h:>8}"))
            .collect::<String>()
    );
    // figures[k]: per photo, subject k (the colour transfer last).
    let mut figures = vec![Vec::new(); subjects.len() + 1];
    for (name, photo) in photos {
        let mut outputs = Vec::new();
        for subject in subjects.iter_mut() {
            outputs.push(subject.stylizer.stylize(photo)?);
        }
        outputs.push(colour_transfer::reinhard(photo, &style));
        let refs: Vec<&image::RgbImage> = outputs.iter().collect();
        let measured = stylization::measure(vgg, &target, photo, &refs);
        row(
            &format!("ratio, {name}"),
            &measured
                .iter()
                .map(|f| format!("{:.3}", f.ratio))
                .collect::<Vec<_>>(),
        );
        for (k, f) in measured.into_iter().enumerate() {
            figures[k].push(f);
        }
    }
    let combined: Vec<_> = figures.iter().map(|f| stylization::combine(f)).collect();
    let means: Vec<f64> = figures
        .iter()
        .map(|f| stylization::combined_mean_layer_ratio(f))
        .collect();
    let cells = |f: &dyn Fn(usize) -> String| (0..figures.len()).map(f).collect::<Vec<_>>();
    row(
        "stylization ratio",
        &cells(&|k| format!("{:.3}", combined[k].ratio)),
    );
    row("mean over layers", &cells(&|k| format!("{:.3}", means[k])));
    for (l, layer) in stylization::LAYERS.iter().enumerate() {
        row(
            &format!("  ratio at {layer}"),
            &cells(&|k| format!("{:.3}", combined[k].layer_ratios[l])),
        );
    }
    row(
        "content loss (relu3_3)",
        &cells(&|k| format!("{:.3e}", combined[k].content)),
    );
    for (k, headline) in headlines.iter_mut().enumerate() {
        headline.ratio = Some(combined[k].ratio);
        headline.mean_layers = Some(means[k]);
    }
    Ok(())
}

/// Content and style loss on procedural images, per subject.
fn print_quality(
    subjects: &mut [Subject],
    net: &LossNetwork,
    style: &image::RgbImage,
) -> anyhow::Result<()> {
    for subject in subjects.iter_mut() {
        let (content, style_loss) = eval::quality(&mut subject.stylizer, net, style)?;
        println!(
            "{:<7} content loss:  {content:.4e}   ({})",
            subject.label,
            net.describe()
        );
        println!("{:<7} style loss:    {style_loss:.4e}", subject.label);
    }
    Ok(())
}

/// The clips warping error is measured on: from the photos first, then synthetic ones, then
/// the real clip if one was given.
struct Clips {
    clips: Vec<eval::Clip>,
    from_photos: usize,
    real: bool,
}

/// Warping error per clip and subject, with the input's own beside them.
fn print_warping(
    subjects: &mut [Subject],
    clips: &Clips,
    headlines: &mut [Headline],
) -> anyhow::Result<()> {
    let labels: String = subjects
        .iter()
        .map(|s| format!(" {:>8}", s.label))
        .collect();
    println!("warping error (x1e-3):  {labels}    input");
    let synthetic = clips.clips.len() - usize::from(clips.real);
    let mut photo_sum = vec![0.0; subjects.len()];
    let mut synthetic_sum = vec![0.0; subjects.len()];
    for (i, clip) in clips.clips.iter().enumerate() {
        let mut cells = String::new();
        let mut input = 0.0;
        for (k, subject) in subjects.iter_mut().enumerate() {
            let r = eval::evaluate_clip(&mut subject.stylizer, clip)?;
            cells.push_str(&format!(" {:>8.3}", r.styled * 1e3));
            input = r.input;
            if i < clips.from_photos {
                photo_sum[k] += r.styled;
            } else if i < synthetic {
                synthetic_sum[k] += r.styled;
            }
        }
        println!("  {:<22}{cells} {:>8.3}", clip.name, input * 1e3);
    }
    let means = |sums: &[f64], n: usize| {
        sums.iter()
            .map(|s| format!("{:.4e}", s / n as f64))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let labels: Vec<&str> = subjects.iter().map(|s| s.label).collect();
    if clips.from_photos > 0 {
        println!(
            "warping error, mean of moving-photo clips ({}): {}",
            labels.join(" / "),
            means(&photo_sum, clips.from_photos)
        );
        for (k, headline) in headlines.iter_mut().enumerate() {
            headline.warping = Some(photo_sum[k] / clips.from_photos as f64);
        }
    }
    println!(
        "warping error, mean of synthetic clips ({}): {}",
        labels.join(" / "),
        means(&synthetic_sum, synthetic - clips.from_photos)
    );
    Ok(())
}

/// One row per style picture (ratio, mean over layers and warping error of each subject),
/// then the geometric mean and the worst over the pictures.
fn print_summary(summary: &[(String, Vec<&'static str>, Vec<Headline>)]) {
    let labels = &summary[0].1;
    println!("\nsummary over {} style pictures:", summary.len());
    let mut header = String::new();
    for what in ["ratio", "layers", "warping"] {
        for label in labels {
            header.push_str(&format!(" {:>15}", format!("{what}, {label}")));
        }
    }
    println!("  {:<28}{header}", "style picture");
    let figures = |h: &Headline| [h.ratio, h.mean_layers, h.warping];
    let row = |name: &str, values: &[[Option<f64>; 3]]| {
        let mut cells = String::new();
        for (what, scientific) in [(0, false), (1, false), (2, true)] {
            for v in values {
                cells.push_str(&match v[what] {
                    Some(v) if scientific => format!(" {v:>15.3e}"),
                    Some(v) => format!(" {v:>15.3}"),
                    None => format!(" {:>15}", "-"),
                });
            }
        }
        // Long paths keep their end, where the file name is.
        let chars: Vec<char> = name.chars().collect();
        let short: String = chars[chars.len().saturating_sub(28)..].iter().collect();
        println!("  {short:<28}{cells}");
    };
    for (name, _, headlines) in summary {
        row(name, &headlines.iter().map(figures).collect::<Vec<_>>());
    }
    let over = |k: usize, what: usize, worst: bool| -> Option<f64> {
        let values: Option<Vec<f64>> = summary
            .iter()
            .map(|(_, _, h)| figures(&h[k])[what])
            .collect();
        let values = values?;
        Some(if worst {
            values.iter().copied().fold(f64::MIN, f64::max)
        } else {
            (values
                .iter()
                .map(|v| v.max(f64::MIN_POSITIVE).ln())
                .sum::<f64>()
                / values.len() as f64)
                .exp()
        })
    };
    for (name, worst) in [("geometric mean", false), ("worst", true)] {
        let values: Vec<[Option<f64>; 3]> = (0..labels.len())
            .map(|k| std::array::from_fn(|what| over(k, what, worst)))
            .collect();
        row(name, &values);
    }
}
