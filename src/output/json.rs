//! JSON Lines: one object per contact, for the next tool in a pipe (`jq`, a loader).

use super::encode::{Layout, RowEncoder, Scored};
use crate::engine::{Engine, Reason, push_number};

/// `{"<column>": "<cell>", ..., "score": 42, "score_<group>": 30, "tier": "warm",
/// "queue": "sales", "reasons": [{"rule": "Decision maker", "points": 20}, ...]}`.
/// Input cells are strings, exactly as read (no formula escaping: this is not for a
/// spreadsheet); scores are numbers.
#[derive(Debug)]
pub struct JsonEncoder<'e> {
    engine: &'e Engine,
    layout: Layout,
    /// `"name":` for every column, escaped once.
    keys: Vec<String>,
}

impl<'e> JsonEncoder<'e> {
    pub fn new(engine: &'e Engine, layout: Layout) -> JsonEncoder<'e> {
        let keys = unique_keys(&layout)
            .iter()
            .map(|n| {
                let mut k = String::new();
                string(n, &mut k);
                k.push(':');
                k
            })
            .collect();
        JsonEncoder {
            engine,
            layout,
            keys,
        }
    }
}

/// The input columns whose JSON key is not their name, as (name, key): see `unique_keys`.
pub fn renamed_keys(layout: &Layout) -> Vec<(String, String)> {
    (layout.names.iter().zip(unique_keys(layout)))
        .filter(|(name, key)| *name != key)
        .map(|(name, key)| (name.clone(), key))
        .collect()
}

/// Every column's key: its name, but that an object's keys must differ (a reader keeps one
/// of two, and the other cell is lost). leadsort's own (`score`, `tier`, ...) keep theirs;
/// an input column whose name is taken, by them or by an earlier column, gets `_2` (or
/// `_3`, ...).
fn unique_keys(layout: &Layout) -> Vec<String> {
    use std::collections::{HashMap, HashSet};
    let (inputs, added) = layout.names.split_at(layout.inputs);
    // A new key must not be a name still to come either (`note`, `note`, `note_2`).
    let names: HashSet<&str> = layout.names.iter().map(String::as_str).collect();
    let mut used: HashSet<String> = added.iter().cloned().collect();
    // Per name, the suffix to try next: those below it are taken (keys are never freed), so
    // a name repeated k times costs k tries, not k² / 2.
    let mut next: HashMap<&str, usize> = HashMap::new();
    let mut keys: Vec<String> = Vec::with_capacity(layout.names.len());
    for name in inputs {
        let key = if used.contains(name) {
            let from = next.entry(name).or_insert(2);
            let (n, key) = (*from..)
                .map(|n| (n, format!("{name}_{n}")))
                .find(|(_, k)| !used.contains(k) && !names.contains(k.as_str()))
                .unwrap_or_default();
            *from = n + 1;
            key
        } else {
            name.clone()
        };
        used.insert(key.clone());
        keys.push(key);
    }
    keys.extend(added.iter().cloned());
    keys
}

impl RowEncoder for JsonEncoder<'_> {
    fn header(&self, _out: &mut Vec<u8>) {}

    fn row(&self, row: &Scored<'_>, out: &mut Vec<u8>) {
        let mut s = String::with_capacity(256);
        let mut keys = self.keys.iter();
        let mut key = |s: &mut String| {
            s.push(if s.is_empty() { '{' } else { ',' });
            s.push_str(keys.next().map_or("\"?\":", String::as_str));
        };
        for cell in self.layout.input_cells(&row.cells) {
            key(&mut s);
            // Contacts' cells are checked to be UTF-8 before they are scored.
            string(&String::from_utf8_lossy(cell), &mut s);
        }
        key(&mut s);
        s.push_str(itoa::Buffer::new().format(row.outcome.score));
        for g in &row.outcome.groups {
            key(&mut s);
            s.push_str(itoa::Buffer::new().format(*g));
        }
        key(&mut s);
        string(row.tier, &mut s);
        key(&mut s);
        string(row.queue, &mut s);
        if self.layout.owner {
            key(&mut s);
            string(row.owner, &mut s);
        }
        if self.layout.reasons {
            key(&mut s);
            s.push('[');
            for (i, r) in self.engine.reasons(row.outcome).enumerate() {
                if i > 0 {
                    s.push(',');
                }
                reason(&r, &mut s);
            }
            if let Some(note) = row.note {
                if !s.ends_with('[') {
                    s.push(',');
                }
                s.push_str("{\"balance\":");
                string(note, &mut s);
                s.push('}');
            }
            s.push(']');
        }
        s.push_str("}\n");
        out.extend_from_slice(s.as_bytes());
    }
}

