//! The `ganstyle` element under `gst_check::Harness`: every format and odd sizes, strength 0 as a
//! bit-exact passthrough, the same output as the library (which `tests/cli.rs` holds
//! `ganstyle image` to), property changes while PLAYING, EOS, flush, QoS drops, latency and the
//! stats message.

use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Once};
use std::time::{Duration, Instant};

use burn::tensor::Device;
use ganstyle::frame::packed::{FrameGeometry, PixelLayout, unpack};
use ganstyle::model::{ModelSource, StyleChoice};
use ganstyle::procedural::StylePattern;
use ganstyle::stylize::{StyleOptions, Stylizer};
use ganstyle::train::{StyleSource, TrainConfig, Trainer};
use gst::prelude::*;
use gst_check::Harness;
use gstreamer as gst;
use gstreamer_check as gst_check;
use gstreamer_video as gst_video;
use image::RgbImage;

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().unwrap();
        gstganstyle::plugin_register_static().expect("register the ganstyle plugin");
        // The element under test is this build's, not a copy installed in a plugin folder.
        let factory = gst::ElementFactory::find("ganstyle").expect("ganstyle registered");
        assert_eq!(
            factory.element_type(),
            ganstyle::element::Ganstyle::static_type(),
            "another ganstyle plugin shadows this build's element"
        );
    });
}

/// A two-style model trained for a few steps (once per test binary).
static TWO_STYLES: LazyLock<(tempfile::TempDir, PathBuf)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("duo.gsm");
    let styles = [StylePattern::Mosaic, StylePattern::Swirls].map(StyleSource::Pattern);
    let mut config = TrainConfig::new(styles.to_vec(), None, out.clone());
    config.steps = 3;
    config.size = 32;
    config.batch = 1;
    config.style_size = 64;
    config.sample_every = 100;
    config.checkpoint_every = 100;
    let mut trainer = Trainer::new(config, &Device::flex()).expect("a two-style trainer");
    while !trainer.finished() {
        trainer.step().expect("a training step");
    }
    trainer.model().save(&out).expect("save the model");
    (dir, out)
});

/// An arbitrary-style model (the importer's test networks) and two style pictures, once.
static ARBITRARY: LazyLock<(tempfile::TempDir, PathBuf, [PathBuf; 2])> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/magenta");
    let model = ganstyle::import::magenta_arbitrary(
        &data.join("tiny_predict.onnx"),
        &data.join("arbitrary_transform.onnx"),
        "test".into(),
        &Device::flex(),
    )
    .expect("import the test networks");
    let path = dir.path().join("arbitrary.gsm");
    model.save(&path).unwrap();
    let pictures = [StylePattern::Mosaic, StylePattern::Swirls].map(|p| {
        let file = dir.path().join(format!("{}.png", p.name()));
        p.render(64, 64, 1).save(&file).unwrap();
        file
    });
    (dir, path, pictures)
});

fn layout(format: gst_video::VideoFormat) -> PixelLayout {
    ganstyle::element::pixel_layout(format).expect("a ganstyle format")
}

/// A harness around a `ganstyle` element (CPU device) with `props`, negotiated to `format`.
fn harness(
    format: gst_video::VideoFormat,
    w: u32,
    h: u32,
    props: &[(&str, &str)],
) -> (Harness, gst_video::VideoInfo) {
    init();
    // Properties go on before the harness starts the element (`device` applies at start).
    let element = gst::ElementFactory::make("ganstyle").build().unwrap();
    element.set_property_from_str("device", "cpu");
    for (name, value) in props {
        element.set_property_from_str(name, value);
    }
    let mut h_ = Harness::with_element(&element, Some("sink"), Some("src"));
    let info = gst_video::VideoInfo::builder(format, w, h)
        .fps(gst::Fraction::new(30, 1))
        .build()
        .unwrap();
    let caps = info.to_caps().unwrap();
    h_.set_caps(caps.clone(), caps);
    (h_, info)
}

