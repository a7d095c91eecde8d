// Lepton's training material: a colour times the vertex colour (the baked light), nothing else.
// Camera frames are tiny and the rasteriser may be a CPU, so every instruction per pixel counts.
#import bevy_pbr::forward_io::VertexOutput

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> colour: vec4<f32>;

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
#ifdef VERTEX_COLORS
    return colour * in.color;
#else
    return colour;
#endif
}
