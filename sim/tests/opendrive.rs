//! OpenDRIVE import end to end: the sample files under `tests/opendrive/` become network
//! scenarios that validate and lay out, their geometry ends where the OpenDRIVE geometry ends,
//! their lanes and junction connections follow the file's, what is left out is noted, and
//! malformed files are refused with the element and line at fault.

use lepton_sim::network::Network as Laid;
use lepton_sim::opendrive::{self, Imported, OpenDriveError, TOLERANCE_DEG, TOLERANCE_M};
use lepton_sim::road::{PlanePose, RoadGeometry, wrap_angle};
use lepton_sim::scenario::{Connection, LaneEnd, NetworkRoad, Road, Route, Scenario, parse_str, to_ron};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn samples() -> PathBuf {
    // Where cargo runs the test from, not where it was built: a target folder shared by clones
    // at other paths keeps a test binary built elsewhere when the sources are the same.
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or(PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    crate_dir.join("tests/opendrive")
}

fn import(file: &str) -> Imported {
    opendrive::import(&samples().join(file)).unwrap_or_else(|e| panic!("{e}"))
}

fn road<'a>(scenario: &'a Scenario, name: &str) -> &'a NetworkRoad {
    let network = scenario.network.as_ref().expect("an imported scenario is a network");
    network.roads.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no road {name} in {network:#?}"))
}

#[track_caller]
fn assert_noted(notes: &[String], fragment: &str) {
    assert!(notes.iter().any(|n| n.contains(fragment)), "no note mentions {fragment:?}: {notes:#?}");
}

/// A road's centre line laid as Lepton lays it (the road's own direction).
fn laid(road: &NetworkRoad) -> RoadGeometry {
    let start = PlanePose { x: road.start.x, y: road.start.y, heading: road.start.heading.to_radians() };
    let as_road = Road {
        segments: road.segments.clone(),
        lanes: road.lanes,
        lane_width: road.lane_width,
        shoulder: road.shoulder,
        ..Road::default()
    };
    RoadGeometry::laid_from(&as_road, start)
}

#[test]
fn every_opendrive_sample_imports_validates_and_lays_out() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(samples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xodr"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let imported = opendrive::import(&file).unwrap_or_else(|e| panic!("{e}"));
        let stem = file.file_stem().unwrap().to_str().unwrap();
        assert_eq!(imported.scenario.name, stem);
        let text = to_ron(&imported.scenario);
        let parsed = parse_str(&text, stem).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let network = Laid::new(&parsed).unwrap_or_else(|e| panic!("{}: {e}", e.path()));
        let connections: usize =
            parsed.network.as_ref().unwrap().junctions.iter().map(|j| j.connect.len()).sum();
        assert_eq!(network.connectors.len(), connections, "{stem}: every connection has a connector");
        assert!(network.overlaps().is_empty(), "{stem}");
        assert!(matches!(parsed.ego.route, Some(Route::Random { .. })), "{stem}");
    }
}

