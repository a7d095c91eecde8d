//! Reading OpenDRIVE XML into plain structs, each element with its line and path for messages.
//!
//! Only what the import uses is kept; every other element is tallied in the notes as it is
//! read, so nothing is dropped unseen. Attributes the import needs are required (an error names
//! the element and line); numbers must be finite.

use super::Fault;
use super::notes::Notes;
use roxmltree::Node;

/// Where an element is: its line (from 1) and its path from the root, e.g.
/// `road id="5" / planView / geometry[2]`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Loc {
    pub line: u32,
    pub path: String,
}

/// The file: its roads and junctions.
#[derive(Debug)]
pub(super) struct Document {
    /// The `OpenDRIVE` element.
    pub root: Loc,
    pub roads: Vec<Road>,
    pub junctions: Vec<Junction>,
}

#[derive(Debug)]
pub(super) struct Road {
    pub loc: Loc,
    pub id: String,
    pub name: Option<String>,
    pub length: f64,
    /// The junction it belongs to (a connecting road), `None` for `junction="-1"`.
    pub junction: Option<String>,
    /// `rule="LHT"`: left-hand traffic.
    pub left_hand: bool,
    pub predecessor: Option<Link>,
    pub successor: Option<Link>,
    /// The `planView` element (the road's, when it has none).
    pub plan_view: Loc,
    pub geometries: Vec<Geometry>,
    pub sections: Vec<Section>,
}

/// Which end of a road.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Contact {
    Start,
    End,
}

impl Contact {
    pub(super) fn other(self) -> Self {
        match self {
            Contact::Start => Contact::End,
            Contact::End => Contact::Start,
        }
    }

    pub(super) fn word(self) -> &'static str {
        match self {
            Contact::Start => "start",
            Contact::End => "end",
        }
    }
}

