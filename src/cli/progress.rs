//! The one progress-bar factory (indicatif), used by training, restyling and evaluation.
//! Bars are hidden when standard error is not a terminal, so logs and CI stay clean.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` steps with ETA and a free-form message (running losses, fps, ...).
pub fn bar(len: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let template = format!(
        "{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {unit} (ETA {{eta}}) {{msg}}"
    );
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// A line on standard error above `bar`, also when the bar is hidden (where indicatif's
/// `println` prints nothing: in logs the line would be lost).
pub fn note(bar: &ProgressBar, line: String) {
    bar.suspend(|| eprintln!("{line}"));
}

/// A stack of bars drawn together (one per file and a total); hidden when standard error is
/// not a terminal.
pub fn multi() -> MultiProgress {
    if std::io::stderr().is_terminal() {
        MultiProgress::new()
    } else {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    }
}
