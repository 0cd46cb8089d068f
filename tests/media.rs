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

/// A clip made by FFmpeg as phones and editors write them: H.264 High yuv420p video and
/// AAC-LC audio over its whole length, interleaved. `size` is WIDTHxHEIGHT; the container
/// comes from `path`'s extension.
fn ffmpeg_clip(path: &Path, size: &str, rate: u32, seconds: u32) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate={rate}"))
        .args(["-f", "lavfi", "-i", "sine=frequency=440", "-t"])
        .arg(seconds.to_string())
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"])
        .arg(path)
        .status()
        .expect("ffmpeg runs (Debian package ffmpeg)");
    assert!(status.success(), "ffmpeg could not make {}", path.display());
}

/// What ffprobe (FFmpeg's decoder, not GStreamer's) reads in a file.
#[derive(Debug)]
struct Probed {
    video_frames: u64,
    pix_fmt: String,
    profile: String,
    width: u64,
    height: u64,
    /// Seconds of audio, when there is an audio stream.
    audio_seconds: Option<f64>,
}

fn ffprobe(path: &Path) -> Probed {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-show_entries"])
        .arg("stream=codec_type,profile,pix_fmt,width,height,nb_read_frames,duration:format=duration")
        .args(["-of", "json"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe failed on {}", path.display());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = json["streams"].as_array().unwrap();
    let of = |kind: &str| streams.iter().find(|s| s["codec_type"] == kind);
    let video = of("video").expect("a video stream");
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let seconds = |v: &serde_json::Value| {
        text(v, "duration")
            .parse::<f64>()
            .ok()
            .or_else(|| text(&json["format"], "duration").parse().ok())
    };
    Probed {
        video_frames: text(video, "nb_read_frames").parse().unwrap(),
        pix_fmt: text(video, "pix_fmt"),
        profile: text(video, "profile"),
        width: video["width"].as_u64().unwrap(),
        height: video["height"].as_u64().unwrap(),
        audio_seconds: of("audio").map(|a| seconds(a).expect("an audio duration")),
    }
}

/// Wait (at most two minutes) until a file in `dir` is larger than `bytes`.
fn wait_for_a_file_over(dir: &Path, bytes: u64) {
    let started = Instant::now();
    let grown = || {
        dir.is_dir()
            && std::fs::read_dir(dir)
                .unwrap()
                .any(|e| e.unwrap().metadata().is_ok_and(|m| m.len() > bytes))
    };
    while !grown() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "nothing was written in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Send SIGINT (Ctrl-C) to `child` `times` times, back to back.
fn interrupt(child: &std::process::Child, times: usize) {
    let pid = child.id().to_string();
    for _ in 0..times {
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }
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
fn clips_from_ffmpeg_with_sound_over_their_whole_length_restyle_with_their_audio() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("phone.mp4");
    ffmpeg_clip(&mp4, "176x144", 12, 2);
    let mkv = dir.path().join("phone.mkv");
    ffmpeg_clip(&mkv, "176x144", 12, 2);
    let source = ffprobe(&mp4);
    assert_eq!(source.video_frames, 24);
    // Copied audio (mp4 -> mp4, mkv -> mkv, mkv -> mov) and re-encoded audio (-> webm).
    for (input, name, audio) in [
        (&mp4, "out.mp4", "audio copied"),
        (&mkv, "out.mkv", "audio copied"),
        (&mkv, "out.mov", "audio copied"),
        (&mp4, "out.webm", "audio re-encoded"),
    ] {
        let output = dir.path().join(name);
        ganstyle()
            .args(["restyle", input.to_str().unwrap(), "-o"])
            .arg(&output)
            .args(["--device", "cpu"])
            // It used to wait forever here: fail instead of hanging the suite.
            .timeout(Duration::from_secs(180))
            .assert()
            .success()
            .stdout(predicate::str::contains("24 frames").and(predicate::str::contains(audio)));
        let out = ffprobe(&output);
        assert_eq!(out.video_frames, 24, "{name}: {out:?}");
        assert_eq!((out.width, out.height), (176, 144), "{name}");
        assert_eq!(out.pix_fmt, "yuv420p", "{name}: {out:?}");
        if name != "out.webm" {
            assert_eq!(out.profile, "High", "{name}: {out:?}");
        }
        let seconds = out.audio_seconds.expect("the audio track was lost");
        assert!((seconds - 2.0).abs() < 0.1, "{name}: {seconds} s of audio");
    }
}

#[test]
fn odd_frame_sizes_are_written_as_4_2_0_one_pixel_smaller_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("odd.mkv");
    // yuv444p: FFmpeg's 4:2:0 also needs even sizes.
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=66x50:rate=10",
        ])
        .args(["-vf", "format=yuv444p,crop=65:49:0:0"])
        .args(["-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv444p"])
        .arg(&input)
        .status()
        .unwrap();
    assert!(status.success());
    let output = dir.path().join("odd.mp4");
    ganstyle()
        .args(["restyle", input.to_str().unwrap(), "-o"])
        .arg(&output)
        .args(["--device", "cpu"])
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "65x49 has an odd side; written as 64x48 (its last column and row dropped)",
        ));
    let out = ffprobe(&output);
    assert_eq!((out.width, out.height, out.video_frames), (64, 48, 10));
    assert_eq!(
        (out.pix_fmt.as_str(), out.profile.as_str()),
        ("yuv420p", "High")
    );
}

