//! The plugin's release date for GStreamer (`gst-inspect-1.0 ganstyle` shows it): the date of
//! the commit being built, so a build of the same commit always says the same; else the date
//! `SOURCE_DATE_EPOCH` gives (reproducible builds); else today's.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let git = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.git");
    for watched in ["HEAD", "refs/heads", "packed-refs"] {
        let path = git.join(watched);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let date = commit_date()
        .or_else(|| {
            std::env::var("SOURCE_DATE_EPOCH")
                .ok()?
                .parse()
                .ok()
                .map(date_of)
        })
        .unwrap_or_else(|| {
            let now = SystemTime::now().duration_since(UNIX_EPOCH);
            date_of(now.map_or(0, |d| d.as_secs()))
        });
    println!("cargo:rustc-env=GANSTYLE_RELEASE_DATE={date}");
}

/// `YYYY-MM-DD` of the commit checked out, when this is a git checkout with git installed.
fn commit_date() -> Option<String> {
    let out = Command::new("git")
        .args(["log", "-1", "--format=%cs"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let date = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && date.len() == 10).then_some(date)
}

/// `YYYY-MM-DD` (UTC) of a Unix time, by the civil-from-days algorithm.
fn date_of(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