/// A frame of `info`'s format with a deterministic picture, timestamp `n` frames in.
fn frame(info: &gst_video::VideoInfo, n: u64) -> gst::Buffer {
    let mut data = vec![0u8; info.size()];
    for (i, b) in data.iter_mut().enumerate() {
        *b = ((i as u64 * 37 + n * 11 + (i as u64 / 97) * 5) % 251) as u8;
    }
    let mut buffer = gst::Buffer::from_mut_slice(data);
    {
        let b = buffer.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(33 * n));
        b.set_duration(gst::ClockTime::from_mseconds(33));
        b.set_offset(n);
    }
    buffer
}

fn geometry(info: &gst_video::VideoInfo) -> FrameGeometry {
    FrameGeometry {
        width: info.width(),
        height: info.height(),
        stride: info.stride()[0] as usize,
        layout: layout(info.format()),
    }
}

fn picture(buffer: &gst::Buffer, info: &gst_video::VideoInfo) -> RgbImage {
    unpack(&buffer.map_readable().unwrap(), &geometry(info)).unwrap()
}

fn stylizer(model: Option<&str>, style: Option<&str>, options: StyleOptions) -> Stylizer {
    let source = ModelSource::resolve(model).unwrap();
    let choice = StyleChoice::from_options(style, None).unwrap();
    Stylizer::new(&source, Device::flex(), &choice, options).unwrap()
}

fn default_stylizer() -> Stylizer {
    stylizer(None, None, StyleOptions::default())
}

#[test]
fn every_format_and_odd_sizes_match_the_library_and_keep_alpha_and_timestamps() {
    let mut reference = default_stylizer();
    let formats = [
        gst_video::VideoFormat::Rgba,
        gst_video::VideoFormat::Bgra,
        gst_video::VideoFormat::Rgbx,
        gst_video::VideoFormat::Bgrx,
        gst_video::VideoFormat::Rgb,
        gst_video::VideoFormat::Bgr,
    ];
    for format in formats {
        for (w, h) in [(1, 1), (3, 5), (641, 479)] {
            let (mut h_, info) = harness(format, w, h, &[]);
            let input = frame(&info, 3);
            let out = h_.push_and_pull(input.clone()).unwrap();
            let what = format!("{format:?} {w}x{h}");
            assert_eq!(out.size(), input.size(), "{what}");
            assert_eq!(
                (out.pts(), out.duration(), out.offset()),
                (input.pts(), input.duration(), input.offset()),
                "{what}"
            );
            let expected = reference.stylize(&picture(&input, &info)).unwrap();
            assert_eq!(
                picture(&out, &info),
                expected,
                "{what}: element and library differ"
            );
            if w > 1 {
                assert_ne!(
                    picture(&out, &info),
                    picture(&input, &info),
                    "{what}: not restyled"
                );
            }
            if layout(format).bytes == 4 {
                let (i, o) = (input.map_readable().unwrap(), out.map_readable().unwrap());
                let alpha = |m: &[u8]| m.chunks(4).map(|p| p[3]).collect::<Vec<_>>();
                assert_eq!(alpha(&o), alpha(&i), "{what}: alpha/padding byte changed");
            }
        }
    }
}

#[test]
fn full_hd_frames_are_restyled_with_max_size_scaling() {
    let (mut h_, info) = harness(
        gst_video::VideoFormat::Rgbx,
        1920,
        1080,
        &[("max-size", "480")],
    );
    let input = frame(&info, 0);
    let out = h_.push_and_pull(input.clone()).unwrap();
    let options = StyleOptions {
        max_size: 480,
        ..StyleOptions::default()
    };
    let expected = stylizer(None, None, options)
        .stylize(&picture(&input, &info))
        .unwrap();
    assert_eq!(picture(&out, &info), expected);
}