/// A road's `link/predecessor` or `link/successor`.
#[derive(Debug, Clone)]
pub(super) struct Link {
    pub loc: Loc,
    pub target: LinkTarget,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum LinkTarget {
    /// A road, and which of its ends touches (when the file says).
    Road {
        id: String,
        contact: Option<Contact>,
    },
    Junction {
        id: String,
    },
}

/// One `planView/geometry`: a piece of the reference line from (x, y) heading `hdg` (radians).
#[derive(Debug, Clone)]
pub(super) struct Geometry {
    pub loc: Loc,
    pub s: f64,
    pub x: f64,
    pub y: f64,
    pub hdg: f64,
    pub length: f64,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Line,
    Arc {
        curvature: f64,
    },
    Spiral {
        start: f64,
        end: f64,
    },
    /// v(u) = a + b u + c u² + d u³ in the geometry's local frame.
    Poly3 {
        a: f64,
        b: f64,
        c: f64,
        d: f64,
    },
    /// u(p), v(p), coefficients a to d; p in [0, length] or, `normalized`, in [0, 1].
    ParamPoly3 {
        u: [f64; 4],
        v: [f64; 4],
        normalized: bool,
    },
}

impl Kind {
    pub(super) fn word(&self) -> &'static str {
        match self {
            Kind::Line => "line",
            Kind::Arc { .. } => "arc",
            Kind::Spiral { .. } => "spiral",
            Kind::Poly3 { .. } => "poly3",
            Kind::ParamPoly3 { .. } => "paramPoly3",
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Section {
    pub loc: Loc,
    pub s: f64,
    /// Left lanes (positive ids) and right lanes (negative ids), as in the file.
    pub left: Vec<Lane>,
    pub right: Vec<Lane>,
}

impl Section {
    /// The lane with id `id` (not the centre lane).
    pub(super) fn lane(&self, id: i32) -> Option<&Lane> {
        let side = if id > 0 { &self.left } else { &self.right };
        side.iter().find(|l| l.id == id)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Lane {
    pub loc: Loc,
    pub id: i32,
    /// The lane's `type`: `driving`, `sidewalk`, `shoulder`, ...
    pub kind: String,
    pub widths: Vec<Width>,
    /// The lane it continues from and into (`link/predecessor|successor id`), with where the
    /// link is written.
    pub predecessor: Option<(i32, Loc)>,
    pub successor: Option<(i32, Loc)>,
}

impl Lane {
    pub(super) fn driving(&self) -> bool {
        self.kind == "driving"
    }

    /// The width `ds` metres after its section's start (0 without width records).
    pub(super) fn width_at(&self, ds: f64) -> f64 {
        let record = self.widths.iter().rev().find(|w| w.s_offset <= ds).or(self.widths.first());
        record.map_or(0.0, |w| {
            let t = ds - w.s_offset;
            w.a + t * (w.b + t * (w.c + t * w.d))
        })
    }
}

/// A `width` record: a + b t + c t² + d t³, t from `s_offset`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Width {
    pub s_offset: f64,
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
}

#[derive(Debug)]
pub(super) struct Junction {
    pub loc: Loc,
    pub id: String,
    pub name: Option<String>,
    pub connections: Vec<Connection>,
}

#[derive(Debug)]
pub(super) struct Connection {
    pub loc: Loc,
    pub incoming: String,
    /// The connecting road; `None` for a direct junction's `linkedRoad`.
    pub connecting: Option<String>,
    /// Which end of the connecting road touches the incoming road.
    pub contact: Option<Contact>,
    pub lane_links: Vec<LaneLink>,
}

#[derive(Debug)]
pub(super) struct LaneLink {
    pub loc: Loc,
    pub from: i32,
    pub to: i32,
}

/// Why a thing is left out, for the notes.
const NOT_MODELLED: &str = "not modelled";

/// Parses the text; tallies what it leaves out in `notes`.
pub(super) fn read(text: &str, notes: &mut Notes) -> Result<Document, Fault> {
    // A byte-order mark is no XML: files saved by some editors start with one.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..roxmltree::ParsingOptions::default() };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| {
        let pos = e.pos();
        let message = e.to_string();
        // roxmltree ends most messages with " at LINE:COL", which the error already says.
        let message = message.strip_suffix(&format!(" at {pos}")).unwrap_or(&message).to_string();
        Fault::Syntax { line: pos.row, column: pos.col, message }
    })?;
    let reader = Reader { lines: line_starts(text) };
    reader.document(doc.root_element(), notes)
}

/// Byte offsets where lines start: a line number by binary search, where roxmltree's own
/// `text_pos_at` scans from the start for every call.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

struct Reader {
    lines: Vec<usize>,
}

/// The element children of a node.
fn elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(|n| n.is_element())
}

fn tag<'a>(node: Node<'a, '_>) -> &'a str {
    node.tag_name().name()
}

impl Reader {
    fn loc(&self, node: Node, path: String) -> Loc {
        let line = self.lines.partition_point(|&start| start <= node.range().start);
        Loc { line: u32::try_from(line).unwrap_or(u32::MAX), path }
    }

    /// The loc of a child element: `parent / tag`.
    fn child(&self, node: Node, parent: &Loc, name: &str) -> Loc {
        self.loc(node, format!("{} / {name}", parent.path))
    }

    fn document(&self, root: Node, notes: &mut Notes) -> Result<Document, Fault> {
        let loc = self.loc(root, tag(root).to_string());
        if tag(root) != "OpenDRIVE" {
            return Err(Fault::at(
                &loc,
                format!("the root element is <{}>: an OpenDRIVE file's is <OpenDRIVE>", tag(root)),
            ));
        }
        let mut document = Document { root: loc, roads: Vec::new(), junctions: Vec::new() };
        let (mut roads, mut junctions) = (0, 0);
        for node in elements(root) {
            match tag(node) {
                "header" => self.header(node, notes)?,
                "road" => {
                    document.roads.push(self.road(node, roads, notes)?);
                    roads += 1;
                }
                "junction" => {
                    document.junctions.push(self.junction(node, junctions, notes)?);
                    junctions += 1;
                }
                "controller" => notes.count("controller", "controllers", NOT_MODELLED, None),
                other => notes.count(
                    &format!("<{other}> element"),
                    &format!("<{other}> elements"),
                    NOT_MODELLED,
                    None,
                ),
            }
        }
        Ok(document)
    }

