// Lepton's training material: a palette colour, chosen per vertex, times the vertex colour (the
// baked light and object colours), nothing else. Camera frames are tiny and the rasteriser may be
// a CPU, so every instruction per pixel counts.
#import bevy_pbr::forward_io::VertexOutput

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> palette: array<vec4<f32>, 8>;

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
#ifdef VERTEX_UVS_A
    var colour = palette[min(u32(in.uv.x + 0.5), 7u)];
#else
    var colour = palette[0];
#endif
#ifdef VERTEX_COLORS
    colour = colour * in.color;
#endif
    return colour;
}
