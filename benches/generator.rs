//! The generator's forward pass alone, per architecture and frame size, on burn's CPU backend
//! (flex). `cargo bench --bench generator`

use burn::tensor::{Device, Tensor};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ganstyle::model::{Arch, GeneratorConfig};

fn forward(c: &mut Criterion) {
    let device = Device::flex();
    let mut group = c.benchmark_group("generator_forward_cpu");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1));
    for arch in [Arch::Fast, Arch::Johnson] {
        let generator = GeneratorConfig::new(arch, 1).init(&device);
        let sizes: &[(usize, usize)] = match arch {
            Arch::Fast => &[(320, 240), (640, 480), (1280, 720)],
            Arch::Johnson => &[(320, 240), (640, 480)],
        };
        for &(w, h) in sizes {
            let x = Tensor::<4>::ones([1, 3, h, w], &device) * 0.5;
            let mix = Tensor::<2>::ones([1, 1], &device);
            group.bench_function(format!("{}/{w}x{h}", arch.name()), |b| {
                b.iter(|| {
                    let y = generator.forward(x.clone(), mix.clone());
                    y.into_data()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
