// Runtime temporal smoothing on planar f32 RGB ([1, 3, height, width]): where the input barely
// changed since the previous frame, the output leans towards the previous output by
// `stability * staticness`; where it moved, the new output stays. Values are taken clamped to
// [0, 1], as the 8-bit CPU path sees them. CPU reference: src/frame/stability.rs (`stabilize`).

// FrameParams: frame_params.wgsl.

@group(0) @binding(0) var<uniform> params: FrameParams;
@group(0) @binding(1) var<storage, read> prev_input: array<f32>;
@group(0) @binding(2) var<storage, read> input: array<f32>;
@group(0) @binding(3) var<storage, read> prev_output: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

// Keep in sync with STATIC_BELOW and MOVING_ABOVE in src/frame/stability.rs.
const STATIC_BELOW: f32 = 3.0 / 255.0;
const MOVING_ABOVE: f32 = 24.0 / 255.0;

fn staticness(d: f32) -> f32 {
    let t = clamp((d - STATIC_BELOW) / (MOVING_ABOVE - STATIC_BELOW), 0.0, 1.0);
    return 1.0 - t * t * (3.0 - 2.0 * t);
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
    var d = 0.0;
    for (var c = 0u; c < 3u; c = c + 1u) {
        d = max(d, abs(input[c * n + i] - prev_input[c * n + i]));
    }
    let w = min(params.stability, 1.0) * staticness(d);
    if (w <= 0.0) {
        return;
    }
    for (var c = 0u; c < 3u; c = c + 1u) {
        let fresh = clamp(output[c * n + i], 0.0, 1.0);
        let held = clamp(prev_output[c * n + i], 0.0, 1.0);
        output[c * n + i] = fresh + w * (held - fresh);
    }
}
