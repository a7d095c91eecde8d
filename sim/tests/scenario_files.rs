//! The shipped scenario files, round trips through `to_ron`, error positions, and a no-panic fuzz
//! of the parser and validator.

use lepton_sim::scenario::{Problem, Scenario, ScenarioError, load, parse_str, to_ron};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

/// Every `*.ron` file in the crate's `scenarios/` folder, sorted, with its text.
fn shipped() -> Vec<(PathBuf, String)> {
    // Found when the test runs: clones at other paths share one target folder.
    let dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
            .join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ron"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a readable scenario file");
            (path, text)
        })
        .collect()
}

fn name_of(path: &std::path::Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The one syntax problem of `text`, as (line, column, message).
#[track_caller]
fn syntax_error(text: &str) -> (usize, usize, String) {
    let error = parse_str(text, "test.ron").expect_err("the text has a syntax error");
    match &error.problems[..] {
        [Problem::Syntax { line, col, message }] => (*line, *col, message.clone()),
        _ => panic!("expected one syntax problem, got {error}"),
    }
}

#[test]
fn every_shipped_scenario_is_valid() {
    for (path, _) in shipped() {
        let scenario = load(&path).unwrap_or_else(|e| panic!("{e}"));
        let stem = path.file_stem().unwrap().to_string_lossy();
        assert_eq!(scenario.name, stem, "{}: name differs from the file name", path.display());
        assert!(scenario.episode.success.is_some(), "resolve fills in the goal");
    }
}

#[test]
fn to_ron_round_trips_every_shipped_scenario() {
    for (path, text) in shipped() {
        let scenario = parse_str(&text, &name_of(&path)).unwrap_or_else(|e| panic!("{e}"));
        let written = to_ron(&scenario);
        let again = parse_str(&written, "to_ron output").unwrap_or_else(|e| panic!("{e}\n{written}"));
        assert_eq!(again, scenario, "{} changes through to_ron:\n{written}", path.display());
        assert_eq!(to_ron(&again), written, "to_ron is not stable for {}", path.display());
    }
}

#[test]
fn an_unknown_field_is_reported_at_its_line_and_column() {
    let text = "Scenario(\n    road: (\n        lanez: 2,\n    ),\n)\n";
    let (line, col, message) = syntax_error(text);
    assert_eq!((line, col), (3, 9), "{message}");
    assert!(message.contains("lanez") && message.contains("lanes"), "{message}");

    let error = parse_str(text, "scenarios/foo.ron").unwrap_err();
    assert!(error.to_string().starts_with("scenarios/foo.ron:3:9: "), "{error}");
}

#[test]
fn a_wrong_type_is_a_syntax_problem() {
    let (line, _, message) = syntax_error("Scenario(\n    road: (lanes: \"two\"),\n)\n");
    assert_eq!(line, 2, "{message}");
    let (line, col, message) = syntax_error("Scenario(\n  seed: 1,\n  camera: (width: -84),\n)");
    assert_eq!(line, 3, "{message}");
    assert!((18..=20).contains(&col), "column {col}: {message}");
    let (line, _, message) = syntax_error("Scenario(\n    episode: (success: Laps(1.5)),\n)\n");
    assert_eq!(line, 2, "{message}");
}

#[test]
fn a_missing_field_and_bad_syntax_are_syntax_problems() {
    let (line, _, message) = syntax_error("Scenario(\n    obstacles: [\n        (kind: Cone),\n    ],\n)");
    assert_eq!(line, 3, "{message}");
    assert!(message.contains("`s`"), "{message}");
    let (line, _, message) = syntax_error("Scenario(\n    seed: 1\n    name: \"x\",\n)\n");
    assert_eq!(line, 3, "{message}");
}

#[test]
fn meaning_problems_name_every_field_path() {
    let text = "Scenario(\n    road: (lanes: 0, lane_width: NaN),\n    actions: (set: []),\n)\n";
    let error = parse_str(text, "bad.ron").unwrap_err();
    let lines: Vec<String> = error.to_string().lines().map(str::to_string).collect();
    assert_eq!(
        lines,
        [
            "bad.ron: road.lanes: must be at least 1 (got 0)",
            "bad.ron: road.lane_width: must be a finite number (got NaN)",
            "bad.ron: actions.set: must not be empty: the agent needs at least one action",
        ]
    );
}

#[test]
fn an_unreadable_file_is_an_io_problem() {
    let error = load(std::path::Path::new("/nonexistent/scenario.ron")).unwrap_err();
    assert!(matches!(error.problems[..], [Problem::Io(_)]), "{error}");
    assert!(error.to_string().starts_with("/nonexistent/scenario.ron: "), "{error}");
}

/// A tiny deterministic PRNG (xorshift64*), so the fuzz needs no dependencies and never varies.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Numbers that have broken parsers and validators before.
const NASTY_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "0.0",
    "-0.0",
    "1e30",
    "-1e30",
    "1e-30",
    "NaN",
    "inf",
    "-inf",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999",
    "-2147483649",
    "3.4028235e38",
    "1e39",
    "0x10",
    "1_000",
];