    fn header(&self, node: Node, notes: &mut Notes) -> Result<(), Fault> {
        let loc = self.loc(node, "header".into());
        let major = optional_int(node, &loc, "revMajor")?;
        let minor = optional_int(node, &loc, "revMinor")?;
        if let (Some(major), Some(minor)) = (major, minor)
            && (major != 1 || !(4..=8).contains(&minor))
        {
            notes.line(format!(
                "header: the file says OpenDRIVE {major}.{minor}; this import reads the 1.4 to 1.8 subset"
            ));
        }
        for child in elements(node) {
            match tag(child) {
                "geoReference" => notes.line(
                    "header: geoReference is ignored: x and y are taken as metres on a flat plane"
                        .to_string(),
                ),
                "offset" => {
                    notes.line("header: offset is ignored: coordinates are used as written".to_string())
                }
                other => notes.count(
                    &format!("header <{other}> element"),
                    &format!("header <{other}> elements"),
                    NOT_MODELLED,
                    None,
                ),
            }
        }
        Ok(())
    }

    fn road(&self, node: Node, index: usize, notes: &mut Notes) -> Result<Road, Fault> {
        let path = match node.attribute("id") {
            Some(id) => format!("road id={id:?}"),
            None => format!("road[{index}]"),
        };
        let loc = self.loc(node, path);
        let id = required(node, &loc, "id")?.to_string();
        let junction = required(node, &loc, "junction")?.trim();
        let mut road = Road {
            id: id.clone(),
            name: node.attribute("name").filter(|n| !n.is_empty()).map(str::to_string),
            length: number(node, &loc, "length")?,
            junction: (junction != "-1").then(|| junction.to_string()),
            left_hand: node.attribute("rule").is_some_and(|r| r.eq_ignore_ascii_case("LHT")),
            predecessor: None,
            successor: None,
            plan_view: Loc { line: loc.line, path: format!("{} / planView", loc.path) },
            geometries: Vec::new(),
            sections: Vec::new(),
            loc,
        };
        let on = Some(id.as_str());
        for child in elements(node) {
            match tag(child) {
                "link" => self.road_link(child, &mut road)?,
                "planView" => {
                    road.plan_view = self.child(child, &road.loc, "planView");
                    for (k, g) in elements(child).filter(|g| tag(*g) == "geometry").enumerate() {
                        road.geometries.push(self.geometry(g, &road.plan_view, k)?);
                    }
                }
                "lanes" => self.lanes(child, &mut road, notes)?,
                "type" => notes.count("road type record", "road type records", NOT_MODELLED, on),
                "elevationProfile" => {
                    let sloped = elements(child).filter(|e| nonzero_polynomial(*e)).count();
                    notes.add(
                        "elevation record",
                        "elevation records",
                        "not modelled: Lepton roads are flat",
                        on,
                        sloped,
                    );
                }
                "lateralProfile" => {
                    for e in elements(child).filter(|e| nonzero_polynomial(*e)) {
                        let name = tag(e);
                        notes.count(
                            &format!("{name} record"),
                            &format!("{name} records"),
                            "not modelled: Lepton roads are flat across",
                            on,
                        );
                    }
                }
                "objects" => {
                    notes.add("object", "objects", NOT_MODELLED, on, elements(child).count());
                }
                "signals" => {
                    notes.add("signal", "signals", NOT_MODELLED, on, elements(child).count());
                }
                other => notes.count(
                    &format!("road <{other}> element"),
                    &format!("road <{other}> elements"),
                    NOT_MODELLED,
                    on,
                ),
            }
        }
        Ok(road)
    }

    fn road_link(&self, node: Node, road: &mut Road) -> Result<(), Fault> {
        let parent = self.child(node, &road.loc, "link");
        for child in elements(node) {
            let which = tag(child);
            if which != "predecessor" && which != "successor" {
                // `neighbor` (1.4) says nothing about driving from one road into another.
                continue;
            }
            let loc = self.child(child, &parent, which);
            let id = required(child, &loc, "elementId")?.to_string();
            let target = match required(child, &loc, "elementType")? {
                "road" => {
                    let contact = match child.attribute("contactPoint") {
                        None => None,
                        Some(_) => Some(contact(child, &loc, "contactPoint")?),
                    };
                    LinkTarget::Road { id, contact }
                }
                "junction" => LinkTarget::Junction { id },
                other => {
                    return Err(Fault::at(
                        &loc,
                        format!("elementType={other:?} is neither \"road\" nor \"junction\""),
                    ));
                }
            };
            let link = Some(Link { loc, target });
            if which == "predecessor" {
                road.predecessor = link;
            } else {
                road.successor = link;
            }
        }
        Ok(())
    }

