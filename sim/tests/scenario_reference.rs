//! The book's scenario reference (docs/src/scenario-reference.md) is generated from the schema's
//! own doc comments and defaults, so it cannot drift from the code: this test generates it and
//! fails when the file differs. `LEPTON_BLESS=1 cargo test -p lepton-sim --test scenario_reference`
//! writes it anew after a change to sim/src/scenario/schema.rs.
//!
//! Each field's row: its name, its type as written in RON, its default (from `Default`, as a file
//! would spell it; "required" where a file must give it) and its doc comment. A doc comment's
//! `Allowed: ...` sentence fills the allowed column; the validator (scenario/validate/) enforces it.

use lepton_sim::scenario::{Junction, Lidar, Network, NetworkRoad, Place, Scenario, VehicleList};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A struct or enum of the schema, as its source declares it.
#[derive(Debug, Default)]
struct Item {
    doc: String,
    is_enum: bool,
    /// Whether missing fields take the struct's `Default` (`#[serde(default)]` on the struct).
    defaulted: bool,
    members: Vec<Member>,
}

/// A field of a struct, or a variant of an enum.
#[derive(Debug, Default)]
struct Member {
    name: String,
    /// The Rust type (a variant's fields, for enums).
    ty: String,
    doc: String,
    /// `#[serde(default)]` on the field itself.
    defaulted: bool,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
}

/// The schema's items, in source order, from its text: a line-based reading that holds for
/// schema.rs's plain layout (one field or variant per line, doc comments above).
fn parse_schema(text: &str) -> Vec<(String, Item)> {
    let mut items = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    let mut attrs = String::new();
    let mut current: Option<(String, Item)> = None;
    // A variant whose fields span lines (`Brake {` ... `},`): its fields so far.
    let mut open_variant: Option<Vec<String>> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(fields) = open_variant.as_mut() {
            if trimmed.starts_with('}') {
                let ty = format!("{{ {} }}", fields.join(", "));
                let item = &mut current.as_mut().expect("inside an enum").1;
                item.members.last_mut().expect("the variant").ty = ty;
                open_variant = None;
            } else if !trimmed.starts_with("#[") && !trimmed.starts_with("//") && !trimmed.is_empty() {
                fields.push(trimmed.trim_end_matches(',').to_string());
            }
            continue;
        }
        if let Some(d) = trimmed.strip_prefix("///") {
            doc.push(d.trim().to_string());
            continue;
        }
        if trimmed.starts_with("#[") {
            attrs.push_str(trimmed);
            continue;
        }
        let take_doc = |doc: &mut Vec<String>| std::mem::take(doc).join(" ");
        if let Some((_, item)) = current.as_mut() {
            if line.starts_with('}') {
                items.push(current.take().unwrap());
            } else if let Some(rest) = trimmed.strip_prefix("pub ") {
                let (name, ty) = rest.split_once(':').expect("a field `pub name: Type,`");
                item.members.push(Member {
                    name: name.trim().into(),
                    ty: ty.trim().trim_end_matches(',').into(),
                    doc: take_doc(&mut doc),
                    defaulted: attrs.contains("serde(default)"),
                });
            } else if item.is_enum && trimmed.chars().next().is_some_and(char::is_uppercase) {
                let end = trimmed.find(['{', '(', ',']).unwrap_or(trimmed.len());
                let fields = trimmed[end..].trim_end_matches(',').trim();
                if fields == "{" {
                    open_variant = Some(Vec::new());
                }
                item.members.push(Member {
                    name: trimmed[..end].trim().into(),
                    ty: fields.into(),
                    doc: take_doc(&mut doc),
                    defaulted: false,
                });
            } else if !trimmed.is_empty() {
                doc.clear();
            }
            attrs.clear();
            continue;
        }
        for (keyword, is_enum) in [("pub struct ", false), ("pub enum ", true)] {
            if let Some(rest) = trimmed.strip_prefix(keyword) {
                let name = rest.trim_end_matches('{').trim().to_string();
                let defaulted = attrs.contains("default");
                current =
                    Some((name, Item { doc: take_doc(&mut doc), is_enum, defaulted, members: Vec::new() }));
            }
        }
        if current.is_none() && !trimmed.is_empty() {
            doc.clear();
        }
        attrs.clear();
    }
    items
}