/// `{"rule": "Decision maker", "points": 20}` (with `"decayed_from": 30` when the points
/// decayed), `{"rule": "Unsubscribed", "points": 0, "disqualified": true}`, `{"group": "fit", "capped_at": 30, "points": -5}`,
/// `{"group": "fit", "floored_at": -10, "points": 4}`, `{"route": "Sales gave up"}`; and
/// for a contact the balance kept from sales, `{"balance": "over sales capacity"}`.
fn reason(r: &Reason<'_>, s: &mut String) {
    match *r {
        Reason::Rule {
            rule,
            points,
            decayed_from,
            disqualified,
        } => {
            s.push_str("{\"rule\":");
            string(rule, s);
            s.push_str(",\"points\":");
            push_number(s, points.unwrap_or(0.0));
            if let Some(from) = decayed_from {
                s.push_str(",\"decayed_from\":");
                push_number(s, from);
            }
            if disqualified {
                s.push_str(",\"disqualified\":true");
            }
        }
        Reason::Cap {
            group,
            limit,
            floor,
            points,
        } => {
            s.push_str("{\"group\":");
            string(group, s);
            s.push_str(if floor {
                ",\"floored_at\":"
            } else {
                ",\"capped_at\":"
            });
            push_number(s, limit);
            s.push_str(",\"points\":");
            push_number(s, points);
        }
        Reason::Route { route } => {
            s.push_str("{\"route\":");
            string(route, s);
        }
    }
    s.push('}');
}

/// A JSON string: quotes, backslashes and control characters escaped, and the Unicode line
/// and paragraph separators (U+2028, U+2029): JSON allows them raw, but a reader that splits
/// lines the Unicode way (Python's `str.splitlines`, JavaScript before ES2019) would break a
/// line of JSON Lines at them.
fn string(text: &str, s: &mut String) {
    s.push('"');
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                s.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_json_requires() {
        let mut s = String::new();
        string("a \"q\" \\ \n\r\t\u{1} é", &mut s);
        assert_eq!(s, r#""a \"q\" \\ \n\r\t\u0001 é""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a \"q\" \\ \n\r\t\u{1} é");
        let mut s = String::new();
        string("a\u{2028}b\u{2029}c", &mut s);
        assert_eq!(s, r#""a\u2028b\u2029c""#);
    }

    #[test]
    fn a_taken_name_gets_the_first_free_suffix() {
        let names = ["a", "a", "a_2", "a", "b", "score", "a", "b_2", "b"];
        let mut all: Vec<String> = names.map(String::from).to_vec();
        all.extend(["score", "tier", "queue"].map(String::from));
        let layout = Layout {
            columns: None,
            reasons: false,
            owner: false,
            names: all,
            inputs: names.len(),
        };
        // `a_2` and `b_2` are columns' own names, so the `a` and `b` before them skip them;
        // `score` is leadsort's.
        assert_eq!(
            unique_keys(&layout),
            [
                "a", "a_3", "a_2", "a_4", "b", "score_2", "a_5", "b_2", "b_3", "score", "tier",
                "queue"
            ]
        );
    }

    #[test]
    fn every_kind_of_reason() {
        let mut s = String::new();
        for r in [
            Reason::Rule {
                rule: "Demo",
                points: Some(30.0),
                decayed_from: None,
                disqualified: false,
            },
            Reason::Rule {
                rule: "Per view",
                points: Some(2.5),
                decayed_from: Some(5.0),
                disqualified: false,
            },
            Reason::Rule {
                rule: "Unsubscribed",
                points: None,
                decayed_from: None,
                disqualified: true,
            },
            Reason::Cap {
                group: "fit",
                limit: 30.0,
                floor: false,
                points: -5.0,
            },
            Reason::Route { route: "Partner" },
        ] {
            reason(&r, &mut s);
            s.push('\n');
        }
        assert_eq!(
            s,
            "{\"rule\":\"Demo\",\"points\":30}\n\
             {\"rule\":\"Per view\",\"points\":2.5,\"decayed_from\":5}\n\
             {\"rule\":\"Unsubscribed\",\"points\":0,\"disqualified\":true}\n\
             {\"group\":\"fit\",\"capped_at\":30,\"points\":-5}\n\
             {\"route\":\"Partner\"}\n"
        );
    }
}