    fn geometry(&self, node: Node, plan_view: &Loc, k: usize) -> Result<Geometry, Fault> {
        let loc = self.child(node, plan_view, &format!("geometry[{k}]"));
        let mut kind = None;
        for child in elements(node) {
            let name = tag(child);
            let at = self.child(child, &loc, name);
            let n = |attr: &str| number(child, &at, attr);
            let this = match name {
                "line" => Kind::Line,
                "arc" => Kind::Arc { curvature: n("curvature")? },
                "spiral" => Kind::Spiral { start: n("curvStart")?, end: n("curvEnd")? },
                "poly3" => Kind::Poly3 { a: n("a")?, b: n("b")?, c: n("c")?, d: n("d")? },
                "paramPoly3" => Kind::ParamPoly3 {
                    u: [n("aU")?, n("bU")?, n("cU")?, n("dU")?],
                    v: [n("aV")?, n("bV")?, n("cV")?, n("dV")?],
                    normalized: match child.attribute("pRange").unwrap_or("normalized") {
                        "normalized" => true,
                        "arcLength" => false,
                        other => {
                            return Err(Fault::at(
                                &at,
                                format!("pRange={other:?} is neither \"arcLength\" nor \"normalized\""),
                            ));
                        }
                    },
                },
                other => {
                    return Err(Fault::at(
                        &at,
                        format!(
                            "unknown geometry kind <{other}> (expected line, arc, spiral, poly3 or paramPoly3)"
                        ),
                    ));
                }
            };
            if kind.replace(this).is_some() {
                return Err(Fault::at(&at, "a geometry has one shape: this is its second"));
            }
        }
        let Some(kind) = kind else {
            return Err(Fault::at(&loc, "has no shape (line, arc, spiral, poly3 or paramPoly3)"));
        };
        let length = number(node, &loc, "length")?;
        if length < 0.0 {
            return Err(Fault::at(&loc, format!("length={length} is negative")));
        }
        Ok(Geometry {
            s: number(node, &loc, "s")?,
            x: number(node, &loc, "x")?,
            y: number(node, &loc, "y")?,
            hdg: number(node, &loc, "hdg")?,
            length,
            kind,
            loc,
        })
    }

    fn lanes(&self, node: Node, road: &mut Road, notes: &mut Notes) -> Result<(), Fault> {
        let lanes = self.child(node, &road.loc, "lanes");
        let on = Some(road.id.as_str());
        let mut sections = 0;
        for child in elements(node) {
            match tag(child) {
                "laneSection" => {
                    let loc = self.child(child, &lanes, &format!("laneSection[{sections}]"));
                    sections += 1;
                    let mut section =
                        Section { s: number(child, &loc, "s")?, left: Vec::new(), right: Vec::new(), loc };
                    for side in elements(child) {
                        let side_name = tag(side);
                        if !matches!(side_name, "left" | "center" | "right") {
                            notes.count(
                                &format!("laneSection <{side_name}> element"),
                                &format!("laneSection <{side_name}> elements"),
                                NOT_MODELLED,
                                on,
                            );
                            continue;
                        }
                        let side_loc = self.child(side, &section.loc, side_name);
                        for lane in elements(side).filter(|l| tag(*l) == "lane") {
                            let lane = self.lane(lane, &side_loc, road, notes)?;
                            match side_name {
                                "left" if lane.id > 0 => section.left.push(lane),
                                "right" if lane.id < 0 => section.right.push(lane),
                                "center" if lane.id == 0 => {}
                                _ => {
                                    return Err(Fault::at(
                                        &lane.loc,
                                        format!(
                                            "lane id {} does not belong in <{side_name}> (left lanes have \
                                             positive ids, right lanes negative, the centre lane 0)",
                                            lane.id
                                        ),
                                    ));
                                }
                            }
                        }
                    }
                    road.sections.push(section);
                }
                "laneOffset" => {
                    if nonzero_polynomial(child) {
                        notes.count(
                            "non-zero laneOffset record",
                            "non-zero laneOffset records",
                            "not modelled: lanes are laid from the reference line",
                            on,
                        );
                    }
                }
                other => notes.count(
                    &format!("lanes <{other}> element"),
                    &format!("lanes <{other}> elements"),
                    NOT_MODELLED,
                    on,
                ),
            }
        }
        Ok(())
    }

