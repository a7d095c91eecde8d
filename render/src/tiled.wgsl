// The training cameras' one pass: every environment's view drawn into its tile of one target.
// Each instance names its view; the view holds the camera (clip from world) and the episode's
// palette. The colour is fixed per triangle (flat), so the fragment stage only writes it: on a
// CPU rasteriser every instruction per pixel counts.

struct View {
    clip_from_world: mat4x4<f32>,
    // Linear RGBA colours the vertices choose from (see meshes::Palette).
    palette: array<vec4<f32>, 8>,
};

@group(0) @binding(0) var<storage, read> views: array<View>;

struct Vertex {
    @location(0) position: vec3<f32>,
    @location(1) entry: u32,
    @location(2) colour: vec4<f32>,
    // The instance: where its mesh stands in the world, and whose view it belongs to.
    @location(3) world_from_local_0: vec4<f32>,
    @location(4) world_from_local_1: vec4<f32>,
    @location(5) world_from_local_2: vec4<f32>,
    @location(6) world_from_local_3: vec4<f32>,
    @location(7) view: u32,
    // The colour of the instance's tinted parts (meshes::Palette::Tinted).
    @location(8) tint: vec3<f32>,
    // The semantic class of the instance's objects (batch::Class): vehicle or obstacle.
    @location(9) semantic: u32,
};

struct Varyings {
    @builtin(position) clip: vec4<f32>,
    @location(0) @interpolate(flat) colour: vec4<f32>,
};

// Where a vertex lands in its view, and its flat colour: what both vertex stages compute.
fn place(v: Vertex) -> Varyings {
    let world_from_local = mat4x4<f32>(
        v.world_from_local_0, v.world_from_local_1, v.world_from_local_2, v.world_from_local_3
    );
    let view = views[v.view];
    var out: Varyings;
    out.clip = view.clip_from_world * (world_from_local * vec4<f32>(v.position, 1.0));
    // Entry 6 is Palette::Tinted. Untinted vertices multiply by 1.0, which changes no bit.
    let tint = select(vec4<f32>(1.0), vec4<f32>(v.tint, 1.0), v.entry == 6u);
    out.colour = view.palette[min(v.entry, 7u)] * (v.colour * tint);
    return out;
}

@vertex
fn vertex(v: Vertex) -> Varyings {
    return place(v);
}

@fragment
fn fragment(in: Varyings) -> @location(0) vec4<f32> {
    return in.colour;
}

// The same pass with the semantic camera: the class of what each pixel shows goes into the
// colour's alpha (as class / 255, which an 8-bit unorm channel stores exactly), so the classes
// cost no attachment and no readback of their own. (The depth camera is the pass's own depth
// buffer: with reverse Z and an infinite far plane it holds near / depth.)

struct SensorVaryings {
    @builtin(position) clip: vec4<f32>,
    @location(0) @interpolate(flat) colour: vec4<f32>,
    @location(1) @interpolate(flat) semantic: u32,
};

// batch::Class of each palette entry; objects (entries 5 to 7) take their instance's class.
const ROAD: u32 = 0u;
const MARKING: u32 = 1u;
const SHOULDER: u32 = 2u;
const SKY: u32 = 5u;
const GROUND: u32 = 6u;

@vertex
fn vertex_sensors(v: Vertex) -> SensorVaryings {
    let plain = place(v);
    var out: SensorVaryings;
    out.clip = plain.clip;
    out.colour = plain.colour;
    var classes = array<u32, 5>(GROUND, ROAD, SHOULDER, MARKING, SKY);
    out.semantic = select(v.semantic, classes[min(v.entry, 4u)], v.entry < 5u);
    return out;
}

@fragment
fn fragment_sensors(in: SensorVaryings) -> @location(0) vec4<f32> {
    return vec4<f32>(in.colour.rgb, f32(in.semantic) / 255.0);
}
