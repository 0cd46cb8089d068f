// Shared by every frame kernel: prepended to each shader's source before it is compiled
// (WGSL has no include). Keep in sync with `FrameParams` in src/gpu/kernels.rs.
struct FrameParams {
    width: u32,
    height: u32,
    stride: u32,          // bytes from one row to the next
    bytes_per_pixel: u32,
    offsets: vec4<u32>,   // byte offsets of red, green, blue inside a pixel (w unused)
    strength: f32,        // blend.wgsl only
    preserve_color: u32,  // blend.wgsl only
    stability: f32,       // stabilize.wgsl only
    _pad: u32,
}
