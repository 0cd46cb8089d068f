//! The generator gives the same frame on burn's CPU backend and on burn-wgpu (lavapipe in CI,
//! a real GPU where there is one). Tiny sizes: lavapipe compiles every kernel on first use.

use burn::tensor::{Device, Tensor, TensorData};
use ganstyle::device::adapters;
use ganstyle::model::file::{load_weights, weights_to_bytes};
use ganstyle::model::seeded::seeded;
use ganstyle::model::{Arch, GeneratorConfig};

#[test]
fn generator_output_matches_between_cpu_and_wgpu() {
    let found = adapters();
    assert!(
        !found.is_empty(),
        "no wgpu adapter: install mesa-vulkan-drivers (scripts/install-deps.sh does)"
    );
    let (gpu, _) = ganstyle::device::gpu().unwrap();
    let cpu = Device::flex();

    // Every architecture but johnson (the same layer kinds as fast, and slow on lavapipe).
    for arch in [Arch::Fast, Arch::Magenta] {
        let config = GeneratorConfig::new(arch, 2);
        let on_cpu = seeded(config.init(&cpu), 3);
        let mut on_gpu = config.init(&gpu);
        load_weights(&mut on_gpu, &weights_to_bytes(&on_cpu).unwrap()).unwrap();

        let pixels: Vec<f32> = (0..3 * 13 * 18)
            .map(|i| ((i * 7919) % 256) as f32 / 255.0)
            .collect();
        let x = Tensor::<4>::from_data(TensorData::new(pixels, [1, 3, 13, 18]), &cpu);
        let mix = [[0.25f32, 0.75]];
        let a: Vec<f32> = on_cpu
            .forward(x.clone(), Tensor::from_floats(mix, &cpu))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let b: Vec<f32> = on_gpu
            .forward(x.to_device(&gpu), Tensor::from_floats(mix, &gpu))
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(a.len(), b.len());
        let worst = a
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{arch:?}: largest difference {worst}");
    }
}

/// The GPU frame path (WGSL kernels on burn-wgpu's tensor buffers) restyles a packed frame as
/// the CPU path does.
#[test]
fn the_gpu_frame_path_restyles_as_the_cpu_path_does() {
    use ganstyle::frame::packed::{FrameGeometry, PixelLayout, pack, unpack};
    use ganstyle::model::{ModelSource, StyleChoice};
    use ganstyle::stylize::{StyleOptions, Stylizer};

    let (gpu, _) = ganstyle::device::gpu().unwrap();
    let g = FrameGeometry {
        width: 9,
        height: 6,
        stride: 9 * 4 + 4,
        layout: PixelLayout::BGRA,
    };
    let frame: Vec<u8> = (0..g.stride * 6).map(|i| (i * 29 % 256) as u8).collect();
    let source = ModelSource::resolve(None).unwrap();
    let options = StyleOptions {
        strength: 0.7,
        max_size: 4,
        ..StyleOptions::default()
    };
    let on = |device| {
        Stylizer::new(
            &source,
            device,
            &StyleChoice::from_options(None, None).unwrap(),
            options.clone(),
        )
        .unwrap()
    };

    let mut want = frame.clone();
    let styled = on(Device::flex())
        .stylize(&unpack(&frame, &g).unwrap())
        .unwrap();
    pack(&styled, &mut want, &g).unwrap();

    let mut got = frame.clone();
    let mut on_gpu = on(gpu);
    assert_eq!(on_gpu.path_name(), "WGSL frame kernels");
    on_gpu.restyle_frame(&mut got, &g).unwrap();
    let worst = want
        .iter()
        .zip(&got)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(worst <= 1, "off by {worst}");
}
