// The viewer's lit look: vertex colours lit by the sun (Lambert) and a sky/ground hemisphere,
// faded into the horizon's haze with distance. A few instructions per pixel, because the
// rasteriser may be a CPU (lavapipe): bevy's StandardMaterial costs ~27× more there.
#import bevy_pbr::forward_io::VertexOutput
#import bevy_pbr::mesh_view_bindings::view

struct Sunlit {
    // Unit vector towards the sun (world, y up).
    towards_sun: vec4<f32>,
    // Light of the sun, of the sky from above and of the ground from below (linear RGB).
    sun: vec4<f32>,
    sky: vec4<f32>,
    ground: vec4<f32>,
    haze: vec4<f32>,
    // Fog start and end (m), and how much fog applies (0 for the sky itself).
    fog: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> m: Sunlit;

@fragment
fn fragment(in: VertexOutput, @builtin(front_facing) front: bool) -> @location(0) vec4<f32> {
    var albedo = vec4<f32>(1.0);
#ifdef VERTEX_COLORS
    albedo = in.color;
#endif
    var n = normalize(in.world_normal);
    if !front {
        n = -n;
    }
    let sun = max(dot(n, m.towards_sun.xyz), 0.0);
    let hemisphere = mix(m.ground.rgb, m.sky.rgb, 0.5 + 0.5 * n.y);
    var colour = albedo.rgb * (m.sun.rgb * sun + hemisphere);
    if m.fog.z > 0.0 {
        let distance = length(in.world_position.xyz - view.world_position);
        let fog = clamp((distance - m.fog.x) / max(m.fog.y - m.fog.x, 1.0), 0.0, 1.0) * m.fog.z;
        colour = mix(colour, m.haze.rgb, fog);
    }
    return vec4<f32>(colour, albedo.a);
}