#[test]
fn an_opendrive_t_junctions_lane_links_become_lepton_connections() {
    let imported = import("t_junction.xodr");
    let scenario = &imported.scenario;
    let network = scenario.network.as_ref().unwrap();
    // "South Road" is no Lepton name: the road is named after its id. Connecting roads are no
    // roads.
    let names: Vec<&str> = network.roads.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["West", "East", "r3"]);
    for r in &network.roads {
        assert_eq!((r.lanes, r.lanes_back, r.lane_width), (1, 1, 3.5), "{}", r.name);
    }
    // West's 0.5 m shoulder on one side and a sidewalk on the other: a 0.25 m shoulder.
    assert!((road(scenario, "West").shoulder - 0.25).abs() < 1e-6);
    assert_eq!(road(scenario, "r3").start.heading, 90.0);

    assert_eq!(network.junctions.len(), 1);
    let junction = &network.junctions[0];
    assert_eq!(junction.name, "Crossing");
    let lane = |road: &str, back: bool| LaneEnd { road: road.into(), lane: 0, back };
    let expected: HashSet<Connection> = [
        // Straight on, both ways (connecting road 101; its lane 1 written from East's side).
        (lane("West", false), lane("East", false)),
        (lane("East", true), lane("West", true)),
        // From the south arm: right into East, left into West's lanes back.
        (lane("r3", false), lane("East", false)),
        (lane("r3", false), lane("West", true)),
        // Into the south arm's lanes back: East turning left, West turning right.
        (lane("East", true), lane("r3", true)),
        (lane("West", false), lane("r3", true)),
    ]
    .into_iter()
    .map(|(from, to)| Connection { from, to })
    .collect();
    assert_eq!(junction.connect.len(), expected.len(), "{:#?}", junction.connect);
    assert_eq!(junction.connect.iter().cloned().collect::<HashSet<_>>(), expected);

    // The ego starts on the longest road that leads into the junction: West (the first of two).
    assert_eq!(scenario.ego.route, Some(Route::Random { from: "West".into() }));
    assert_eq!((scenario.ego.spawn.lane, scenario.ego.spawn.s), (0, 9.0));

    // Lepton's connectors join the lane ends: straight on is the 20 m across the junction.
    let laid = Laid::new(scenario).unwrap();
    let straight = laid
        .connectors
        .iter()
        .map(|c| &c.connector)
        .find(|c| laid.carriageway_name(c.from.road) == "West" && laid.carriageway_name(c.to.road) == "East")
        .expect("a connector from West to East");
    assert!((straight.geometry.length() - 20.0).abs() < 1e-3, "{}", straight.geometry.length());

    let notes = &imported.notes;
    for fragment in [
        "1 elevation record (road 1) is not modelled",
        "2 objects (road 1) are not modelled",
        "1 signal (road 1) is not modelled",
        "sidewalk lanes (roads 1, 2, 3) are not modelled",
        "5 connecting roads (roads 101, 102, 103, 104, 105) are replaced by Lepton's own connectors",
        "1 junction lane link between non-driving lanes is left out",
        "junction <priority> element",
    ] {
        assert_noted(notes, fragment);
    }
}

/// The end of every geometry of `curves.xodr` (x, y, heading in radians), by fine integration
/// outside Lepton: each is where the file's next geometry starts, the last where the road ends.
const CURVE_ENDS: [(f64, f64, f64); 8] = [
    (28.660094673768178, 8.865606199840187, 0.3),
    (64.70846464865039, 25.535870882611494, 0.7),
    (80.67548955762548, 50.403038815606536, 1.3),
    (81.70348707274846, 100.18455738468035, 1.55),
    (84.77479581665632, 140.12932753797568, 1.5020368131229231),
    (87.21242609396492, 190.07988267634374, 1.5020368131229231),
    (89.00241289363659, 230.03784915057818, 1.5340312752905352),
    (89.92133213615207, 255.02095519097546, 1.5340312752905352),
];

