// Strength blend with the input and colour preservation, on planar f32 RGB
// ([1, 3, height, width]): out = input + strength * (styled' - input), where styled' is the
// styled pixel, or with preserve_color the input shifted to the styled pixel's Rec. 601 luma.
// CPU reference: src/frame/blend.rs (`blend_pixel`).

// FrameParams: frame_params.wgsl.

@group(0) @binding(0) var<uniform> params: FrameParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> styled: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

fn luma(rgb: vec3<f32>) -> f32 {
    return 0.299 * rgb.x + 0.587 * rgb.y + 0.114 * rgb.z;
}

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let n = params.width * params.height;
    // Large frames need more than 65535 workgroups: the host spreads them over y.
    let i = id.x + id.y * groups.x * 64u;
    if (i >= n) {
        return;
    }
    let a = vec3<f32>(input[i], input[n + i], input[2u * n + i]);
    var s = vec3<f32>(styled[i], styled[n + i], styled[2u * n + i]);
    if (params.preserve_color != 0u) {
        s = a + vec3<f32>(luma(s) - luma(a));
    }
    let o = a + params.strength * (s - a);
    output[i] = o.x;
    output[n + i] = o.y;
    output[2u * n + i] = o.z;
}