/// Snippets that are likely to be syntactically plausible when spliced in.
const SNIPPETS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "//",
    "/*",
    "\n",
    " ",
    "Some(",
    "None",
    "Laps(0)",
    "Distance(-1.0)",
    "RoadEnd",
    "Never",
    "Arc(radius: 0.0, angle: 0.0)",
    "Straight(length: 0.0)",
    "lane: 9,",
    "closed: true,",
    "count: 200,",
    "#![enable(implicit_some)]",
    "é",
    "🚗",
];

/// Byte ranges of the number tokens in `text`.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let starts = b.is_ascii_digit() || (b == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if starts && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')) {
            let mut end = i + 1;
            while end < bytes.len() && matches!(bytes[end], b'0'..=b'9' | b'.' | b'e' | b'E' | b'_') {
                end += 1;
            }
            found.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

/// A char boundary of `text` at or before `i`.
fn boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Applies one random mutation to `text`.
fn mutate(text: &str, rng: &mut XorShift) -> String {
    let len = text.len().max(1);
    let at = boundary(text, rng.below(len));
    let span_end = boundary(text, at + 1 + rng.below(40));
    match rng.below(6) {
        // Flip one bit of one byte; invalid UTF-8 becomes U+FFFD.
        0 => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        // Delete a span.
        1 => format!("{}{}", &text[..at], &text[span_end..]),
        // Duplicate a span.
        2 => format!("{}{}", &text[..span_end], &text[at..]),
        // Splice in a snippet.
        3 => format!("{}{}{}", &text[..at], rng.pick(SNIPPETS), &text[at..]),
        // Replace a number with a nasty one (the likeliest way to reach the validator).
        _ => {
            let numbers = numbers(text);
            if numbers.is_empty() {
                return text.to_string();
            }
            let (start, end) = *rng.pick(&numbers);
            format!("{}{}{}", &text[..start], rng.pick(NASTY_NUMBERS), &text[end..])
        }
    }
}

/// Parses `text`, catching panics; `Err` carries the panic message. When the text parses, the
/// scenario must also survive `to_ron` and parse back unchanged.
fn parse_without_panic(text: &str) -> Result<Result<Scenario, ScenarioError>, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let result = parse_str(text, "fuzz.ron");
        match &result {
            Ok(scenario) => {
                let again = parse_str(&to_ron(scenario), "to_ron output");
                assert_eq!(again.as_ref(), Ok(scenario), "an accepted scenario does not round-trip");
            }
            Err(error) => assert!(!error.problems.is_empty(), "an error without problems"),
        }
        result
    }))
    .map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[test]
fn no_input_makes_the_parser_panic() {
    const TRUNCATIONS: usize = 200;
    const MUTATIONS: usize = 3000;
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    let mut rejected = 0;
    for (path, text) in shipped() {
        let mut inputs: Vec<String> = (0..=TRUNCATIONS)
            .map(|i| text[..boundary(&text, i * text.len() / TRUNCATIONS)].to_string())
            .collect();
        for _ in 0..MUTATIONS {
            let mut mutated = mutate(&text, &mut rng);
            for _ in 0..rng.below(3) {
                mutated = mutate(&mutated, &mut rng);
            }
            inputs.push(mutated);
        }
        for input in inputs {
            match parse_without_panic(&input) {
                Ok(Ok(_)) => accepted += 1,
                Ok(Err(_)) => rejected += 1,
                Err(panic) => panic!(
                    "parsing a mutant of {} panicked: {panic}\n--- input ---\n{input}\n---",
                    path.display()
                ),
            }
        }
    }
    // Both outcomes must be common, or the fuzz is not exercising the validator.
    assert!(accepted > 500 && rejected > 2000, "accepted {accepted}, rejected {rejected}");
}
