//! The generator's forward pass alone, per architecture, backend and frame size: ganstyle's CPU
//! runtime, burn flex, and (with `GANSTYLE_BENCH_GPU=1`, on a machine with a hardware GPU)
//! burn-wgpu. Throughput is in frames ("elem/s").
//!
//! `cargo bench --bench generator` (filter: `cargo bench --bench generator -- fast/runtime`)

use std::time::Duration;

use burn::tensor::{Device, Tensor};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ganstyle::infer::CpuGenerator;
use ganstyle::model::{Arch, GeneratorConfig};
use ganstyle::speed::test_image;

const SIZES: [(usize, usize); 3] = [(256, 256), (640, 480), (1280, 720)];

fn forward(c: &mut Criterion) {
    let mut group = c.benchmark_group("generator");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(1));
    let mut devices = vec![("flex", Device::flex())];
    if std::env::var_os("GANSTYLE_BENCH_GPU").is_some() {
        let (device, _) = ganstyle::device::gpu().expect("GANSTYLE_BENCH_GPU set but no GPU");
        devices.push(("wgpu", device));
    }
    for arch in [Arch::Fast, Arch::MagentaLite, Arch::Johnson] {
        let flex = GeneratorConfig::new(arch, 1).init(&Device::flex());
        let runtime = CpuGenerator::new(&flex);
        for (w, h) in SIZES {
            let image = test_image(w, h);
            group.bench_function(format!("{}/runtime/{w}x{h}", arch.name()), |b| {
                // Output buffers go back to the pool, as the element's do.
                b.iter(|| runtime.recycle(std::hint::black_box(runtime.forward(&image, &[1.0]))))
            });
            for (name, device) in &devices {
                let generator = GeneratorConfig::new(arch, 1).init(device);
                let x = test_image(w, h).to_tensor(device);
                let mix = Tensor::<2>::ones([1, 1], device);
                group.bench_function(format!("{}/{name}/{w}x{h}", arch.name()), |b| {
                    b.iter(|| generator.forward(x.clone(), mix.clone()).into_data())
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