/// A Rust type as a file writes it, and the schema item it names (if any).
fn ron_type(ty: &str, items: &BTreeMap<&str, &Item>) -> (String, Option<String>) {
    let inner = |prefix: &str| ty.strip_prefix(prefix).and_then(|t| t.strip_suffix('>'));
    if let Some(t) = inner("Vec<") {
        let (shown, item) = ron_type(t, items);
        return (format!("list of {shown}"), item);
    }
    if let Some(t) = inner("Option<") {
        let (shown, item) = ron_type(t, items);
        return (format!("{shown}, optional"), item);
    }
    if ty.starts_with('[') {
        return (format!("`{ty}`"), None);
    }
    match ty {
        "f32" | "f64" | "u32" | "u64" | "usize" | "bool" => (ty.into(), None),
        "String" => ("string".into(), None),
        "[f32; 3]" => ("(f32, f32, f32)".into(), None),
        name if items.contains_key(name) => (format!("`{name}`"), Some(name.into())),
        other => (format!("`{other}`"), None),
    }
}

/// A default value as a RON file spells it.
fn ron(value: &Value) -> String {
    match value {
        Value::Null => "none".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => {
                let f = f as f32;
                if f == f.trunc() && f.abs() < 1e15 { format!("{f:.1}") } else { format!("{f}") }
            }
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(ron).collect::<Vec<_>>().join(", ")),
        Value::Object(o) if o.len() == 1 => {
            let (variant, inner) = o.iter().next().unwrap();
            match inner {
                Value::Object(fields) => format!(
                    "{variant}({})",
                    fields.iter().map(|(k, v)| format!("{k}: {}", ron(v))).collect::<Vec<_>>().join(", ")
                ),
                Value::Array(_) | Value::Number(_) | Value::String(_) | Value::Bool(_) => {
                    format!("{variant}({})", ron(inner).trim_start_matches('[').trim_end_matches(']'))
                }
                Value::Null => variant.clone(),
            }
        }
        Value::Object(o) => {
            format!("({})", o.iter().map(|(k, v)| format!("{k}: {}", ron(v))).collect::<Vec<_>>().join(", "))
        }
    }
}

/// The doc comment without its `Allowed:` sentence, and that sentence's rest.
fn split_allowed(doc: &str) -> (String, String) {
    match doc.split_once("Allowed:") {
        Some((meaning, allowed)) => (meaning.trim().into(), allowed.trim().trim_end_matches('.').into()),
        None => (doc.trim().into(), String::new()),
    }
}