#[test]
fn live_plays_an_ffmpeg_clip_with_sound_as_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("phone.mp4");
    ffmpeg_clip(&input, "176x144", 12, 2);
    let output = dir.path().join("take.mp4");
    ganstyle()
        .args(["live", "--source", input.to_str().unwrap(), "--output"])
        .arg(&output)
        .args(["--frames", "12", "--device", "cpu"])
        .timeout(Duration::from_secs(120))
        .assert()
        .success()
        .stdout(predicate::str::contains("12 frames"));
    let out = ffprobe(&output);
    assert_eq!((out.video_frames, out.width, out.height), (12, 176, 144));
    // Live encoding is tuned for latency: Constrained Baseline, which every decoder plays.
    assert_eq!(out.pix_fmt, "yuv420p", "{out:?}");
    assert!(!out.profile.contains("4:4:4"), "{out:?}");
}

#[test]
fn a_second_ctrl_c_during_restyle_quits_at_once_and_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("long.mp4");
    ffmpeg_clip(&input, "640x480", 25, 20);
    let out_dir = dir.path().join("styled");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ganstyle"))
        .args(["restyle", input.to_str().unwrap(), "--out-dir"])
        .arg(&out_dir)
        .args(["--device", "cpu"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the styled clip grows under its temporary name.
    wait_for_a_file_over(&out_dir, 20_000);
    interrupt(&child, 2);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 130: the quick exit of the second Ctrl-C; 1: the first was handled before it came.
    assert!(
        matches!(output.status.code(), Some(130 | 1)),
        "{:?}: {stderr}",
        output.status
    );
    assert_eq!(entries(&out_dir), Vec::<String>::new(), "{stderr}");
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
    wait_for_a_file_over(dir.path(), 2000);
    interrupt(&child, 1);
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

#[test]
fn live_counts_frames_into_the_filter_so_only_real_drops_are_dropped() {
    use ganstyle::media::live::{Live, Output, Source};
    use gstreamer as gst;
    use gstreamer::prelude::*;
    use std::sync::atomic::Ordering;

    ganstyle::media::init().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = Source::Test {
        width: 64,
        height: 48,
        fps: 30,
    };
    let outputs = [Output::File(dir.path().join("take.mkv"))];
    let live = Live::build(&source, &outputs, false, Some(15), &|element| {
        element.set_property_from_str("device", "cpu");
    })
    .unwrap();
    let bus = live.pipeline.bus().unwrap();
    live.pipeline.set_state(gst::State::Playing).unwrap();
    let started = Instant::now();
    while live.counters.styled.load(Ordering::Relaxed) < 15 {
        assert!(started.elapsed() < Duration::from_secs(60), "too slow");
        std::thread::sleep(Duration::from_millis(20));
    }
    live.request_stop();
    let eos = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(60),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    assert!(matches!(eos.unwrap().view(), gst::MessageView::Eos(_)));
    let c = &live.counters;
    let (captured, entered, styled) = (
        c.captured.load(Ordering::Relaxed),
        c.entered.load(Ordering::Relaxed),
        c.styled.load(Ordering::Relaxed),
    );
    assert!(entered >= styled, "{entered} entered, {styled} styled");
    assert!(
        captured >= entered,
        "{captured} captured, {entered} entered"
    );
    // A styled frame was never dropped by the queue.
    assert!(
        live.queue_dropped() + styled <= captured,
        "{} dropped of {captured} captured, {styled} styled",
        live.queue_dropped()
    );
    live.finish(true).unwrap();
}