    fn lane(&self, node: Node, side: &Loc, road: &Road, notes: &mut Notes) -> Result<Lane, Fault> {
        let loc = match node.attribute("id") {
            Some(id) => self.child(node, side, &format!("lane id={id:?}")),
            None => self.child(node, side, "lane"),
        };
        let on = Some(road.id.as_str());
        let mut lane = Lane {
            id: integer(node, &loc, "id")?,
            kind: required(node, &loc, "type")?.to_string(),
            widths: Vec::new(),
            predecessor: None,
            successor: None,
            loc,
        };
        let mut widths = 0;
        for child in elements(node) {
            match tag(child) {
                "width" => {
                    let at = self.child(child, &lane.loc, &format!("width[{widths}]"));
                    widths += 1;
                    let n = |attr: &str| number(child, &at, attr);
                    lane.widths.push(Width {
                        s_offset: n("sOffset")?,
                        a: n("a")?,
                        b: n("b")?,
                        c: n("c")?,
                        d: n("d")?,
                    });
                }
                "link" => {
                    let link = self.child(child, &lane.loc, "link");
                    for end in elements(child) {
                        let which = tag(end);
                        let at = self.child(end, &link, which);
                        match which {
                            "predecessor" => lane.predecessor = Some((integer(end, &at, "id")?, at)),
                            "successor" => lane.successor = Some((integer(end, &at, "id")?, at)),
                            _ => {}
                        }
                    }
                }
                "roadMark" => notes.count(
                    "road mark record",
                    "road mark records",
                    "not modelled: Lepton marks every lane alike",
                    on,
                ),
                "speed" => notes.count("lane speed limit", "lane speed limits", NOT_MODELLED, on),
                "border" => notes.count(
                    "lane border record",
                    "lane border records",
                    "not modelled: lane widths come from width records",
                    on,
                ),
                other => notes.count(
                    &format!("lane <{other}> record"),
                    &format!("lane <{other}> records"),
                    NOT_MODELLED,
                    on,
                ),
            }
        }
        lane.widths.sort_by(|a, b| a.s_offset.total_cmp(&b.s_offset));
        Ok(lane)
    }

    fn junction(&self, node: Node, index: usize, notes: &mut Notes) -> Result<Junction, Fault> {
        let path = match node.attribute("id") {
            Some(id) => format!("junction id={id:?}"),
            None => format!("junction[{index}]"),
        };
        let loc = self.loc(node, path);
        let mut junction = Junction {
            id: required(node, &loc, "id")?.to_string(),
            name: node.attribute("name").filter(|n| !n.is_empty()).map(str::to_string),
            connections: Vec::new(),
            loc,
        };
        if let Some(kind) = node.attribute("type").filter(|t| *t != "default") {
            notes.count(
                &format!("{kind} junction"),
                &format!("{kind} junctions"),
                "imported as ordinary junctions",
                None,
            );
        }
        let mut connections = 0;
        for child in elements(node) {
            match tag(child) {
                "connection" => {
                    let loc = self.child(child, &junction.loc, &format!("connection[{connections}]"));
                    connections += 1;
                    junction.connections.push(self.connection(child, loc)?);
                }
                other => notes.count(
                    &format!("junction <{other}> element"),
                    &format!("junction <{other}> elements"),
                    NOT_MODELLED,
                    None,
                ),
            }
        }
        Ok(junction)
    }

