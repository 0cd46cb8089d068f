//! Real pipelines: `gst-launch-1.0` and `gst-inspect-1.0` loading the built plugin file
//! (`libgstganstyle.so`) through `GST_PLUGIN_PATH`, with a private registry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The folder cargo put `libgstganstyle.so` in (next to this test's `deps/` folder).
fn plugin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    assert!(
        dir.join("libgstganstyle.so").is_file(),
        "no libgstganstyle.so in {}",
        dir.display()
    );
    dir
}

fn gst_tool(tool: &str, registry: &Path, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .env("GST_PLUGIN_PATH", plugin_dir())
        .env("GST_REGISTRY", registry)
        // Hide a copy installed by scripts/setup.sh (~/.local/share/gstreamer-1.0/plugins):
        // these tests load this build's plugin.
        .env("XDG_DATA_HOME", registry.parent().unwrap())
        .output()
        .unwrap_or_else(|e| panic!("{tool} (scripts/install-deps.sh installs it): {e}"))
}

/// `gst-launch-1.0` with a pipeline description split on spaces.
fn launch(registry: &Path, pipeline: &str) -> Output {
    let mut args = vec!["-q"];
    args.extend(pipeline.split_whitespace());
    gst_tool("gst-launch-1.0", registry, &args)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn gst_inspect_documents_every_property() {
    let dir = tempfile::tempdir().unwrap();
    let out = gst_tool(
        "gst-inspect-1.0",
        &dir.path().join("registry.bin"),
        &["ganstyle"],
    );
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    for property in [
        "model",
        "style-image",
        "style",
        "style-mix",
        "strength",
        "preserve-color",
        "device",
        "max-size",
        "stability",
    ] {
        let line = shown
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{property} ")))
            .unwrap_or_else(|| panic!("no property {property} in\n{shown}"));
        let blurb = line.split_once(':').map(|(_, b)| b.trim()).unwrap_or("");
        assert!(blurb.len() > 20, "{property} has no real blurb: {line}");
    }
}

/// A plugin file carries its licence, origin and release date in its descriptor, which only a
/// loaded file (not a statically registered plugin) shows.
#[test]
fn gst_inspect_shows_the_licence_and_a_release_date() {
    let dir = tempfile::tempdir().unwrap();
    let out = gst_tool(
        "gst-inspect-1.0",
        &dir.path().join("registry.bin"),
        &["ganstyle"],
    );
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    let field = |name: &str| -> String {
        shown
            .lines()
            .find_map(|line| line.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name:?} in\n{shown}"))
            .trim()
            .to_owned()
    };
    assert_eq!(field("License"), "MIT/X11");
    assert_eq!(field("Origin URL"), "Unknown package origin");
    let date = field("Source release date");
    let fields: Vec<usize> = date.split('-').map(str::len).collect();
    assert_eq!(fields, [4, 2, 2], "{date}");
    assert!(
        date.chars().all(|c| c.is_ascii_digit() || c == '-'),
        "{date}"
    );
}

#[test]
fn videotestsrc_through_ganstyle_to_png_files_restyles_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.bin");
    let run = |name: &str, props: &str| {
        let pattern = dir.path().join(format!("{name}-%d.png"));
        let out = launch(
            &registry,
            &format!(
                "videotestsrc num-buffers=3 ! video/x-raw,width=97,height=55 ! videoconvert ! \
                 ganstyle device=cpu {props} ! videoconvert ! pngenc snapshot=false ! \
                 multifilesink location={}",
                pattern.display()
            ),
        );
        assert!(out.status.success(), "{}", text(&out));
        (0..3)
            .map(|i| {
                image::open(dir.path().join(format!("{name}-{i}.png")))
                    .unwrap()
                    .to_rgb8()
            })
            .collect::<Vec<_>>()
    };
    let styled = run("styled", "model=default strength=1");
    let plain = run("plain", "strength=0");
    for (s, p) in styled.iter().zip(&plain) {
        assert_eq!(s.dimensions(), (97, 55));
        assert_eq!(p.dimensions(), (97, 55));
        assert_ne!(s, p, "strength=1 output equals the unstyled frame");
    }
}

#[test]
fn a_clip_encodes_to_mp4_through_ganstyle() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("out.mp4");
    let out = launch(
        &dir.path().join("registry.bin"),
        &format!(
            "videotestsrc num-buffers=12 ! video/x-raw,width=64,height=48,framerate=25/1 ! \
             videoconvert ! ganstyle device=cpu strength=0.7 stability=0.5 ! videoconvert ! \
             x264enc ! mp4mux ! filesink location={}",
            mp4.display()
        ),
    );
    assert!(out.status.success(), "{}", text(&out));
    let frames = ganstyle::video::decode_frames(&mp4, 100).unwrap();
    assert_eq!(frames.len(), 12);
    assert_eq!(frames[0].dimensions(), (64, 48));
}

#[test]
fn a_bad_model_stops_gst_launch_with_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.gsm");
    std::fs::write(&corrupt, b"GANSTYLE but not much else").unwrap();
    for (model, reason) in [
        (dir.path().join("missing.gsm"), "not found"),
        (corrupt, "model file"),
    ] {
        let out = launch(
            &dir.path().join("registry.bin"),
            &format!(
                "videotestsrc num-buffers=3 ! videoconvert ! ganstyle model={} ! fakesink",
                model.display()
            ),
        );
        let shown = text(&out);
        assert!(
            !out.status.success(),
            "gst-launch succeeded with {}",
            model.display()
        );
        assert!(
            shown.contains(&model.display().to_string()) && shown.contains(reason),
            "{shown}"
        );
        assert!(!shown.contains("panicked"), "{shown}");
    }
}

#[test]
fn caps_the_element_cannot_take_fail_negotiation() {
    let dir = tempfile::tempdir().unwrap();
    let out = launch(
        &dir.path().join("registry.bin"),
        "videotestsrc num-buffers=2 ! video/x-raw,format=I420 ! ganstyle ! fakesink",
    );
    let shown = text(&out);
    assert!(!out.status.success());
    assert!(
        shown.contains("not-negotiated") || shown.contains("could not link"),
        "{shown}"
    );
}
