// Packed 8-bit video frame (RGBA, BGRA, RGBx, BGRx, RGB or BGR, with a row stride) -> planar
// f32 RGB in [0, 1], laid out as a [1, 3, height, width] tensor.
// CPU reference: src/frame/packed.rs (`unpack`) followed by `frame::to_planar`.

// FrameParams: frame_params.wgsl.

@group(0) @binding(0) var<uniform> params: FrameParams;
@group(0) @binding(1) var<storage, read> frame: array<u32>;
@group(0) @binding(2) var<storage, read_write> planar: array<f32>;

fn byte_at(index: u32) -> u32 {
    return (frame[index / 4u] >> ((index % 4u) * 8u)) & 0xffu;
}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = id.x;
    let y = id.y;
    if (x >= params.width || y >= params.height) {
        return;
    }
    let pixel = y * params.stride + x * params.bytes_per_pixel;
    let n = params.width * params.height;
    let i = y * params.width + x;
    for (var c = 0u; c < 3u; c = c + 1u) {
        planar[c * n + i] = f32(byte_at(pixel + params.offsets[c])) / 255.0;
    }
}