/// The defaults of sections a default scenario leaves out (an optional network or lidar) or has none of
/// (the elements of its lists), from their own `Default`.
fn item_default(name: &str) -> Option<Value> {
    let value = match name {
        "Network" => serde_json::to_value(Network::default()),
        "NetworkRoad" => serde_json::to_value(NetworkRoad::default()),
        "Place" => serde_json::to_value(Place::default()),
        "Junction" => serde_json::to_value(Junction::default()),
        "Lidar" => serde_json::to_value(Lidar::default()),
        "VehicleList" => serde_json::to_value(VehicleList::default()),
        _ => return None,
    };
    Some(value.expect("a default serialises"))
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn generate() -> String {
    let schema = std::fs::read_to_string(manifest_dir().join("src/scenario/schema.rs")).unwrap();
    let parsed = parse_schema(&schema);
    let items: BTreeMap<&str, &Item> = parsed.iter().map(|(n, i)| (n.as_str(), i)).collect();
    let defaults = serde_json::to_value(Scenario::default()).unwrap();

    let mut out = String::from(
        "# Scenario reference\n\n<!-- Generated from sim/src/scenario/schema.rs by sim/tests/scenario_reference.rs \
         (LEPTON_BLESS=1 cargo test -p lepton-sim --test scenario_reference): edit the doc comments there, \
         not this file. -->\n\nEvery section of a scenario file, in the order of `Scenario(...)`, with each field's \
         type, its default (what a file that leaves it out gets) and what it means; the allowed values are what \
         `lepton scenario check` enforces. Units and coordinates are in [Authoring a scenario](scenarios.md).\n",
    );
    // Sections in the order a reader meets them: depth first from Scenario.
    let mut queue: Vec<(String, String, Option<Value>)> =
        vec![("Scenario".into(), "Scenario(...)".into(), Some(defaults))];
    let mut seen = std::collections::BTreeSet::new();
    while let Some((name, path, default)) = queue.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let item = items[name.as_str()];
        let default = default.filter(|d| !d.is_null()).or_else(|| item_default(&name));
        out.push_str(&format!("\n## `{path}`: {name}\n\n"));
        if !item.doc.is_empty() {
            out.push_str(&format!("{}\n\n", item.doc));
        }
        let mut next = Vec::new();
        if item.is_enum {
            out.push_str("| variant | fields | meaning |\n| --- | --- | --- |\n");
            for m in &item.members {
                let fields = if m.ty.is_empty() { String::new() } else { format!("`{}`", m.ty) };
                out.push_str(&format!("| `{}` | {} | {} |\n", m.name, cell(&fields), cell(&m.doc)));
                for word in m.ty.split(|c: char| !c.is_alphanumeric() && c != '_') {
                    if items.contains_key(word) && word != name {
                        next.push((word.to_string(), format!("{path} → {}", m.name), None));
                    }
                }
            }
        } else {
            out.push_str("| field | type | default | allowed | meaning |\n| --- | --- | --- | --- | --- |\n");
            for m in &item.members {
                let (shown, nested) = ron_type(&m.ty, &items);
                let value = default.as_ref().and_then(|d| d.get(&m.name));
                let section =
                    nested.as_deref().is_some_and(|n| !items[n].is_enum) && !m.ty.starts_with("Vec<");
                let default_text = match value {
                    // A section of its own: its fields' defaults are in its table.
                    Some(_) if section => "see its section".into(),
                    // An empty name the validator refuses: the file must give one.
                    Some(Value::String(s)) if s.is_empty() => "required".into(),
                    // A tuple (`(f32, f32)`) serialises as an array; a file writes it in parentheses.
                    Some(Value::Array(a)) if m.ty.starts_with('(') => {
                        format!("`({})`", a.iter().map(ron).collect::<Vec<_>>().join(", "))
                    }
                    Some(v) => format!("`{}`", ron(v)),
                    None if (m.defaulted || item.defaulted) && m.ty.starts_with("Vec<") => "`[]`".into(),
                    None if (m.defaulted || item.defaulted) && m.ty.starts_with("Option<") => "none".into(),
                    None if m.defaulted && m.ty == "bool" => "`false`".into(),
                    None if m.defaulted => "`0.0`".into(),
                    None if item.defaulted => "—".into(),
                    None => "required".into(),
                };
                let (meaning, allowed) = split_allowed(&m.doc);
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    m.name,
                    cell(&shown),
                    cell(&default_text),
                    cell(&allowed),
                    cell(&meaning)
                ));
                if let Some(nested) = nested {
                    let element = m.ty.starts_with("Vec<");
                    let sub_path =
                        if path.ends_with("(...)") { m.name.clone() } else { format!("{path}.{}", m.name) };
                    let sub_path = if element { format!("{sub_path}[i]") } else { sub_path };
                    next.push((nested, sub_path, if element { None } else { value.cloned() }));
                }
            }
        }
        // Depth first, in field order.
        queue.extend(next.into_iter().rev());
    }
    out
}

#[test]
fn the_books_scenario_reference_is_generated_from_the_schema() {
    let path = manifest_dir().join("../docs/src/scenario-reference.md");
    let generated = generate();
    if std::env::var_os("LEPTON_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == generated,
        "{} is not what sim/src/scenario/schema.rs generates: run \
         LEPTON_BLESS=1 cargo test -p lepton-sim --test scenario_reference",
        path.display()
    );
}

#[test]
fn every_field_and_variant_of_the_schema_has_a_row_and_a_meaning() {
    let generated = generate();
    let schema = std::fs::read_to_string(manifest_dir().join("src/scenario/schema.rs")).unwrap();
    let items = parse_schema(&schema);
    assert!(items.len() >= 20, "the schema's items were read ({} found)", items.len());
    for (name, item) in &items {
        assert!(generated.contains(&format!(": {name}\n")), "{name} has a section");
        for m in &item.members {
            assert!(generated.contains(&format!("| `{}` |", m.name)), "{name}.{} has a row", m.name);
        }
    }
    // Defaults are the code's: the road's default lane count, the camera's size.
    assert!(generated.contains("| `lanes` | u32 | `2` |"), "{generated}");
    assert!(generated.contains("| `width` | u32 | `84` |"), "{generated}");
}
