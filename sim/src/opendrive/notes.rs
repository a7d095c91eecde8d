//! What an import leaves out: single lines, and tallies of one kind of thing (`12 signals (roads
//! 3, 7, …) are not modelled`) so that a large map gives a short list.

/// Roads named in a tally before it says how many more.
const ROADS_LISTED: usize = 8;

/// The notes of one import, in the order they were first made.
#[derive(Debug, Default)]
pub(super) struct Notes {
    lines: Vec<String>,
    tallies: Vec<Tally>,
}

#[derive(Debug)]
struct Tally {
    one: String,
    many: String,
    predicate: String,
    count: usize,
    /// The roads concerned, each once, in order of appearance.
    roads: Vec<String>,
}

impl Notes {
    /// A note of its own.
    pub(super) fn line(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !self.lines.contains(&text) {
            self.lines.push(text);
        }
    }

    /// One more thing of a kind, on `road` if it belongs to one: the note reads
    /// `{count} {one|many} (roads …) {is|are} {predicate}`.
    pub(super) fn count(&mut self, one: &str, many: &str, predicate: &str, road: Option<&str>) {
        self.add(one, many, predicate, road, 1);
    }

    /// `n` more things of a kind (nothing when `n` is 0).
    pub(super) fn add(&mut self, one: &str, many: &str, predicate: &str, road: Option<&str>, n: usize) {
        if n == 0 {
            return;
        }
        let index = match self.tallies.iter().position(|t| t.many == many && t.predicate == predicate) {
            Some(index) => index,
            None => {
                self.tallies.push(Tally {
                    one: one.to_string(),
                    many: many.to_string(),
                    predicate: predicate.to_string(),
                    count: 0,
                    roads: Vec::new(),
                });
                self.tallies.len() - 1
            }
        };
        let tally = &mut self.tallies[index];
        tally.count += n;
        if let Some(road) = road
            && !tally.roads.iter().any(|r| r == road)
        {
            tally.roads.push(road.to_string());
        }
    }

    /// Every note, single lines first, then the tallies.
    pub(super) fn finish(self) -> Vec<String> {
        let tallies = self.tallies.into_iter().map(|t| {
            let noun = if t.count == 1 { &t.one } else { &t.many };
            let verb = if t.count == 1 { "is" } else { "are" };
            let roads = match t.roads.len() {
                0 => String::new(),
                1 => format!(" (road {})", t.roads[0]),
                n if n <= ROADS_LISTED => format!(" (roads {})", t.roads.join(", ")),
                n => format!(" (roads {}, … {n} in all)", t.roads[..ROADS_LISTED].join(", ")),
            };
            format!("{} {noun}{roads} {verb} {}", t.count, t.predicate)
        });
        self.lines.into_iter().chain(tallies).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_count_and_name_their_roads_once() {
        let mut notes = Notes::default();
        notes.count("signal", "signals", "not modelled", Some("3"));
        notes.line("header: geoReference is ignored");
        notes.count("signal", "signals", "not modelled", Some("7"));
        notes.count("signal", "signals", "not modelled", Some("3"));
        notes.add("object", "objects", "not modelled", Some("1"), 1);
        notes.add("bridge", "bridges", "not modelled", Some("1"), 0);
        for road in 0..10 {
            notes.count("sidewalk lane", "sidewalk lanes", "not modelled", Some(&road.to_string()));
        }
        assert_eq!(
            notes.finish(),
            [
                "header: geoReference is ignored",
                "3 signals (roads 3, 7) are not modelled",
                "1 object (road 1) is not modelled",
                "10 sidewalk lanes (roads 0, 1, 2, 3, 4, 5, 6, 7, … 10 in all) are not modelled",
            ]
        );
    }
}