#[test]
fn strength_zero_is_a_bit_identical_passthrough_with_metadata() {
    let (mut h_, info) = harness(gst_video::VideoFormat::Rgb, 33, 17, &[("strength", "0")]);
    let mut input = frame(&info, 5);
    let ts_caps = gst::Caps::builder("timestamp/x-test").build();
    gst::meta::ReferenceTimestampMeta::add(
        input.make_mut(),
        &ts_caps,
        gst::ClockTime::from_seconds(7),
        None,
    );
    let out = h_.push_and_pull(input.clone()).unwrap();
    assert_eq!(*out.map_readable().unwrap(), *input.map_readable().unwrap());
    assert_eq!((out.pts(), out.duration()), (input.pts(), input.duration()));
    let meta = out
        .meta::<gst::meta::ReferenceTimestampMeta>()
        .expect("meta kept");
    assert_eq!(meta.timestamp(), gst::ClockTime::from_seconds(7));
}

#[test]
fn strength_and_model_and_style_changes_while_playing_take_effect() {
    let (mut h_, info) = harness(gst_video::VideoFormat::Rgba, 40, 24, &[]);
    let element = h_.element().unwrap();
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    let input = frame(&info, 0);
    let picture_in = picture(&input, &info);

    let full = picture(&h_.push_and_pull(input.clone()).unwrap(), &info);
    assert_eq!(full, default_stylizer().stylize(&picture_in).unwrap());

    element.set_property("strength", 0.5f64);
    let half = picture(&h_.push_and_pull(input.clone()).unwrap(), &info);
    let options = StyleOptions {
        strength: 0.5,
        ..StyleOptions::default()
    };
    assert_eq!(
        half,
        stylizer(None, None, options).stylize(&picture_in).unwrap()
    );
    element.set_property("strength", 1.0f64);

    // A new model loads in the background; frames keep flowing with the old one meanwhile.
    let duo = TWO_STYLES.1.to_str().unwrap();
    let duo_first = stylizer(Some(duo), None, StyleOptions::default())
        .stylize(&picture_in)
        .unwrap();
    assert_ne!(duo_first, full, "the test needs two models that differ");
    element.set_property("model", duo);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let out = picture(&h_.push_and_pull(input.clone()).unwrap(), &info);
        if out == duo_first {
            break;
        }
        assert_eq!(
            out, full,
            "between models a frame is the old model's output"
        );
        assert!(
            Instant::now() < deadline,
            "the new model was never switched to"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    element.set_property("style", "swirls");
    let second = picture(&h_.push_and_pull(input.clone()).unwrap(), &info);
    assert_eq!(
        second,
        stylizer(Some(duo), Some("swirls"), StyleOptions::default())
            .stylize(&picture_in)
            .unwrap()
    );
    assert_ne!(second, duo_first);

    // A style the model does not have: a warning naming it, and the stream goes on unchanged.
    element.set_property("style", "cubism");
    let same = picture(&h_.push_and_pull(input.clone()).unwrap(), &info);
    assert_eq!(same, second);
    let warning = bus
        .iter_filtered(&[gst::MessageType::Warning])
        .find_map(|m| match m.view() {
            gst::MessageView::Warning(w) => Some(w.error().to_string()),
            _ => None,
        })
        .expect("a warning on the bus");
    assert!(warning.contains("cubism"), "{warning}");

    // A model that fails to load while playing: a warning, and the old model stays.
    element.set_property("model", "/no/such/model.gsm");
    let deadline = Instant::now() + Duration::from_secs(60);
    let warning = loop {
        let out = picture(&h_.push_and_pull(input.clone()).unwrap(), &info);
        assert_eq!(out, second, "the old model keeps running");
        if let Some(m) = bus.pop_filtered(&[gst::MessageType::Warning])
            && let gst::MessageView::Warning(w) = m.view()
        {
            break w.error().to_string();
        }
        assert!(Instant::now() < deadline, "no warning for the bad model");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(warning.contains("/no/such/model.gsm"), "{warning}");
}

#[test]
fn style_image_changes_while_playing_switch_between_frames_and_bad_pictures_warn() {
    let (_, model, [mosaic, swirls]) = &*ARBITRARY;
    let (model, mosaic, swirls) = (
        model.to_str().unwrap(),
        mosaic.to_str().unwrap(),
        swirls.to_str().unwrap(),
    );
    let (mut h_, info) = harness(
        gst_video::VideoFormat::Rgba,
        40,
        24,
        &[("model", model), ("style-image", mosaic)],
    );
    let element = h_.element().unwrap();
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    let input = frame(&info, 0);
    let picture_in = picture(&input, &info);
    let with = |picture: &str| {
        let source = ModelSource::style_pictures(Some(model), vec![picture.into()]).unwrap();
        Stylizer::new(
            &source,
            Device::flex(),
            &StyleChoice::Default,
            StyleOptions::default(),
        )
        .unwrap()
        .stylize(&picture_in)
        .unwrap()
    };
    let (first, second) = (with(mosaic), with(swirls));
    assert_ne!(first, second, "the test needs two pictures that differ");
    assert_eq!(
        picture(&h_.push_and_pull(input.clone()).unwrap(), &info),
        first
    );

    element.set_property("style-image", swirls);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let out = picture(&h_.push_and_pull(input.clone()).unwrap(), &info);
        if out == second {
            break;
        }
        assert_eq!(
            out, first,
            "until the new style is ready, frames keep the old one"
        );
        assert!(
            Instant::now() < deadline,
            "the new style was never switched to"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // A picture that cannot be used: a warning naming it, and the style stays.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.jpg");
    std::fs::write(&bad, "not a picture").unwrap();
    element.set_property("style-image", bad.to_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let warning = loop {
        let out = picture(&h_.push_and_pull(input.clone()).unwrap(), &info);
        assert_eq!(out, second, "the previous style keeps running");
        if let Some(m) = bus.pop_filtered(&[gst::MessageType::Warning])
            && let gst::MessageView::Warning(w) = m.view()
        {
            break w.error().to_string();
        }
        assert!(Instant::now() < deadline, "no warning for the bad picture");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(warning.contains("notes.jpg"), "{warning}");
}

#[test]
fn strength_with_a_style_image_moves_toward_the_first_frames_style_until_a_flush() {
    let (_, model, [mosaic, _]) = &*ARBITRARY;
    let (model, mosaic) = (model.to_str().unwrap(), mosaic.to_str().unwrap());
    let (mut h_, info) = harness(
        gst_video::VideoFormat::Bgrx,
        40,
        24,
        &[
            ("model", model),
            ("style-image", mosaic),
            ("strength", "0.5"),
        ],
    );
    let (first, second) = (frame(&info, 0), frame(&info, 7));
    let (first_in, second_in) = (picture(&first, &info), picture(&second, &info));
    let source = ModelSource::style_pictures(Some(model), vec![mosaic.into()]).unwrap();
    let half = StyleOptions {
        strength: 0.5,
        ..StyleOptions::default()
    };
    let mut library =
        Stylizer::new(&source, Device::flex(), &StyleChoice::Default, half.clone()).unwrap();
    // The library's still: the picture's style moved halfway toward the still's own.
    let first_alone = library.stylize(&first_in).unwrap();
    let second_alone = library.stylize(&second_in).unwrap();
    // The plain blend of the full style with the input.
    let baked = source.load(&Device::flex()).unwrap();
    let mut blend =
        Stylizer::from_model(baked, Device::flex(), &StyleChoice::Default, half).unwrap();
    let (first_blended, second_blended) = (
        blend.stylize(&first_in).unwrap(),
        blend.stylize(&second_in).unwrap(),
    );
    assert_ne!(first_blended, first_alone);
    // The streaming thread does not wait for the frame's style: the frame that starts its
    // encoder is blended, and a later one moves toward that style once it is there.
    let until_moved =
        |h_: &mut Harness, frame: &gst::Buffer, blended: &RgbImage, alone: &RgbImage| {
            assert_eq!(
                &picture(&h_.push_and_pull(frame.clone()).unwrap(), &info),
                blended
            );
            let started = Instant::now();
            while &picture(&h_.push_and_pull(frame.clone()).unwrap(), &info) != alone {
                assert!(
                    started.elapsed().as_secs() < 60,
                    "the frame's style never took over"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        };
    until_moved(&mut h_, &first, &first_blended, &first_alone);
    // The stream keeps the first frame's content style...
    let second_out = picture(&h_.push_and_pull(second.clone()).unwrap(), &info);
    assert_ne!(second_out, second_alone);
    assert_ne!(second_out, second_blended);
    // ...until a flush (a seek), after which the next frame's own is taken.
    let flush = |h_: &mut Harness| {
        assert!(h_.push_event(gst::event::FlushStart::new()));
        assert!(h_.push_event(gst::event::FlushStop::new(true)));
        let segment = gst::FormattedSegment::<gst::ClockTime>::new();
        assert!(h_.push_event(gst::event::Segment::new(&segment)));
    };
    flush(&mut h_);
    until_moved(&mut h_, &second, &second_blended, &second_alone);
    // Upstream not live (a file): the frame waits for its own style, so that every run
    // gives the same output.
    h_.set_live(false);
    flush(&mut h_);
    assert_eq!(
        picture(&h_.push_and_pull(first).unwrap(), &info),
        first_alone
    );
}

#[test]
fn eos_and_flush_pass_through_and_streaming_resumes_after_a_flush() {
    let (mut h_, info) = harness(gst_video::VideoFormat::Bgrx, 16, 16, &[("stability", "1")]);
    let first = picture(&h_.push_and_pull(frame(&info, 0)).unwrap(), &info);
    assert!(h_.push_event(gst::event::FlushStart::new()));
    assert!(h_.push_event(gst::event::FlushStop::new(true)));
    assert!(
        h_.push_event(gst::event::Segment::new(&gst::FormattedSegment::<
            gst::ClockTime,
        >::new()))
    );
    // A frame barely different from the first (noise level): without the flush, stability
    // would hold the first output; after a flush the previous frame is no reference.
    let mut nudged = frame(&info, 0);
    for b in nudged.make_mut().map_writable().unwrap().iter_mut() {
        *b = b.saturating_add(1);
    }
    let fresh = default_stylizer()
        .stylize(&picture(&nudged, &info))
        .unwrap();
    assert_ne!(fresh, first, "the test needs a frame whose output differs");
    let again = picture(&h_.push_and_pull(nudged).unwrap(), &info);
    assert_eq!(again, fresh);
    assert!(h_.push_event(gst::event::Eos::new()));
    let mut saw_eos = false;
    while let Some(event) = h_.try_pull_event() {
        saw_eos |= event.type_() == gst::EventType::Eos;
    }
    assert!(saw_eos, "EOS went downstream");
}

#[test]
fn stability_holds_static_pixels_and_follows_moving_ones() {
    let (mut h_, info) = harness(gst_video::VideoFormat::Rgb, 32, 16, &[("stability", "1")]);
    let input = frame(&info, 0);
    let first = picture(&h_.push_and_pull(input.clone()).unwrap(), &info);
    // Same picture again, except the left half changes a lot.
    let mut moved = input.copy();
    {
        let g = geometry(&info);
        let mut map = moved.get_mut().unwrap().map_writable().unwrap();
        for y in 0..16 {
            for x in 0..16 {
                for c in 0..3 {
                    let i = y * g.stride + x * 3 + c;
                    map[i] = map[i].wrapping_add(128);
                }
            }
        }
    }
    let out = picture(&h_.push_and_pull(moved.clone()).unwrap(), &info);
    let fresh = default_stylizer().stylize(&picture(&moved, &info)).unwrap();
    for y in 0..16 {
        for x in 0..32 {
            let expected = if x < 16 {
                fresh.get_pixel(x, y)
            } else {
                first.get_pixel(x, y)
            };
            // The right half's input did not change, but its network output may (receptive
            // field): stability keeps the previous output there.
            assert_eq!(out.get_pixel(x, y), expected, "pixel {x},{y}");
        }
    }
}

/// The last `ganstyle-stats` report among `messages`.
fn last_stats(messages: &[gst::Message]) -> gst::Structure {
    messages
        .iter()
        .rev()
        .find_map(|m| {
            m.structure()
                .filter(|s| s.name() == "ganstyle-stats")
                .map(|s| s.to_owned())
        })
        .expect("a ganstyle-stats message")
}

#[test]
fn late_frames_are_dropped_by_qos_before_the_network_runs_and_counted() {
    let (mut h_, info) = harness(gst_video::VideoFormat::Rgba, 8, 8, &[]);
    let bus = gst::Bus::new();
    h_.element().unwrap().set_bus(Some(&bus));
    h_.push_and_pull(frame(&info, 0)).unwrap();
    // Downstream says: everything before 10 s running time is too late.
    let qos = gst::event::Qos::new(
        gst::QOSType::Underflow,
        1.0,
        9_000_000_000,
        gst::ClockTime::from_seconds(1),
    );
    assert!(h_.push_upstream_event(qos));
    for n in 1..=5 {
        h_.push(frame(&info, n)).unwrap();
        assert!(h_.try_pull().is_none(), "late frame {n} was not dropped");
    }
    // A report covers drops once a second has passed.
    std::thread::sleep(Duration::from_millis(1100));
    let mut on_time = frame(&info, 0);
    on_time.make_mut().set_pts(gst::ClockTime::from_seconds(11));
    h_.push(on_time).unwrap();
    assert!(h_.try_pull().is_some(), "an on-time frame was dropped");

    let messages: Vec<gst::Message> = bus.iter().collect();
    let stats = last_stats(&messages);
    assert_eq!(stats.get::<u64>("total-dropped").unwrap(), 5, "{stats}");
    assert_eq!(stats.get::<u64>("total-frames").unwrap(), 2, "{stats}");
    // The same count as BaseTransform's own QoS messages.
    let qos = messages
        .iter()
        .rfind(|m| m.type_() == gst::MessageType::Qos)
        .expect("a QoS message");
    let gst::MessageView::Qos(qos) = qos.view() else {
        unreachable!()
    };
    let (_, dropped) = qos.stats();
    assert_eq!(
        dropped,
        gst::GenericFormattedValue::Buffers(Some(gst::format::Buffers::from_u64(5)))
    );
}

#[test]
fn latency_includes_processing_time_and_stats_are_posted() {
    let (mut h_, info) = harness(gst_video::VideoFormat::Rgba, 64, 48, &[]);
    let bus = gst::Bus::new();
    h_.element().unwrap().set_bus(Some(&bus));
    h_.set_upstream_latency(gst::ClockTime::from_mseconds(10));
    assert_eq!(
        h_.query_latency(),
        Some(gst::ClockTime::from_mseconds(10)),
        "nothing measured yet"
    );
    h_.push_and_pull(frame(&info, 0)).unwrap();
    let latency = h_.query_latency().unwrap();
    assert!(
        latency > gst::ClockTime::from_mseconds(10),
        "latency {latency}"
    );
    assert!(
        bus.pop_filtered(&[gst::MessageType::Latency]).is_some(),
        "latency announced"
    );

    std::thread::sleep(Duration::from_millis(1100));
    h_.push_and_pull(frame(&info, 1)).unwrap();
    // The last report: a slow first frame (a loaded machine) may have posted one already.
    let stats = last_stats(&bus.iter().collect::<Vec<_>>());
    assert!(stats.get::<f64>("fps").unwrap() > 0.0);
    let processing = stats.get::<f64>("processing-ms").unwrap();
    let network = stats.get::<f64>("network-ms").unwrap();
    assert!(
        network > 0.0 && network <= processing,
        "network {network} ms of processing {processing} ms"
    );
    assert_eq!(stats.get::<u64>("total-frames").unwrap(), 2);
    assert_eq!(stats.get::<u64>("total-dropped").unwrap(), 0);
}

#[test]
fn a_bad_model_fails_the_state_change_with_an_error_naming_the_file() {
    init();
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("photo.gsm");
    std::fs::write(&foreign, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    // A named pipe with no writer used to hang the state change forever.
    let fifo = dir.path().join("pipe.gsm");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for (model, reason) in [
        (Path::new("/no/such.gsm"), "not found"),
        (foreign.as_path(), "not a ganstyle model"),
        (fifo.as_path(), "named pipe"),
        (Path::new("/dev/zero"), "not a regular file"),
    ] {
        let element = gst::ElementFactory::make("ganstyle")
            .property("model", model.to_str().unwrap())
            .build()
            .unwrap();
        let bus = gst::Bus::new();
        element.set_bus(Some(&bus));
        assert!(element.set_state(gst::State::Paused).is_err());
        let error = bus
            .iter_filtered(&[gst::MessageType::Error])
            .find_map(|m| match m.view() {
                gst::MessageView::Error(e) => Some(e.error().to_string()),
                _ => None,
            })
            .expect("an error message");
        assert!(
            error.contains(model.to_str().unwrap()) && error.contains(reason),
            "{error}"
        );
        element.set_state(gst::State::Null).unwrap();
    }
}

/// `device=gpu` runs the network on burn-wgpu and the frame conversions, blend, colour
/// preservation and stability as WGSL kernels on its buffers (lavapipe in CI): frame after
/// frame it gives what the CPU path gives, and it keeps the bytes that are not colour.
#[test]
fn the_gpu_frame_path_matches_the_cpu_path() {
    use gst_video::VideoFormat::{Bgrx, Rgb};
    let styled = [
        ("max-size", "12"),
        ("strength", "0.6"),
        ("preserve-color", "true"),
        ("stability", "0.8"),
    ];
    for (format, w, h, props) in [(Bgrx, 10, 7, &[][..]), (Rgb, 48, 30, &styled[..])] {
        let run = |device: &str| {
            let mut all = props.to_vec();
            all.push(("device", device));
            let (mut h_, info) = harness(format, w, h, &all);
            let active: String = h_.element().unwrap().property("active-device");
            assert!(active.starts_with(device), "{device} ran on {active}");
            let path = if device == "cpu" {
                "ganstyle runtime"
            } else {
                "WGSL frame kernels"
            };
            assert!(active.ends_with(path), "{active}");
            // A frame, the same with a quarter changed a lot, then with faint noise.
            let first = frame(&info, 0);
            let mut moved = first.copy();
            let mut noisy;
            {
                let mut map = moved.get_mut().unwrap().map_writable().unwrap();
                let quarter = map.len() / 4;
                map[..quarter]
                    .iter_mut()
                    .for_each(|b| *b = b.wrapping_add(100));
            }
            noisy = moved.copy();
            {
                let mut map = noisy.get_mut().unwrap().map_writable().unwrap();
                map.iter_mut()
                    .step_by(7)
                    .for_each(|b| *b = b.saturating_add(2));
            }
            [first, moved, noisy].map(|input| {
                let out = h_.push_and_pull(input).unwrap();
                out.map_readable().unwrap().to_vec()
            })
        };
        let (cpu, gpu) = (run("cpu"), run("gpu"));
        let info = gst_video::VideoInfo::builder(format, w, h).build().unwrap();
        let g = geometry(&info);
        for (n, (c, g_)) in cpu.iter().zip(&gpu).enumerate() {
            let mut worst = 0;
            for (i, (a, b)) in c.iter().zip(g_).enumerate() {
                let in_row = i % g.stride;
                let colour = in_row < w as usize * g.layout.bytes
                    && g.layout.rgb.contains(&(in_row % g.layout.bytes));
                if colour {
                    worst = worst.max(a.abs_diff(*b));
                } else {
                    assert_eq!(
                        a, b,
                        "{format:?} frame {n}: byte {i} is not colour but changed"
                    );
                }
            }
            assert!(
                worst <= 2,
                "{format:?} frame {n}: GPU and CPU differ by {worst}"
            );
        }
        assert_ne!(cpu[0], cpu[1], "the test frames differ");
    }
}