    fn connection(&self, node: Node, loc: Loc) -> Result<Connection, Fault> {
        let connecting = node.attribute("connectingRoad").or(node.attribute("linkedRoad"));
        if connecting.is_none() {
            return Err(Fault::at(&loc, "missing attribute \"connectingRoad\""));
        }
        let mut connection = Connection {
            incoming: required(node, &loc, "incomingRoad")?.to_string(),
            connecting: node.attribute("connectingRoad").map(str::to_string),
            contact: match node.attribute("contactPoint") {
                None => None,
                Some(_) => Some(contact(node, &loc, "contactPoint")?),
            },
            lane_links: Vec::new(),
            loc,
        };
        for (k, child) in elements(node).filter(|c| tag(*c) == "laneLink").enumerate() {
            let at = self.child(child, &connection.loc, &format!("laneLink[{k}]"));
            connection.lane_links.push(LaneLink {
                from: integer(child, &at, "from")?,
                to: integer(child, &at, "to")?,
                loc: at,
            });
        }
        Ok(connection)
    }
}

fn required<'a>(node: Node<'a, '_>, loc: &Loc, name: &str) -> Result<&'a str, Fault> {
    node.attribute(name).ok_or_else(|| Fault::at(loc, format!("missing attribute {name:?}")))
}

/// A finite number.
fn number(node: Node, loc: &Loc, name: &str) -> Result<f64, Fault> {
    let text = required(node, loc, name)?;
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(Fault::at(loc, format!("attribute {name}={text:?} is not a finite number"))),
    }
}

fn integer(node: Node, loc: &Loc, name: &str) -> Result<i32, Fault> {
    let text = required(node, loc, name)?;
    text.trim()
        .parse()
        .map_err(|_| Fault::at(loc, format!("attribute {name}={text:?} is not a whole number")))
}

fn optional_int(node: Node, loc: &Loc, name: &str) -> Result<Option<i32>, Fault> {
    if node.attribute(name).is_none() {
        return Ok(None);
    }
    integer(node, loc, name).map(Some)
}

fn contact(node: Node, loc: &Loc, name: &str) -> Result<Contact, Fault> {
    match required(node, loc, name)? {
        "start" => Ok(Contact::Start),
        "end" => Ok(Contact::End),
        other => Err(Fault::at(loc, format!("{name}={other:?} is neither \"start\" nor \"end\""))),
    }
}

/// Whether a record's polynomial (`a`, `b`, `c`, `d`, or `height` for `shape`) is anything but
/// zero: a flat record needs no note. Unreadable numbers count as non-zero.
fn nonzero_polynomial(node: Node) -> bool {
    ["a", "b", "c", "d", "height"]
        .iter()
        .filter_map(|name| node.attribute(*name))
        .any(|text| text.trim().parse::<f64>() != Ok(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_from_one_and_paths_name_the_element() {
        let text = "<OpenDRIVE>\n<road id=\"7\" length=\"10\" junction=\"-1\">\n<planView>\n\
                    <geometry s=\"0\" x=\"1\" y=\"2\" hdg=\"0.5\" length=\"10\">\n<line/>\n</geometry>\n\
                    </planView>\n</road>\n</OpenDRIVE>\n";
        let mut notes = Notes::default();
        let doc = read(text, &mut notes).unwrap();
        let road = &doc.roads[0];
        assert_eq!((road.loc.line, road.loc.path.as_str()), (2, "road id=\"7\""));
        let g = &road.geometries[0];
        assert_eq!((g.loc.line, g.loc.path.as_str()), (4, "road id=\"7\" / planView / geometry[0]"));
        assert_eq!((g.x, g.y, g.hdg, g.length, g.kind), (1.0, 2.0, 0.5, 10.0, Kind::Line));
    }

    #[test]
    fn widths_are_piecewise_cubics_from_their_offsets() {
        let w = |s_offset, a, b| Width { s_offset, a, b, c: 0.0, d: 0.0 };
        let lane = Lane {
            loc: Loc { line: 1, path: String::new() },
            id: -1,
            kind: "driving".into(),
            widths: vec![w(0.0, 3.0, 0.1), w(10.0, 4.0, 0.0)],
            predecessor: None,
            successor: None,
        };
        assert!((lane.width_at(5.0) - 3.5).abs() < 1e-12);
        assert!((lane.width_at(12.0) - 4.0).abs() < 1e-12);
    }
}
