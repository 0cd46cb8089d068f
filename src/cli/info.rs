//! `ganstyle info`: what a model file holds.

use clap::Args;

use crate::model::{ModelSource, generator::GeneratorConfig, shipped_names};

/// Show a model's metadata, or list the shipped models.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle info                 # list shipped models
  ganstyle info --model mosaic")]
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
    let model = source.load(&burn::tensor::Device::flex())?;
    let meta = &model.meta;
    let t = &meta.training;
    let config: &GeneratorConfig = &meta.generator;
    println!("model:        {}", source.describe());
    println!(
        "architecture: {} ({} parameters, {:.2} GMAC at 640x480)",
        config.arch.name(),
        model.generator.parameter_count(),
        config.macs(640, 480) as f64 / 1e9
    );
    println!("styles:       {}", meta.style_names.join(", "));
    println!("written by:   {}", meta.written_by);
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
    Ok(())
}
