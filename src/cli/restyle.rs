//! `ganstyle restyle`: restyle recorded clips, audio kept.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::bail;
use clap::Args;

use super::StyleArgs;
use super::outputs::OutputArgs;
use super::progress;
use crate::media::encode::Container;
use crate::media::restyle::{RestyleJob, probe, restyle_clip};

/// Restyle recorded clips: every frame through the ganstyle element, audio kept.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ganstyle restyle holiday.mp4 -o holiday_mosaic.mp4 --model mosaic --strength 0.8
  ganstyle restyle clips/*.mp4 --out-dir styled/ --model watercolour
  ganstyle restyle talk.mkv -o talk_swirls.mkv --model four-lite --style swirls --max-size 480
  ganstyle restyle in.mp4 -o out.webm --preserve-color --force

The output's extension picks the container (.mp4, .mov, .mkv, .webm). Resolution, frame rate,
frame count and duration are kept; the audio is copied when the container takes it, else
re-encoded. With --out-dir each output keeps its input's name, as .mp4 unless the input is
.mkv, .mov or .webm. Outputs are written to a temporary file and renamed only when complete.")]
pub struct RestyleArgs {
    /// Input clips (anything GStreamer can play).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where the styled clips go.
    #[command(flatten)]
    pub outputs: OutputArgs,
    /// Model and style options.
    #[command(flatten)]
    pub style: StyleArgs,
}

/// The extension an output in `--out-dir` gets: the input's, when it names a container the
/// output can be written in, else mp4.
fn out_dir_extension(input: &Path) -> String {
    match input.extension() {
        Some(e) if Container::from_path(input).is_ok() => e.to_string_lossy().into_owned(),
        _ => "mp4".into(),
    }
}

/// Run `ganstyle restyle`.
pub fn run(args: RestyleArgs) -> anyhow::Result<()> {
    args.style.validate()?;
    crate::media::init()?;
    let cancel = super::interrupt_flag();
    let outputs = args.outputs.paths(&args.inputs, out_dir_extension)?;

    // Probe everything first: totals for the progress bars, and bad inputs named up front.
    let infos: Vec<_> = args.inputs.iter().map(|i| probe(i)).collect();
    let total_frames: u64 = infos
        .iter()
        .filter_map(|i| i.as_ref().ok().and_then(|i| i.frames()))
        .sum();
    let multi = progress::multi();
    let total = multi.add(progress::bar(total_frames, "frames"));
    total.set_message("in total");
    let mut done_before = 0u64;
    let mut failed = Vec::new();
    let mut summary = Vec::new();
    for ((input, output), info) in args.inputs.iter().zip(&outputs).zip(infos) {
        if cancel.load(Ordering::SeqCst) {
            failed.push(format!("{}: not started (interrupted)", input.display()));
            continue;
        }
        let info = match info {
            Ok(info) => info,
            Err(err) => {
                failed.push(super::explain(&err));
                continue;
            }
        };
        let name = input.file_name().unwrap_or_default().to_string_lossy();
        let bar = multi.insert_before(&total, progress::bar(info.frames().unwrap_or(0), "frames"));
        let started = Instant::now();
        let fps = |frames: u64| frames as f64 / started.elapsed().as_secs_f64().max(1e-3);
        let job = RestyleJob {
            input,
            output,
            force: args.outputs.force,
            configure: &|element| args.style.configure(element),
            progress: &|frames| {
                bar.set_position(frames);
                bar.set_message(format!("{name} {:.1} fps", fps(frames)));
                total.set_position(done_before + frames);
            },
            cancel,
        };
        match restyle_clip(&job) {
            Ok(done) => {
                bar.finish_and_clear();
                done_before += done.frames;
                let audio = match (done.has_audio, done.audio_copied) {
                    (false, _) => "no audio",
                    (true, true) => "audio copied",
                    (true, false) => "audio re-encoded",
                };
                summary.push(format!(
                    "{} -> {}: {} frames {}x{}, {audio}, {:.1} fps",
                    input.display(),
                    output.display(),
                    done.frames,
                    info.width,
                    info.height,
                    fps(done.frames)
                ));
                if let Some(note) = &done.crop_note {
                    summary.push(format!("note: {}: {note}", output.display()));
                }
            }
            Err(err) => {
                bar.abandon();
                failed.push(format!("{}: {}", input.display(), super::explain(&err)));
            }
        }
    }
    total.finish_and_clear();
    for line in &summary {
        println!("{line}");
    }
    for line in &failed {
        eprintln!("failed: {line}");
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} clips failed (outputs of failed clips were not written)",
            failed.len(),
            args.inputs.len()
        );
    }
    Ok(())
}
