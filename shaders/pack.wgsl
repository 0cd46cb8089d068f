// Planar f32 RGB ([1, 3, height, width], any range) -> the colour bytes of a packed 8-bit frame,
// values clamped to [0, 1] and rounded. Each invocation owns one 32-bit word of the frame, so
// 3-byte formats need no atomics; bytes that are not colour (alpha, x, row padding) keep the
// value they had in `original`. Needs a row stride that is a multiple of 4 (GStreamer's default
// for these formats). CPU reference: `frame::from_planar` followed by src/frame/packed.rs (`pack`).

// FrameParams: frame_params.wgsl.

@group(0) @binding(0) var<uniform> params: FrameParams;
@group(0) @binding(1) var<storage, read> planar: array<f32>;
@group(0) @binding(2) var<storage, read> original: array<u32>;
@group(0) @binding(3) var<storage, read_write> frame: array<u32>;

fn to_byte(v: f32) -> u32 {
    // floor(x + 0.5): Rust's f32::round for the non-negative values that reach here.
    return u32(floor(clamp(v, 0.0, 1.0) * 255.0 + 0.5));
}

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    // Large frames need more than 65535 workgroups: the host spreads them over y.
    let word = id.x + id.y * groups.x * 64u;
    let words_per_row = params.stride / 4u;
    if (word >= words_per_row * params.height) {
        return;
    }
    let y = word / words_per_row;
    let row_start = y * params.stride;
    let n = params.width * params.height;
    var value = original[word];
    for (var k = 0u; k < 4u; k = k + 1u) {
        let in_row = word * 4u + k - row_start;
        let x = in_row / params.bytes_per_pixel;
        if (x >= params.width) {
            continue; // row padding
        }
        let within = in_row % params.bytes_per_pixel;
        for (var c = 0u; c < 3u; c = c + 1u) {
            if (within == params.offsets[c]) {
                let byte = to_byte(planar[c * n + y * params.width + x]);
                value = (value & ~(0xffu << (k * 8u))) | (byte << (k * 8u));
            }
        }
    }
    frame[word] = value;
}
