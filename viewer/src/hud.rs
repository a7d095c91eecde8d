//! The HUD (bevy_ui): speed, action, reward, return, step, the Q-value of every action as a bar,
//! the perceived driving state beside the ground truth, the last episode's end, the frame the
//! network receives, reload errors and the key help.

use crate::controls::HELP;
use crate::playback::Playback;
use crate::reload::ReloadStatus;
use crate::simulation::Sim;
use bevy::asset::RenderAssetUsages;
use bevy::image::ImageSampler;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use lepton_perception::DrivingState;

/// The HUD: built at start, rewritten each frame from the latest snapshot.
pub struct HudPlugin;

impl Plugin for HudPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_hud)
            .add_systems(Update, update_hud.in_set(crate::systems::ViewerSystems::Hud));
    }
}

/// Action rows the HUD has room for.
const MAX_ACTION_ROWS: usize = 16;
const BAR_WIDTH: f32 = 160.0;
/// Screen pixels per network-input pixel in the inset.
const INSET_SCALE: f32 = 3.0;

#[derive(Component)]
pub struct HudRoot;
#[derive(Component)]
pub struct StatusText;
#[derive(Component)]
pub struct StateText;
#[derive(Component)]
pub struct ActionRow(usize);
#[derive(Component)]
pub struct ActionLabel(usize);
#[derive(Component)]
pub struct ActionFill(usize);
#[derive(Component)]
pub struct ErrorBanner;
#[derive(Component)]
pub struct ErrorText;
#[derive(Component)]
pub struct HelpOverlay;
#[derive(Component)]
pub struct InsetPanel;
#[derive(Component)]
pub struct InsetLabel;
#[derive(Component)]
pub struct InsetPicture;

/// The image the inset shows, replaced each step.
#[derive(Resource)]
pub struct InsetImage {
    handle: Handle<Image>,
    /// The step whose frame is in it.
    shown: Option<(u64, u64, usize)>,
}

fn panel() -> (Node, BackgroundColor) {
    (
        Node {
            flex_direction: FlexDirection::Column,
            padding: UiRect::all(Val::Px(8.0)),
            row_gap: Val::Px(4.0),
            ..default()
        },
        BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.62)),
    )
}

fn text(value: &str, size: f32) -> (Text, TextFont, TextColor) {
    (Text::new(value), TextFont::from_font_size(size), TextColor(Color::WHITE))
}

fn spawn_hud(mut commands: Commands, mut images: ResMut<Assets<Image>>, playback: Res<Playback>) {
    let mut blank = blank_image(1, 1);
    blank.sampler = ImageSampler::nearest();
    let handle = images.add(blank);
    commands.insert_resource(InsetImage { handle: handle.clone(), shown: None });

    let visible = if playback.hud { Visibility::Inherited } else { Visibility::Hidden };
    commands
        .spawn((
            HudRoot,
            Node { width: Val::Percent(100.0), height: Val::Percent(100.0), ..default() },
            visible,
        ))
        .with_children(|root| {
            // Left column: status, action values, state.
            root.spawn(Node {
                position_type: PositionType::Absolute,
                left: Val::Px(10.0),
                top: Val::Px(10.0),
                flex_direction: FlexDirection::Column,
                row_gap: Val::Px(6.0),
                ..default()
            })
            .with_children(|column| {
                column.spawn(panel()).with_child((StatusText, text("", 14.0)));
                column.spawn(panel()).with_children(|bars| {
                    bars.spawn(text("action values  (> next action)", 13.0));
                    for i in 0..MAX_ACTION_ROWS {
                        bars.spawn((
                            ActionRow(i),
                            Node {
                                flex_direction: FlexDirection::Row,
                                column_gap: Val::Px(6.0),
                                align_items: AlignItems::Center,
                                height: Val::Px(16.0),
                                ..default()
                            },
                        ))
                        .with_children(|row| {
                            row.spawn((
                                ActionLabel(i),
                                text("", 12.0),
                                Node { width: Val::Px(275.0), height: Val::Px(16.0), ..default() },
                            ));
                            row.spawn((
                                Node { width: Val::Px(BAR_WIDTH), height: Val::Px(10.0), ..default() },
                                BackgroundColor(Color::srgba(1.0, 1.0, 1.0, 0.12)),
                            ))
                            .with_child((
                                ActionFill(i),
                                Node { width: Val::Px(0.0), height: Val::Percent(100.0), ..default() },
                                BackgroundColor(Color::srgb(0.35, 0.6, 0.95)),
                            ));
                        });
                    }
                });
                column.spawn(panel()).with_child((StateText, text("", 13.0)));
            });

            // Bottom right: the frame as the network receives it.
            root.spawn((
                InsetPanel,
                Node {
                    position_type: PositionType::Absolute,
                    right: Val::Px(10.0),
                    bottom: Val::Px(10.0),
                    flex_direction: FlexDirection::Column,
                    padding: UiRect::all(Val::Px(6.0)),
                    row_gap: Val::Px(4.0),
                    ..default()
                },
                BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.62)),
            ))
            .with_children(|inset| {
                inset.spawn((InsetLabel, text("network input", 12.0)));
                inset.spawn((
                    InsetPicture,
                    ImageNode::new(handle),
                    Node { width: Val::Px(0.0), height: Val::Px(0.0), ..default() },
                ));
            });

            // Top: the last reload error.
            root.spawn((
                ErrorBanner,
                Node {
                    position_type: PositionType::Absolute,
                    top: Val::Px(10.0),
                    right: Val::Px(10.0),
                    max_width: Val::Percent(55.0),
                    padding: UiRect::all(Val::Px(8.0)),
                    display: Display::None,
                    ..default()
                },
                BackgroundColor(Color::srgb(0.55, 0.05, 0.05)),
            ))
            .with_child((ErrorText, text("", 13.0)));

            // Centre: key help.
            root.spawn((
                HelpOverlay,
                Node {
                    position_type: PositionType::Absolute,
                    left: Val::Percent(32.0),
                    top: Val::Percent(22.0),
                    padding: UiRect::all(Val::Px(14.0)),
                    display: Display::None,
                    ..default()
                },
                BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.85)),
            ))
            .with_child(text(&format!("keys\n\n{HELP}"), 15.0));
        });
}

