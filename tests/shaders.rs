//! The WGSL kernels in `shaders/`: every file parses and validates with naga, and each kernel
//! matches its CPU reference in `ganstyle::frame` when run by wgpu (lavapipe in CI).

use ganstyle::frame::packed::{FrameGeometry, PixelLayout, pack, unpack};
use ganstyle::frame::stability::stabilize;
use ganstyle::frame::{blend_pixel, from_planar, to_planar};
use ganstyle::gpu::FrameKernels;
use ganstyle::gpu::kernels::{SHADERS, full_source};
use image::RgbImage;

#[test]
fn every_shader_file_is_known_parses_and_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wgsl"))
        .collect();
    on_disk.sort();
    let mut known: Vec<String> = SHADERS.iter().map(|(n, _)| n.to_string()).collect();
    known.push("frame_params.wgsl".into()); // the shared header, validated with each kernel
    known.sort();
    assert_eq!(
        on_disk, known,
        "shaders/ and gpu::kernels::SHADERS disagree"
    );
    for (name, kernel) in SHADERS {
        let source = full_source(kernel);
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

/// A 7×5 frame of `layout` with 4 bytes of row padding (stride a multiple of 4) and varied bytes.
fn test_frame(layout: PixelLayout) -> (Vec<u8>, FrameGeometry) {
    let row = 7 * layout.bytes;
    let stride = (row + 4).div_ceil(4) * 4;
    let geometry = FrameGeometry {
        width: 7,
        height: 5,
        stride,
        layout,
    };
    let bytes = (0..stride * 5)
        .map(|i| ((i * 73 + 11) % 256) as u8)
        .collect();
    (bytes, geometry)
}

#[test]
fn gpu_kernels_match_their_cpu_references() {
    let kernels = FrameKernels::new(
        ganstyle::device::gpu()
            .expect("a wgpu adapter (lavapipe: mesa-vulkan-drivers)")
            .1,
    );
    for layout in [
        PixelLayout::RGBA,
        PixelLayout::BGRA,
        PixelLayout::RGB,
        PixelLayout::BGR,
    ] {
        let (frame, g) = test_frame(layout);

        // unpack: exact (the same division by 255 on both sides).
        let cpu = to_planar(&unpack(&frame, &g).unwrap());
        let gpu = kernels.unpack(&frame, &g).unwrap();
        assert_eq!(gpu, cpu, "unpack {layout:?}");

        // pack: planar values off the 8-bit grid and out of range, rounding and clamping.
        let planar: Vec<f32> = (0..cpu.len())
            .map(|i| (i as f32 * 0.0137).sin() * 0.7 + 0.45)
            .collect();
        let mut cpu_frame = frame.clone();
        pack(&from_planar(&planar, 7, 5), &mut cpu_frame, &g).unwrap();
        let mut gpu_frame = frame.clone();
        kernels.pack(&planar, &mut gpu_frame, &g).unwrap();
        let worst = cpu_frame
            .iter()
            .zip(&gpu_frame)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(worst <= 1, "pack {layout:?}: off by {worst}");
        let off = cpu_frame
            .iter()
            .zip(&gpu_frame)
            .filter(|(a, b)| a != b)
            .count();
        assert!(
            off * 100 <= cpu_frame.len(),
            "pack {layout:?}: {off} bytes differ"
        );

        // blend, with and without colour preservation.
        for (strength, preserve) in [(0.0, false), (0.35, false), (1.0, true), (0.6, true)] {
            let gpu = kernels
                .blend(&cpu, &planar, &g, strength, preserve)
                .unwrap();
            let n = 35;
            for i in 0..n {
                let px = |v: &[f32]| [v[i], v[n + i], v[2 * n + i]];
                let want = blend_pixel(px(&cpu), px(&planar), strength, preserve);
                let got = px(&gpu);
                for c in 0..3 {
                    assert!(
                        (want[c] - got[c]).abs() < 1e-5,
                        "blend {strength} {preserve}: {want:?} vs {got:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_pack_kernel_refuses_strides_it_cannot_handle() {
    let kernels = FrameKernels::new(ganstyle::device::gpu().expect("a wgpu adapter").1);
    let g = FrameGeometry {
        width: 3,
        height: 2,
        stride: 9,
        layout: PixelLayout::RGB,
    };
    let err = kernels.pack(&[0.0; 18], &mut [0u8; 18], &g).unwrap_err();
    assert!(err.to_string().contains("multiple of 4"), "{err}");
}

#[test]
fn the_stabilize_kernel_matches_its_cpu_reference() {
    let kernels = FrameKernels::new(ganstyle::device::gpu().expect("a wgpu adapter").1);
    let (w, h) = (16, 9);
    let g = FrameGeometry {
        width: w,
        height: h,
        stride: w as usize * 4,
        layout: PixelLayout::RGBA,
    };
    // Input changes from none (static) through the smooth ramp to large (moving).
    let prev_input =
        RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 9) as u8, (y * 20) as u8, 90]));
    let input = RgbImage::from_fn(w, h, |x, y| {
        let p = prev_input.get_pixel(x, y).0;
        image::Rgb([
            p[0].saturating_add((x * 2) as u8),
            p[1],
            p[2].saturating_sub((y * 4) as u8),
        ])
    });
    let prev_output = RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([200, (x * 15) as u8, (y * 25) as u8])
    });
    let output = RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(y * 28) as u8, 30, (x * 16) as u8])
    });
    for stability in [0.3f32, 1.0] {
        let mut cpu = output.clone();
        stabilize(&prev_input, &input, &prev_output, &mut cpu, stability);
        let mut gpu = to_planar(&output);
        kernels
            .stabilize(
                [
                    &to_planar(&prev_input),
                    &to_planar(&input),
                    &to_planar(&prev_output),
                ],
                &mut gpu,
                &g,
                stability,
            )
            .unwrap();
        let gpu = from_planar(&gpu, w, h);
        let worst = cpu
            .as_raw()
            .iter()
            .zip(gpu.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(worst <= 1, "stability {stability}: off by {worst}");
        assert_ne!(cpu, output, "the test frames exercise no smoothing");
    }
}

#[test]
fn kernels_cover_frames_that_need_more_than_65535_workgroups() {
    let kernels = FrameKernels::new(ganstyle::device::gpu().expect("a wgpu adapter").1);
    // 4100×1024 pixels: 65600 groups of 64 for blend, 65600 words-groups for pack.
    let (w, h) = (4100u32, 1024u32);
    let g = FrameGeometry {
        width: w,
        height: h,
        stride: w as usize * 4,
        layout: PixelLayout::RGBA,
    };
    let n = (w * h) as usize;
    let planar: Vec<f32> = (0..3 * n).map(|i| (i % 251) as f32 / 250.0).collect();
    let zeros = vec![0.0; 3 * n];
    let blended = kernels.blend(&zeros, &planar, &g, 1.0, false).unwrap();
    assert_eq!(blended, planar, "blend skipped part of a large frame");
    let mut frame = vec![7u8; g.stride * h as usize];
    kernels.pack(&planar, &mut frame, &g).unwrap();
    let image = from_planar(&planar, w, h);
    let last = image.get_pixel(w - 1, h - 1).0;
    let end = frame.len() - 4;
    assert_eq!(
        &frame[end..end + 3],
        &last,
        "pack skipped the end of a large frame"
    );
    assert_eq!(frame[end + 3], 7, "pack changed alpha");
}
