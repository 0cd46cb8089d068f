// Packed 8-bit video frame (RGBA, BGRA, RGBx, BGRx, RGB or BGR, with a row stride) -> planar
// f32 RGB in [0, 1], laid out as a [1, 3, height, width] tensor.
// CPU reference: src/frame/packed.rs (`unpack`) followed by `frame::to_planar`.

// Keep in sync with `FrameParams` in src/gpu/kernels.rs.
struct FrameParams {
    width: u32,
    height: u32,
    stride: u32,        // bytes from one row to the next
    bytes_per_pixel: u32,
    offsets: vec4<u32>, // byte offsets of red, green, blue inside a pixel (w unused)
    strength: f32,      // blend.wgsl only
    preserve_color: u32,// blend.wgsl only
    _pad: vec2<u32>,
}

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