fn blank_image(width: u32, height: u32) -> Image {
    Image::new_fill(
        Extent3d { width, height, depth_or_array_layers: 1 },
        TextureDimension::D2,
        &[0, 0, 0, 255],
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::MAIN_WORLD | RenderAssetUsages::RENDER_WORLD,
    )
}

/// The scenario's scripted events, each marked done (x) or waiting (.), on one line.
fn events_line(scenario: &lepton_sim::scenario::Scenario, happened: u64) -> String {
    if scenario.events.is_empty() {
        return String::new();
    }
    let marks: Vec<String> = scenario
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| format!("[{}] {}", if happened & (1 << i) != 0 { 'x' } else { ' ' }, e.name))
        .collect();
    format!("\nevents  {}", marks.join("  "))
}

/// Writes this frame's figures into the HUD.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn update_hud(
    sim: Res<Sim>,
    reload: Res<ReloadStatus>,
    playback: Res<Playback>,
    mut inset: ResMut<InsetImage>,
    mut images: ResMut<Assets<Image>>,
    mut roots: Query<&mut Visibility, With<HudRoot>>,
    mut texts: ParamSet<(
        Query<&mut Text, With<StatusText>>,
        Query<&mut Text, With<StateText>>,
        Query<(&mut Text, &ActionLabel)>,
        Query<&mut Text, With<ErrorText>>,
        Query<&mut Text, With<InsetLabel>>,
    )>,
    mut nodes: ParamSet<(
        Query<(&mut Node, &ActionRow)>,
        Query<(&mut Node, &ActionFill, &mut BackgroundColor)>,
        Query<&mut Node, With<ErrorBanner>>,
        Query<&mut Node, With<HelpOverlay>>,
        Query<&mut Node, With<InsetPicture>>,
    )>,
) {
    for mut visibility in &mut roots {
        let want = if playback.hud { Visibility::Inherited } else { Visibility::Hidden };
        visibility.set_if_neq(want);
    }
    if !playback.hud {
        return;
    }
    let snapshot = &sim.snapshot;
    let env = playback.env.min(snapshot.envs.len().saturating_sub(1));
    let Some(shown) = snapshot.envs.get(env) else { return };
    let scenario = &snapshot.scenario;

    // Status.
    let action = match shown.last_action {
        Some(a) => format!("{a}: {}", describe_action(scenario, a)),
        None => format!(
            "keys: steer {:+.1} throttle {:+.1}",
            shown.last_control.steer, shown.last_control.throttle
        ),
    };
    let last_end = match shown.last_end {
        Some((reason, ret)) => format!("{} (return {ret:.2})", reason.name()),
        None => "-".into(),
    };
    let status = format!(
        "{}  |  {}\nenv {}/{}  episode {}  seed {}\nstep {:>5}   speed {:5.1} km/h\nlast action  {action}\nreward {:+.3}   return {:+.2}\nlast end  {last_end}\ntime x{}{}   camera {}",
        scenario.name,
        sim.driver_name,
        env + 1,
        snapshot.envs.len(),
        shown.episodes_done + 1,
        shown.episode_seed,
        shown.episode_step,
        shown.ground_truth.driving.speed * 3.6,
        shown.last_reward,
        shown.episode_return,
        playback.speed(),
        if playback.paused { "  PAUSED" } else { "" },
        playback.camera.name(),
    );
    let status = status + &events_line(scenario, shown.poses.events);
    set_text(&mut texts.p0(), status);

    // Action values.
    let q = shown.decision.as_ref().and_then(|d| d.q_values.as_ref());
    let chosen = shown.decision.as_ref().map(|d| d.action);
    let actions = scenario.actions.set.len().min(MAX_ACTION_ROWS);
    let (low, high) = q.map_or((0.0, 1.0), |q| {
        q.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)))
    });
    for (mut text, label) in &mut texts.p2() {
        let i = label.0;
        if i < actions {
            let value = q.map_or(String::new(), |q| format!("{:+8.3}", q[i]));
            let marker = if Some(i) == chosen { ">" } else { " " };
            text.0 = format!("{marker}{i} {:<16}{value}", describe_action(scenario, i));
        }
    }
    for (mut node, row) in &mut nodes.p0() {
        let display = if row.0 < actions { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
    }
    for (mut node, fill, mut colour) in &mut nodes.p1() {
        let fraction = match q {
            Some(q) if fill.0 < q.len() => {
                if high > low {
                    (q[fill.0] - low) / (high - low)
                } else {
                    1.0
                }
            }
            _ => 0.0,
        };
        node.width = Val::Px(4.0 + fraction * (BAR_WIDTH - 4.0));
        colour.0 =
            if Some(fill.0) == chosen { Color::srgb(0.95, 0.75, 0.2) } else { Color::srgb(0.35, 0.6, 0.95) };
    }

    // Perceived state beside the ground truth.
    let truth = shown.ground_truth.to_array();
    let perceived = shown.decision.as_ref().and_then(|d| d.perceived).map(|p| p.to_vec());
    let mut state = String::from("state            truth   perceived\n");
    for (k, (name, value)) in DrivingState::NAMES.iter().zip(truth).enumerate() {
        let seen = perceived.map_or("       -".to_string(), |p| format!("{:8.2}", p[k]));
        state.push_str(&format!("{name:<15}{value:8.2}  {seen}\n"));
    }
    set_text(&mut texts.p1(), state.trim_end().to_string());

    // Reload error.
    let error = reload.error.as_deref();
    if let Ok(mut node) = nodes.p2().single_mut() {
        let display = if error.is_some() { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
    }
    if let Some(error) = error {
        set_text(
            &mut texts.p3(),
            format!("scenario reload failed; the last good world keeps running\n{error}"),
        );
    }

    // Help.
    if let Ok(mut node) = nodes.p3().single_mut() {
        let display = if playback.help { Display::Flex } else { Display::None };
        if node.display != display {
            node.display = display;
        }
    }

    // The network's input, or the camera's depth or classes.
    let input = shown.decision.as_ref().and_then(|d| d.input.as_ref());
    let key = (snapshot.generation, snapshot.steps, env);
    if inset.shown != Some(key) {
        inset.shown = Some(key);
        let (label, size) = match (&shown.sensor_picture, input) {
            (Some((what, picture)), _) => {
                if let Some(mut image) = images.get_mut(&inset.handle) {
                    *image = to_rgba_image(picture.width, picture.height, picture.channels, &picture.data);
                }
                (
                    format!("camera {what} {}x{}", picture.width, picture.height),
                    [picture.width, picture.height],
                )
            }
            (None, Some(input)) => {
                if let Some(mut image) = images.get_mut(&inset.handle) {
                    *image = to_rgba_image(input.width, input.height, input.channels, &input.data);
                }
                let kind = if input.channels == 1 { "grey" } else { "RGB" };
                (
                    format!("network input {}x{} {kind}", input.width, input.height),
                    [input.width, input.height],
                )
            }
            (None, None) => ("network input: none (the driver reads the state)".to_string(), [0, 0]),
        };
        set_text(&mut texts.p4(), label);
        if let Ok(mut node) = nodes.p4().single_mut() {
            node.width = Val::Px(size[0] as f32 * INSET_SCALE);
            node.height = Val::Px(size[1] as f32 * INSET_SCALE);
        }
    }
}

fn set_text(query: &mut Query<&mut Text, impl bevy::ecs::query::QueryFilter>, value: String) {
    if let Ok(mut text) = query.single_mut()
        && text.0 != value
    {
        text.0 = value;
    }
}

/// "steer +0.15 thr +0.40" for action `i` of the scenario's set.
fn describe_action(scenario: &lepton_sim::scenario::Scenario, i: usize) -> String {
    scenario
        .actions
        .set
        .get(i)
        .map_or(String::new(), |a| format!("steer {:+.2} thr {:+.2}", a.steer, a.throttle))
}

/// An RGBA image of grey or RGB bytes (a network input, a sensor picture), sampled nearest so
/// pixels stay pixels.
fn to_rgba_image(width: u32, height: u32, channels: u8, pixels: &[u8]) -> Image {
    let mut data = Vec::with_capacity(width as usize * height as usize * 4);
    match channels {
        1 => pixels.iter().for_each(|&v| data.extend_from_slice(&[v, v, v, 255])),
        _ => pixels
            .chunks_exact(channels as usize)
            .for_each(|p| data.extend_from_slice(&[p[0], p[1], p[2], 255])),
    }
    let mut image = Image::new(
        Extent3d { width, height, depth_or_array_layers: 1 },
        TextureDimension::D2,
        data,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::MAIN_WORLD | RenderAssetUsages::RENDER_WORLD,
    );
    image.sampler = ImageSampler::nearest();
    image
}
