//! `ganstyle info`: what a model file holds.

use clap::Args;

use crate::model::arbitrary::ArbitraryModel;
use crate::model::{
    AnyModel, ModelSource, TrainingInfo, generator::GeneratorConfig, load_any, shipped_names,
};

/// Show a model's metadata, or list the shipped models.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle info                 # list shipped models
  ganstyle info --model mosaic
  ganstyle info --model ~/.cache/ganstyle/models/arbitrary.gsm   # an arbitrary-style model")]
pub struct InfoArgs {
    /// Model file or shipped name.
    #[arg(long, short = 'm')]
    pub model: Option<String>,
}

/// Run the subcommand.
pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let Some(spec) = args.model else {
        println!("shipped models: {}", shipped_names().join(", "));
        return Ok(());
    };
    let source = ModelSource::resolve(Some(&spec))?;
    let device = burn::tensor::Device::flex();
    let model = match &source {
        ModelSource::File(path) => match load_any(path, &device)? {
            AnyModel::Arbitrary(model) => {
                print_arbitrary(path, &model);
                return Ok(());
            }
            AnyModel::Fixed(model) => *model,
        },
        _ => source.load(&device)?,
    };
    let meta = &model.meta;
    println!("model:        {}", source.describe());
    print_arch(&meta.generator, model.generator.parameter_count());
    println!("styles:       {}", meta.style_names.join(", "));
    if let Some(origin) = &meta.origin {
        println!("origin:       {origin}");
    }
    if meta.baked_from.is_some() {
        println!(
            "baked:        from an arbitrary-style model of that origin; its convolutions can rebuild it (import --convolutions-from)"
        );
    }
    println!("written by:   {}", meta.written_by);
    print_training(&meta.training);
    Ok(())
}

fn print_arbitrary(path: &std::path::Path, model: &ArbitraryModel) {
    let meta = &model.meta;
    println!(
        "model:        {} (arbitrary-style: any picture as the style)",
        path.display()
    );
    print_arch(&meta.transformer, model.transformer.parameter_count());
    println!(
        "style vector: {} numbers from a {}x{} picture ({} style heads)",
        meta.encoder.vector_len,
        meta.encoder.input_side,
        meta.encoder.input_side,
        model.heads.len()
    );
    println!("origin:       {}", meta.origin);
    println!("written by:   {}", meta.written_by);
    print_training(&meta.training);
}

fn print_arch(config: &GeneratorConfig, parameters: usize) {
    println!(
        "architecture: {} ({parameters} parameters, {:.2} GMAC at 640x480)",
        config.arch.name(),
        config.macs(640, 480) as f64 / 1e9
    );
}

fn print_training(t: &TrainingInfo) {
    println!(
        "trained:      {} steps at {}px, {:.0} s on {}",
        t.steps, t.size, t.seconds, t.device
    );
    println!("loss network: {}", t.loss_network);
    println!("command:      {}", t.command);
    let fmt = |m: &std::collections::BTreeMap<String, f32>| {
        m.iter()
            .map(|(k, v)| format!("{k}={v:.4e}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("weights:      {}", fmt(&t.loss_weights));
    println!("final losses: {}", fmt(&t.final_losses));
}
