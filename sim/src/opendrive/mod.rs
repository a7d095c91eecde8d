//! OpenDRIVE import: an `.xodr` road network (ASAM OpenDRIVE 1.4–1.8, the subset below) as a
//! Lepton road-network [`Scenario`], plus a note for everything that could not be represented.
//!
//! What becomes what:
//! - A road outside junctions with driving lanes becomes a [`NetworkRoad`](crate::scenario::NetworkRoad):
//!   its plan view (`line`, `arc`, `spiral`, `poly3`, `paramPoly3`) becomes straights and arcs
//!   within [`TOLERANCE_M`] and [`TOLERANCE_DEG`]; its right driving lanes (negative ids) become
//!   `lanes`, its left ones `lanes_back`; `shoulder`/`border` lanes next to them give `shoulder`.
//!   A one-way road whose lanes lie left of its reference line is laid the other way round.
//! - Roads linked directly end to start (no junction) are merged into one Lepton road when their
//!   lanes agree: Lepton joins roads only through junctions, whose connectors need a gap.
//! - A junction's connecting roads become no roads: each `laneLink` is followed through its
//!   connecting road to the lane it leads into, and Lepton lays its own connector (two arcs)
//!   between the two lane ends.
//! - Elevation, superelevation, objects, signals, lane offsets, road marks, speed limits,
//!   non-driving lanes and unknown elements are left out, each kind listed once in
//!   [`Imported::notes`] with a count and the roads it concerns. Left-hand traffic
//!   (`rule="LHT"`) is refused: Lepton's two-way roads drive on the right.
//! - The ego car gets a `Random` route from the longest road whose lanes lead into a junction
//!   (else the longest road), spawning in its lane 0 near its start; everything else is at its
//!   default.
//!
//! The result always passes [`crate::scenario::parse_str`]: what Lepton would reject (a
//! connector that cannot be laid, roads crossing without a junction) is left out with a note,
//! and anything else it rejects is an [`OpenDriveError::Invalid`].
//!
//! ```
//! let text = r#"<OpenDRIVE><header revMajor="1" revMinor="6"/>
//!   <road id="1" length="120" junction="-1">
//!     <planView><geometry s="0" x="0" y="0" hdg="0" length="120"><line/></geometry></planView>
//!     <lanes><laneSection s="0"><center><lane id="0" type="none"/></center>
//!       <right><lane id="-1" type="driving"><width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane></right>
//!     </laneSection></lanes>
//!   </road></OpenDRIVE>"#;
//! let imported = lepton_sim::opendrive::import_str(text, "straight.xodr", "straight")?;
//! let network = imported.scenario.network.as_ref().expect("a network");
//! assert_eq!((network.roads[0].name.as_str(), network.roads[0].lanes), ("r1", 1));
//! # Ok::<(), lepton_sim::opendrive::OpenDriveError>(())
//! ```

mod convert;
mod geometry;
mod junctions;
mod lanes;
mod notes;
mod xml;

pub use geometry::{TOLERANCE_DEG, TOLERANCE_M};

use crate::scenario::Scenario;
use std::collections::HashSet;
use std::path::Path;

/// An imported network and what of the file it leaves out.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// A network scenario that passes validation: the roads, junctions, an ego route and spawn,
    /// every other field at its default.
    pub scenario: Scenario,
    /// What could not be represented, one line each (the CLI prints them as `note: ...`).
    pub notes: Vec<String>,
}

/// Why a file cannot be imported. Displays as `FILE:LINE: ELEMENT: message` where an element of
/// the file is at fault (element paths count repeated children from 0, as scenario field paths
/// do: `road id="5" / planView / geometry[2]` is the third geometry).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpenDriveError {
    /// The file could not be read.
    #[error("{file}: {message}")]
    Io { file: String, message: String },
    /// Not well-formed XML.
    #[error("{file}:{line}:{column}: XML syntax error: {message}")]
    Syntax { file: String, line: u32, column: u32, message: String },
    /// An element is malformed or names something that does not exist, or the file has nothing
    /// Lepton can drive on.
    #[error("{file}:{line}: {element}: {message}")]
    Element { file: String, line: u32, element: String, message: String },
    /// The converted network is one Lepton rejects (the scenario validator's words).
    #[error("{file}: the imported network is not one Lepton accepts:\n{message}")]
    Invalid { file: String, message: String },
}

/// Imports OpenDRIVE text; `origin` names it in errors, `name` becomes the scenario's name
/// (characters other than letters, digits, `_` and `-` become `_`).
pub fn import_str(text: &str, origin: &str, name: &str) -> Result<Imported, OpenDriveError> {
    convert::convert(text, &scenario_name(name)).map_err(|fault| fault.in_file(origin))
}

/// Imports an `.xodr` file, naming the scenario after the file's stem.
pub fn import(path: &Path) -> Result<Imported, OpenDriveError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| OpenDriveError::Io { file: file.clone(), message: e.to_string() })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    import_str(&text, &file, &stem)
}

/// What went wrong, before the file's name is known to it.
#[derive(Debug, Clone, PartialEq)]
enum Fault {
    Syntax { line: u32, column: u32, message: String },
    At { line: u32, element: String, message: String },
    Invalid(String),
}

impl Fault {
    /// A fault of the element at `loc`.
    fn at(loc: &xml::Loc, message: impl Into<String>) -> Self {
        Fault::At { line: loc.line, element: loc.path.clone(), message: message.into() }
    }

    fn in_file(self, file: &str) -> OpenDriveError {
        let file = file.to_string();
        match self {
            Fault::Syntax { line, column, message } => OpenDriveError::Syntax { file, line, column, message },
            Fault::At { line, element, message } => OpenDriveError::Element { file, line, element, message },
            Fault::Invalid(message) => OpenDriveError::Invalid { file, message },
        }
    }
}

/// A scenario name from a file stem: at most 100 letters, digits, `_` or `-`.
fn scenario_name(stem: &str) -> String {
    let name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .take(100)
        .collect();
    if name.is_empty() { "opendrive".to_string() } else { name }
}

/// A name for a road or junction: `preferred` when it is 1 to 40 letters, digits, `_` or `-`,
/// else `fallback` with other characters replaced by `_` and cut to 40.
fn lepton_name(preferred: Option<&str>, fallback: &str) -> String {
    let valid = |s: &str| {
        !s.is_empty() && s.len() <= 40 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    match preferred {
        Some(name) if valid(name) => name.to_string(),
        _ => fallback
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
            .take(40)
            .collect(),
    }
}

/// A name from `preferred` (else `fallback`, see [`lepton_name`]) that is not in `taken` yet,
/// `_2`, `_3`, ... appended while it is; recorded in `taken`.
fn unique_name(preferred: Option<&str>, fallback: &str, taken: &mut HashSet<String>) -> String {
    let mut name = lepton_name(preferred, fallback);
    if taken.contains(&name) {
        name = lepton_name(None, fallback);
    }
    let base: String = name.chars().take(34).collect();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_only_what_lepton_allows() {
        assert_eq!(scenario_name("Town 01.v2"), "Town_01_v2");
        assert_eq!(scenario_name(""), "opendrive");
        assert_eq!(lepton_name(Some("Main_St"), "r1"), "Main_St");
        assert_eq!(lepton_name(Some("Main St"), "r1"), "r1");
        assert_eq!(lepton_name(None, "r a/b"), "r_a_b");
        assert_eq!(lepton_name(None, &"r".repeat(50)).len(), 40);
    }
}