#[test]
fn curves_end_where_the_opendrive_geometry_ends() {
    let imported = import("curves.xodr");
    let curvy = road(&imported.scenario, "Curvy");
    // One way, two 3.25 m lanes right of the reference line: Lepton's centre line runs down the
    // middle of them, 3.25 m right of OpenDRIVE's reference line.
    assert_eq!((curvy.lanes, curvy.lanes_back, curvy.lane_width), (2, 0, 3.25));
    assert!((curvy.shoulder - 0.3).abs() < 1e-6, "the border lane is the shoulder: {}", curvy.shoulder);
    let geometry = laid(curvy);
    let reference = 3.25f32;
    let start = geometry.pose(0.0, reference);
    assert!(start.x.abs() < 1e-4 && start.y.abs() < 1e-4 && (start.heading - 0.3).abs() < 1e-6, "{start:?}");
    for (i, &(x, y, heading)) in CURVE_ENDS.iter().enumerate() {
        // Where Lepton's road passes the geometry's end: on the reference line, heading its way.
        let q = geometry.project(x as f32, y as f32);
        let across = f64::from(q.d - reference).abs();
        let turn = f64::from(wrap_angle(q.heading - heading as f32)).abs().to_degrees();
        assert!(across <= TOLERANCE_M && turn <= TOLERANCE_DEG, "geometry {i}: {across} m, {turn}° off");
    }
    let end = geometry.pose(geometry.length(), reference);
    let (x, y, heading) = CURVE_ENDS[7];
    let miss = (f64::from(end.x) - x).hypot(f64::from(end.y) - y);
    let turn = f64::from(wrap_angle(end.heading - heading as f32)).abs().to_degrees();
    assert!(miss <= TOLERANCE_M && turn <= TOLERANCE_DEG, "the road ends {miss} m and {turn}° off");
    // 305 m of reference line as written, 0.07 m more along the arcLength paramPoly3's curve
    // than its parameter range; Lepton's centre line, 3.25 m right of it, is longer on left turns.
    let turned = 1.5340312752905352 - 0.3;
    let expected = 305.011_997_943_633_3 + 0.070_577 + f64::from(reference) * turned;
    assert!((f64::from(geometry.length()) - expected).abs() < 0.05, "{}", geometry.length());

    let notes = &imported.notes;
    for fragment in [
        "header: geoReference is ignored",
        "1 non-zero laneOffset record (road 1) is not modelled",
        "1 elevation record (road 1) is not modelled",
        "1 superelevation record (road 1) is not modelled",
        "1 border lane (road 1) is made the road's shoulder",
        "1 road mark record (road 1) is not modelled",
        "1 road type record (road 1) is not modelled",
    ] {
        assert_noted(notes, fragment);
    }
    assert!(!notes.iter().any(|n| n.contains("approximated") || n.contains("laid on")), "{notes:#?}");
}

#[test]
fn two_way_opendrive_roads_merge_reverse_and_keep_their_lanes() {
    let imported = import("two_way.xodr");
    let scenario = &imported.scenario;
    let names: Vec<&str> = scenario.network.as_ref().unwrap().roads.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Main", "r20", "Side-A", "Side-B"]);

    // Roads 10, 11 and 12 (drawn the other way) are one road of 3 lanes along it and 1 back:
    // road 10 gains its third lane at s = 60, road 12's left lanes drive along road 11.
    let main = road(scenario, "Main");
    assert_eq!((main.lanes, main.lanes_back, main.lane_width), (3, 1, 3.5));
    assert_eq!((main.start.x, main.start.y, main.start.heading), (0.0, 0.0, 0.0));
    let geometry = laid(main);
    assert!((geometry.length() - 290.0).abs() < 1e-3, "{}", geometry.length());
    let end = geometry.end_pose();
    let (x, y) = (270.804_1_f32, 79.361_32_f32);
    assert!(
        (end.x - x).abs() < 1e-3 && (end.y - y).abs() < 1e-3 && (end.heading - 0.5).abs() < 1e-5,
        "{end:?}"
    );

    // Road 20's two lanes lie left of its reference line, driving west: it is laid from its
    // end, (100, 60), heading west, its centre line 3 m to the right of that (north).
    let west = road(scenario, "r20");
    assert_eq!((west.lanes, west.lanes_back, west.lane_width), (2, 0, 3.0));
    assert!((west.start.x - 100.0).abs() < 1e-4 && (west.start.y - 63.0).abs() < 1e-4, "{:?}", west.start);
    assert!((west.start.heading.abs() - 180.0).abs() < 1e-4, "{:?}", west.start);

    // Roads 40 and 41 are linked, but 1 + 1 lanes do not continue as 2 + 1: two roads.
    assert_eq!((road(scenario, "Side-A").lanes, road(scenario, "Side-B").lanes), (1, 2));
    // No junctions: the ego drives the longest road.
    assert_eq!(scenario.ego.route, Some(Route::Random { from: "Main".into() }));

    let notes = &imported.notes;
    for fragment in [
        "roads 10, 11, 12 are linked end to start without a junction: they are merged into one Lepton road",
        "roads 40 and 41 are linked end to start without a junction, but their driving lanes differ (1 + 1 \
         and 2 + 1 each way)",
        "1 road with driving lanes only left of its reference line (road 20) is laid from the end",
        "1 road whose driving lane count changes between lane sections (road 10) is given the largest count",
        "1 road without driving lanes (road 30) is left out",
        "2 objects (road 10) are not modelled",
        "1 signal (road 11) is not modelled",
        "sidewalk lanes (roads 10, 20, 30) are not modelled",
    ] {
        assert_noted(notes, fragment);
    }
}

