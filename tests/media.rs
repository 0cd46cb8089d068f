//! `ganstyle restyle` and `ganstyle live` end to end, on clips the tests make with GStreamer:
//! what comes out is checked with GStreamer's discoverer and by decoding it.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use ganstyle::media::restyle::probe;
use ganstyle::video::decode_frames;
use image::RgbImage;
use predicates::prelude::*;

fn ganstyle() -> Command {
    Command::cargo_bin("ganstyle").expect("binary built")
}

/// `ganstyle live` from the test pattern at 64×48, 30 fps.
const LIVE_TEST_SOURCE: [&str; 7] = [
    "live",
    "--source",
    "test",
    "--resolution",
    "64x48",
    "--fps",
    "30",
];

/// A 64×48 clip of `frames` frames at 15 fps, with a sine-tone AAC track when `audio`.
fn make_clip(path: &Path, frames: u32, audio: bool) {
    let mut pipeline = format!(
        "videotestsrc num-buffers={frames} pattern=ball ! video/x-raw,width=64,height=48,framerate=15/1 ! x264enc ! h264parse ! mp4mux name=mux ! filesink location={}",
        path.display()
    );
    if audio {
        pipeline.push_str(" audiotestsrc num-buffers=44 ! audio/x-raw,rate=44100 ! audioconvert ! avenc_aac ! mux.");
    }
    let status = std::process::Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split(' '))
        .stderr(Stdio::null())
        .status()
        .expect("gst-launch-1.0 runs");
    assert!(status.success(), "could not make the test clip");
}

/// The names in a folder.
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn mean_difference(a: &[RgbImage], b: &[RgbImage]) -> f64 {
    let (sum, n) = a.iter().zip(b).fold((0u64, 0u64), |(s, n), (x, y)| {
        let d: u64 = x
            .as_raw()
            .iter()
            .zip(y.as_raw())
            .map(|(p, q)| u64::from(p.abs_diff(*q)))
            .sum();
        (s + d, n + x.as_raw().len() as u64)
    });
    sum as f64 / n as f64
}

#[test]
fn restyle_keeps_frames_duration_size_and_audio_and_changes_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.mp4");
    let output = dir.path().join("out.mp4");
    make_clip(&input, 15, true);
    ganstyle()
        .args([
            "restyle",
            input.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ])
        .args(["--device", "cpu", "--strength", "0.9"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("15 frames").and(predicate::str::contains("audio copied")),
        );

    let (a, b) = (probe(&input).unwrap(), probe(&output).unwrap());
    assert_eq!((b.width, b.height), (a.width, a.height));
    assert!(b.has_audio, "the audio track was lost");
    assert_eq!(b.fps, a.fps);
    let (da, db) = (a.duration.unwrap(), b.duration.unwrap());
    let diff = da.nseconds().abs_diff(db.nseconds());
    assert!(diff < 70_000_000, "duration {da} became {db}");
    let (fa, fb) = (
        decode_frames(&input, 100).unwrap(),
        decode_frames(&output, 100).unwrap(),
    );
    assert_eq!(fb.len(), fa.len(), "frame count changed");
    let changed = mean_difference(&fa, &fb);
    assert!(changed > 10.0, "pixels barely changed: {changed}");
    // No temporary file is left beside the output.
    let names = entries(dir.path());
    assert_eq!(names.len(), 2, "{names:?}");

    // An existing output is not replaced without --force.
    let before = std::fs::read(&output).unwrap();
    ganstyle()
        .args([
            "restyle",
            input.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
            "--device",
            "cpu",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read(&output).unwrap(), before);
}

#[test]
fn a_batch_with_corrupt_missing_and_audio_only_clips_restyles_the_rest_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.mp4");
    make_clip(&good, 6, false);
    let corrupt = dir.path().join("corrupt.mp4");
    std::fs::write(
        &corrupt,
        b"this is not a video at all, just some bytes".repeat(50),
    )
    .unwrap();
    let missing = dir.path().join("missing.mp4");
    let audio_only = dir.path().join("tone.m4a");
    let status = std::process::Command::new("gst-launch-1.0")
        .arg("-q")
        .args(
            "audiotestsrc num-buffers=20 ! audioconvert ! avenc_aac ! mp4mux ! filesink".split(' '),
        )
        .arg(format!("location={}", audio_only.display()))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let out = dir.path().join("styled");
    ganstyle()
        .args([
            "restyle",
            corrupt.to_str().unwrap(),
            good.to_str().unwrap(),
            missing.to_str().unwrap(),
            audio_only.to_str().unwrap(),
        ])
        .args(["--out-dir", out.to_str().unwrap(), "--device", "cpu"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("corrupt.mp4")
                .and(predicate::str::contains("not a clip GStreamer can play"))
                .and(predicate::str::contains("missing.mp4: not found"))
                .and(predicate::str::contains("tone.m4a: no video stream"))
                .and(predicate::str::contains("3 of 4 clips failed")),
        );
    assert_eq!(decode_frames(&out.join("good.mp4"), 100).unwrap().len(), 6);
    assert!(!out.join("corrupt.mp4").exists());
    assert_eq!(entries(&out).len(), 1, "a partial file was left");
}

#[test]
fn live_test_source_writes_a_playable_file_of_n_frames() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("live.mp4");
    ganstyle()
        .args(LIVE_TEST_SOURCE)
        .args([
            "--output",
            out.to_str().unwrap(),
            "--frames",
            "20",
            "--device",
            "cpu",
        ])
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .stdout(predicate::str::contains("20 frames"));
    let info = probe(&out).unwrap();
    assert_eq!((info.width, info.height), (64, 48));
    assert_eq!(decode_frames(&out, 100).unwrap().len(), 20);
}

#[test]
fn sigint_during_a_live_recording_leaves_a_playable_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("take.mkv");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ganstyle"))
        .args(LIVE_TEST_SOURCE)
        .args(["--output", out.to_str().unwrap(), "--device", "cpu"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until frames are being written (the recording grows under a temporary name).
    let started = Instant::now();
    let growing = || {
        std::fs::read_dir(dir.path()).unwrap().any(|e| {
            e.unwrap()
                .metadata()
                .map(|m| m.len() > 2000)
                .unwrap_or(false)
        })
    };
    while !growing() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing was recorded"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let frames = decode_frames(&out, 1000).unwrap();
    assert!(!frames.is_empty(), "the recording has no frames");
    assert_eq!(entries(dir.path()).len(), 1, "a temporary file was left");
}

#[test]
fn live_without_a_camera_says_what_was_found_and_how_to_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.mp4");
    ganstyle()
        .args([
            "live",
            "--camera",
            "7",
            "--output",
            out.to_str().unwrap(),
            "--device",
            "cpu",
        ])
        .timeout(Duration::from_secs(60))
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("camera 7")
                .and(predicate::str::contains("--source test"))
                .and(predicate::str::contains("ganstyle devices")),
        );
    assert!(!out.exists());
    assert_eq!(entries(dir.path()).len(), 0, "a file was left");
}

#[test]
fn bad_live_flags_are_named() {
    ganstyle()
        .args(["live", "--source", "test", "--resolution", "64by48"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("WIDTHxHEIGHT"));
    ganstyle()
        .args(["live", "--source", "test", "--output", "out.avi"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(".avi"));
    ganstyle()
        .args(["live", "--source", "test"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "no display for the preview window",
        ));
    ganstyle()
        .args(["live", "--source", "test", "--output", "v4l2:/dev/video99"])
        .timeout(Duration::from_secs(60))
        .assert()
        .failure()
        .stderr(predicate::str::contains("v4l2loopback"));
}