/// A small file: road 5 of two 50 m straights (the second `geometry`, line 6, and `junction`,
/// line 12, to be replaced), one driving lane.
fn small(second: &str, junction: &str) -> String {
    let second = if second.is_empty() {
        r#"<geometry s="50" x="50" y="0" hdg="0" length="50"><line/></geometry>"#
    } else {
        second
    };
    format!(
        r#"<OpenDRIVE>
  <header revMajor="1" revMinor="6"/>
  <road id="5" length="100" junction="-1">
    <planView>
      <geometry s="0" x="0" y="0" hdg="0" length="50"><line/></geometry>
      {second}
    </planView>
    <lanes><laneSection s="0"><right>
      <lane id="-1" type="driving"><width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane>
    </right></laneSection></lanes>
  </road>
  {junction}
</OpenDRIVE>
"#
    )
}

#[track_caller]
fn assert_refused(text: &str, expected: &str) {
    match opendrive::import_str(text, "bad.xodr", "bad") {
        Ok(imported) => panic!("imported {:#?}", imported.scenario.network),
        Err(error) => assert_eq!(error.to_string(), expected),
    }
}

#[test]
fn malformed_opendrive_files_name_the_element_and_its_line() {
    // The small file itself is fine.
    assert!(opendrive::import_str(&small("", ""), "ok.xodr", "ok").is_ok());
    assert_refused(
        &small(r#"<geometry s="50" x="50" y="0" length="50"><line/></geometry>"#, ""),
        r#"bad.xodr:6: road id="5" / planView / geometry[1]: missing attribute "hdg""#,
    );
    assert_refused(
        &small(r#"<geometry s="50" x="50" y="0" hdg="0" length="5O"><line/></geometry>"#, ""),
        r#"bad.xodr:6: road id="5" / planView / geometry[1]: attribute length="5O" is not a finite number"#,
    );
    assert_refused(
        &small(
            "<geometry s=\"50\" x=\"50\" y=\"0\" hdg=\"0\" length=\"50\">\n        <clothoid/></geometry>",
            "",
        ),
        "bad.xodr:7: road id=\"5\" / planView / geometry[1] / clothoid: unknown geometry kind <clothoid> \
         (expected line, arc, spiral, poly3 or paramPoly3)",
    );
    assert_refused(
        &small(r#"<geometry s="50" x="50" y="0" hdg="0" length="50"><arc curvature="1000"/></geometry>"#, ""),
        "bad.xodr:6: road id=\"5\" / planView / geometry[1]: turns 7958 full circles in 50 m: no road does \
         (at most 159)",
    );
    assert_refused(
        &small(r#"<geometry s="50" x="60" y="0" hdg="0" length="50"><line/></geometry>"#, ""),
        "bad.xodr:6: road id=\"5\" / planView / geometry[1]: starts 10.00 m and 0.0° away from where the \
         geometry before it ends: the reference line is broken (at most 1 m and 5° are bridged)",
    );
    assert_refused(
        &small(
            "",
            r#"<junction id="9"><connection id="0" incomingRoad="5" connectingRoad="77" contactPoint="start"/></junction>"#,
        ),
        r#"bad.xodr:12: junction id="9" / connection[0]: connectingRoad="77" names no road of the file"#,
    );
    // A connecting road 6 turning back into road 5's start, and a lane link from a lane road 5
    // does not have (the link is on line 19).
    let connecting = r#"<road id="6" length="10" junction="9">
    <link><predecessor elementType="road" elementId="5" contactPoint="end"/><successor elementType="road" elementId="5" contactPoint="start"/></link>
    <planView><geometry s="0" x="100" y="0" hdg="0" length="10"><line/></geometry></planView>
    <lanes><laneSection s="0"><right><lane id="-1" type="driving"><link><predecessor id="-1"/><successor id="-1"/></link></lane></right></laneSection></lanes>
  </road>
  <junction id="9">
    <connection id="0" incomingRoad="5" connectingRoad="6" contactPoint="start">
      <laneLink from="-2" to="-1"/>
    </connection>
  </junction>"#;
    assert_refused(
        &small("", connecting),
        r#"bad.xodr:19: junction id="9" / connection[0] / laneLink[0]: road 5 has no lane -2 at its end"#,
    );
    assert_refused(
        &small(
            "",
            &connecting.replace(r#"<successor id="-1"/>"#, r#"<successor id="3"/>"#).replace("-2", "-1"),
        ),
        r#"bad.xodr:15: road id="6" / lanes / laneSection[0] / right / lane id="-1" / link / successor: road 5 has no lane 3 at its start"#,
    );
    assert_refused(
        &small("", "").replace(
            r#"junction="-1">"#,
            r#"junction="-1"><link><successor elementType="road" elementId="8"/></link>"#,
        ),
        r#"bad.xodr:3: road id="5" / link / successor: elementId="8" names no road of the file"#,
    );
    assert_refused(
        &small("", "").replace(r#"type="driving""#, r#"type="sidewalk""#),
        "bad.xodr:1: OpenDRIVE: no road outside a junction has a driving lane with any length: there is \
         nothing to drive on",
    );
    assert_refused(
        &small("", "").replace(r#"<road id="5""#, r#"<road id=5"#),
        "bad.xodr:3:12: XML syntax error: expected a quote not '5'",
    );
    assert_refused(
        "<Road/>",
        "bad.xodr:1: Road: the root element is <Road>: an OpenDRIVE file's is <OpenDRIVE>",
    );
    let missing = opendrive::import(Path::new("/nonexistent/town.xodr")).unwrap_err();
    assert!(matches!(missing, OpenDriveError::Io { .. }), "{missing}");
}

/// A road of one geometry (`shape` at (x, y) heading `hdg` radians, `length` m) with `link` and
/// lane sections `lanes`, all as OpenDRIVE text.
fn odr_road(
    id: &str,
    junction: &str,
    (x, y, hdg): (f64, f64, f64),
    length: f64,
    shape: &str,
    link: &str,
    lanes: &str,
) -> String {
    format!(
        r#"<road id="{id}" length="{length}" junction="{junction}"><link>{link}</link>
  <planView><geometry s="0" x="{x}" y="{y}" hdg="{hdg}" length="{length}">{shape}</geometry></planView>
  <lanes>{lanes}</lanes></road>
"#
    )
}

/// A 3.5 m driving lane with lane links `link`.
fn odr_lane(id: i32, link: &str) -> String {
    format!(
        r#"<lane id="{id}" type="driving"><link>{link}</link><width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane>"#
    )
}

fn odr_section(s: f64, left: &[String], right: &[String]) -> String {
    format!(
        r#"<laneSection s="{s}"><left>{}</left><center><lane id="0" type="none"/></center><right>{}</right></laneSection>"#,
        left.concat(),
        right.concat()
    )
}

fn odr_file(parts: &[String]) -> String {
    format!("<OpenDRIVE><header revMajor=\"1\" revMinor=\"8\"/>\n{}</OpenDRIVE>\n", parts.concat())
}

#[test]
fn opendrive_lane_links_are_followed_through_the_connecting_roads_sections() {
    // Two one-way roads of two lanes, 20 m apart along x, joined by connecting road 60 drawn
    // backwards (from road 2's start to road 1's end) in two sections; its left lanes, which
    // drive against it, swap places between the sections.
    let two = || odr_section(0.0, &[], &[odr_lane(-1, ""), odr_lane(-2, "")]);
    let via = [
        odr_section(
            0.0,
            &[
                odr_lane(1, r#"<predecessor id="-1"/><successor id="2"/>"#),
                odr_lane(2, r#"<predecessor id="-2"/><successor id="1"/>"#),
            ],
            &[],
        ),
        odr_section(
            10.0,
            &[
                odr_lane(1, r#"<predecessor id="2"/><successor id="-1"/>"#),
                odr_lane(2, r#"<predecessor id="1"/><successor id="-2"/>"#),
            ],
            &[],
        ),
    ]
    .concat();
    let text = odr_file(&[
        odr_road(
            "1",
            "-1",
            (-100.0, 0.0, 0.0),
            90.0,
            "<line/>",
            r#"<successor elementType="junction" elementId="9"/>"#,
            &two(),
        ),
        odr_road(
            "2",
            "-1",
            (10.0, 0.0, 0.0),
            90.0,
            "<line/>",
            r#"<predecessor elementType="junction" elementId="9"/>"#,
            &two(),
        ),
        odr_road(
            "60",
            "9",
            (10.0, 0.0, std::f64::consts::PI),
            20.0,
            "<line/>",
            r#"<predecessor elementType="road" elementId="2" contactPoint="start"/><successor elementType="road" elementId="1" contactPoint="end"/>"#,
            &via,
        ),
        r#"<junction id="9"><connection id="0" incomingRoad="1" connectingRoad="60" contactPoint="end">
  <laneLink from="-1" to="1"/><laneLink from="-2" to="2"/></connection></junction>
"#
        .to_string(),
    ]);
    let imported = opendrive::import_str(&text, "swap.xodr", "swap").unwrap_or_else(|e| panic!("{e}"));
    let network = imported.scenario.network.as_ref().unwrap();
    // Road 1's lane -1 (Lepton lane 1, the inner one) ends up in road 2's lane -2 (lane 0).
    let lane = |road: &str, lane: u32| LaneEnd { road: road.into(), lane, back: false };
    let connect: HashSet<Connection> = network.junctions[0].connect.iter().cloned().collect();
    let expected: HashSet<Connection> = [
        Connection { from: lane("r1", 1), to: lane("r2", 0) },
        Connection { from: lane("r1", 0), to: lane("r2", 1) },
    ]
    .into_iter()
    .collect();
    assert_eq!(connect, expected);
    assert_eq!(network.junctions[0].name, "j9");
    assert!(Laid::new(&imported.scenario).is_ok());
}

#[test]
fn what_lepton_cannot_lay_of_an_opendrive_file_is_left_out_with_a_note() {
    let one_each_way = || odr_section(0.0, &[odr_lane(1, "")], &[odr_lane(-1, "")]);
    let link_through = |to: &str| {
        format!(
            r#"<predecessor elementType="road" elementId="1" contactPoint="end"/><successor elementType="road" elementId="{to}" contactPoint="start"/>"#
        )
    };
    let via = || odr_section(0.0, &[], &[odr_lane(-1, r#"<predecessor id="-1"/><successor id="-1"/>"#)]);
    let text = odr_file(&[
        odr_road("1", "-1", (-100.0, 0.0, 0.0), 90.0, "<line/>", r#"<successor elementType="junction" elementId="9"/>"#, &one_each_way()),
        odr_road("2", "-1", (10.0, 0.0, 0.0), 90.0, "<line/>", r#"<predecessor elementType="junction" elementId="9"/>"#, &one_each_way()),
        // Road 3 passes over road 1 (a bridge): Lepton's roads are flat.
        odr_road("3", "-1", (-50.0, -50.0, std::f64::consts::FRAC_PI_2), 100.0, "<line/>", "", &one_each_way()),
        // Road 4 starts 210 m from road 1's end: no connector reaches it.
        odr_road("4", "-1", (200.0, 50.0, 0.0), 50.0, "<line/>", r#"<predecessor elementType="junction" elementId="9"/>"#, &one_each_way()),
        odr_road("51", "9", (-10.0, 0.0, 0.0), 20.0, "<line/>", &link_through("2"), &via()),
        odr_road("52", "9", (-10.0, 0.0, 0.0), 20.0, "<line/>", &link_through("4"), &via()),
        r#"<junction id="9">
  <connection id="0" incomingRoad="1" connectingRoad="51" contactPoint="start"><laneLink from="-1" to="-1"/></connection>
  <connection id="1" incomingRoad="1" connectingRoad="52" contactPoint="start"><laneLink from="-1" to="-1"/></connection>
</junction>
"#
        .to_string(),
    ]);
    let imported = opendrive::import_str(&text, "bridge.xodr", "bridge").unwrap_or_else(|e| panic!("{e}"));
    let network = imported.scenario.network.as_ref().unwrap();
    let names: Vec<&str> = network.roads.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["r1", "r2", "r4"]);
    let lane = |road: &str| LaneEnd { road: road.into(), lane: 0, back: false };
    assert_eq!(network.junctions[0].connect, [Connection { from: lane("r1"), to: lane("r2") }]);
    assert!(parse_str(&to_ron(&imported.scenario), "bridge").is_ok());
    assert_noted(&imported.notes, "road r3 overlaps road r1 near (x = -49, y = -2) without a junction");
    assert_noted(
        &imported.notes,
        "junction j9: the connection from road r1 lane 0 to road r4 lane 0 is left out: the first lane ends 216 m",
    );
}

#[test]
fn an_opendrive_ring_of_linked_roads_is_one_open_road() {
    // Two half circles of radius 50 m, each linked to the other's start.
    let half = std::f64::consts::PI * 50.0;
    let lanes = || odr_section(0.0, &[odr_lane(1, "")], &[odr_lane(-1, "")]);
    let arc = r#"<arc curvature="0.02"/>"#;
    let text = odr_file(&[
        odr_road(
            "1",
            "-1",
            (0.0, -50.0, 0.0),
            half,
            arc,
            r#"<successor elementType="road" elementId="2" contactPoint="start"/>"#,
            &lanes(),
        ),
        odr_road(
            "2",
            "-1",
            (0.0, 50.0, std::f64::consts::PI),
            half,
            arc,
            r#"<successor elementType="road" elementId="1" contactPoint="start"/>"#,
            &lanes(),
        ),
    ]);
    let imported = opendrive::import_str(&text, "ring.xodr", "ring").unwrap_or_else(|e| panic!("{e}"));
    let network = imported.scenario.network.as_ref().unwrap();
    assert_eq!(network.roads.len(), 1);
    assert!((laid(&network.roads[0]).length() - 2.0 * half as f32).abs() < 1e-2);
    assert_noted(&imported.notes, "roads 1, 2 form a ring without a junction");
}

#[test]
fn unsupported_opendrive_traffic_rules_and_duplicate_ids_are_refused() {
    assert_refused(
        &small("", "").replace(r#"junction="-1">"#, r#"junction="-1" rule="LHT">"#),
        "bad.xodr:3: road id=\"5\": rule=\"LHT\": left-hand traffic is not supported (Lepton's two-way roads \
         drive on the right)",
    );
    let twice =
        small("", "").replace("</road>\n  \n", "</road>\n  <road id=\"5\" length=\"1\" junction=\"-1\"/>\n");
    assert_refused(&twice, "bad.xodr:12: road id=\"5\": another road has id \"5\": ids must be unique");
}
