//! Tests that read the same column, run once per row for all of them.
//!
//! A rule file with forty `contains_any` lists on the job title would otherwise search the
//! title forty times per contact, and twenty `in` lists on the industry would hash it twenty
//! times. After the conditions are compiled, `share` finds the text tests of one family on
//! one column (same case rule) and, where there are two or more, replaces each with a bit of
//! one `Probe`: one Aho-Corasick automaton over every needle of every test, or one hash map
//! from every listed word to the tests that list it. A probe runs at most once per row (at the
//! start of the row when a rule is just one of its tests, see `Plan` in the engine; else the
//! first time a condition asks) and remembers its bits in the worker's `Memo` until the next
//! row. A test with its column to itself keeps its own matcher: there is nothing to share.

use std::collections::HashMap;
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use foldhash::fast::FixedState;
use regex::RegexSet;

use super::matcher::{Col, Cond, TextKind, TextTest, WordSet, folded, trim};

/// One search of one column's cell on behalf of several tests, each a bit of the result.
#[derive(Debug)]
pub struct Probe {
    /// Index into the worker's `Memo` stamps.
    id: usize,
    /// Where its bits start in the worker's `Memo`.
    offset: usize,
    fold: bool,
    /// How many tests share it: bits `0..tests`.
    tests: usize,
    kind: ProbeKind,
}

#[derive(Debug)]
enum ProbeKind {
    /// `contains` / `contains_any`: every distinct needle of every test once; a match of
    /// pattern `p` sets the bits `tests_of[p]` (the tests that list it: rule files repeat
    /// needles, and an automaton with a pattern per repeat reports each match as many times).
    /// `None` when no test has a needle (nothing can match).
    Needles {
        ac: Option<AhoCorasick>,
        tests_of: Vec<Box<[u64]>>,
    },
    /// `matches`: every distinct regex of the tests once; a match of pattern `p` sets the
    /// bits `tests_of[p]` (the tests with that regex).
    Patterns {
        set: RegexSet,
        tests_of: Vec<Box<[u64]>>,
    },
    /// `in` / `not_in` on the whole cell, or `domain_in` on what follows its last `@`:
    /// every listed word and the tests (bits) that list it.
    Words {
        domain: bool,
        tests_of: HashMap<Box<[u8]>, Box<[u64]>, FixedState>,
    },
}

/// What the probes found on the current row, per worker, and a buffer for folding cells.
#[derive(Debug, Clone, Default)]
pub struct Memo {
    row: u64,
    /// Per probe id: the row its bits are for.
    stamps: Vec<u64>,
    /// The probes' bits, each probe's at its `offset`.
    bits: Vec<u64>,
    pub buf: String,
}

impl Memo {
    /// Forget what the probes found: the next conditions read another row. Call before
    /// evaluating the conditions of each row.
    pub fn next_row(&mut self) {
        self.row += 1;
    }

    /// A test's result on this row, at its `Probe::bit_index` (its probe has run).
    pub fn bit(&self, at: usize) -> bool {
        self.bits[at / 64] & (1 << (at % 64)) != 0
    }
}

impl Probe {
    /// Whether test `bit` holds on the cell `raw` gives (trimmed), running the probe if this
    /// row has not run it yet.
    pub fn holds<'r>(&self, raw: impl FnOnce() -> &'r str, bit: u32, memo: &mut Memo) -> bool {
        self.ensure(raw, memo);
        memo.bit(self.bit_index(bit))
    }

    /// Where test `bit`'s result lies in a `Memo` (see `Memo::bit`).
    pub fn bit_index(&self, bit: u32) -> usize {
        self.offset * 64 + bit as usize
    }

    /// Run the probe on the cell `raw` gives (trimmed), unless it has run on this row.
    pub fn ensure<'r>(&self, raw: impl FnOnce() -> &'r str, memo: &mut Memo) {
        let words = self.tests.div_ceil(64);
        // Stamps start at 0, "never run"; the current row's stamp is never 0.
        let row = memo.row + 1;
        if memo.stamps.len() <= self.id {
            memo.stamps.resize(self.id + 1, 0);
        }
        if memo.bits.len() < self.offset + words {
            memo.bits.resize(self.offset + words, 0);
        }
        let bits = &mut memo.bits[self.offset..self.offset + words];
        if memo.stamps[self.id] != row {
            memo.stamps[self.id] = row;
            bits.fill(0);
            self.run(raw(), bits, &mut memo.buf);
        }
    }

    fn run(&self, raw: &str, bits: &mut [u64], buf: &mut String) {
        match &self.kind {
            ProbeKind::Needles { ac, tests_of } => {
                let Some(ac) = ac else { return };
                // The automaton ignores ASCII case; other letters are folded first.
                let text = if self.fold && !raw.is_ascii() {
                    folded(raw, true, buf)
                } else {
                    raw
                };
                for m in ac.find_overlapping_iter(text) {
                    let tests = &tests_of[m.pattern().as_usize()];
                    bits.iter_mut().zip(tests).for_each(|(b, t)| *b |= t);
                }
            }
            ProbeKind::Patterns { set, tests_of } => {
                for p in set.matches(raw).iter() {
                    bits.iter_mut().zip(&tests_of[p]).for_each(|(b, t)| *b |= t);
                }
            }
            ProbeKind::Words { domain, tests_of } => {
                let text = if self.fold { lower(raw, buf) } else { raw };
                let word = if *domain {
                    match text.rfind('@') {
                        Some(at) => trim(&text[at + 1..]),
                        None => return,
                    }
                } else {
                    text
                };
                if let Some(tests) = tests_of.get(word.as_bytes()) {
                    bits.copy_from_slice(tests);
                }
            }
        }
    }
}

/// The cell in lower case, as word lists are folded (ASCII in place of Unicode when it can).
fn lower<'a>(cell: &'a str, buf: &'a mut String) -> &'a str {
    if cell.bytes().any(|b| b.is_ascii_uppercase()) || !cell.is_ascii() {
        folded(cell, true, buf)
    } else {
        cell
    }
}

/// Which probe family a text test belongs to, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Family {
    Needles,
    Patterns,
    Words,
    Domains,
}

fn family(kind: &TextKind) -> Option<Family> {
    match kind {
        TextKind::ContainsAny { .. } => Some(Family::Needles),
        TextKind::Matches(_) => Some(Family::Patterns),
        TextKind::In(_) | TextKind::NotIn(_) => Some(Family::Words),
        TextKind::DomainIn(_) => Some(Family::Domains),
        _ => None,
    }
}

type Key = (Col, bool, Family);

/// Share the probes of `conds` (every condition of one engine): see the module comment.
pub fn share(conds: &mut [&mut Cond]) {
    let mut count: HashMap<Key, usize> = HashMap::new();
    for c in conds.iter() {
        c.each_text(&mut |t| {
            if let Some(f) = family(&t.kind) {
                *count.entry((t.col, t.fold, f)).or_default() += 1;
            }
        });
    }
    let mut shared: Vec<Key> = count
        .into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|(k, _)| k)
        .collect();
    if shared.is_empty() {
        return;
    }
    shared.sort();
    // Each shared key: the words of each of its tests, in the order met; bits follow it.
    let mut words: Vec<Vec<Vec<String>>> = vec![Vec::new(); shared.len()];
    let probe_of = |t: &TextTest| {
        let f = family(&t.kind)?;
        shared.binary_search(&(t.col, t.fold, f)).ok()
    };
    for c in conds.iter() {
        c.each_text(&mut |t| {
            if let Some(p) = probe_of(t) {
                words[p].push(t.kind.words());
            }
        });
    }
    // A probe that cannot be built (a set of regexes too large together) leaves its tests
    // as they are.
    let (mut id, mut offset) = (0, 0);
    let probes: Vec<Option<Arc<Probe>>> = shared
        .iter()
        .zip(words)
        .map(|(&(_, fold, family), words)| {
            let probe = Probe::build(id, offset, fold, family, words)?;
            id += 1;
            offset += probe.tests.div_ceil(64);
            Some(Arc::new(probe))
        })
        .collect();
    let mut next_bit = vec![0u32; shared.len()];
    for c in conds.iter_mut() {
        c.each_text_mut(&mut |t| {
            if let Some(p) = probe_of(t)
                && let Some(probe) = &probes[p]
            {
                let negate = matches!(t.kind, TextKind::NotIn(_));
                t.kind = TextKind::Probe {
                    probe: Arc::clone(probe),
                    bit: next_bit[p],
                    negate,
                };
                next_bit[p] += 1;
            }
        });
    }
}

impl Probe {
    fn build(
        id: usize,
        offset: usize,
        fold: bool,
        family: Family,
        words: Vec<Vec<String>>,
    ) -> Option<Probe> {
        let tests = words.len();
        let kind = match family {
            Family::Needles => {
                let lists = words
                    .into_iter()
                    .map(|list| list.into_iter().filter(|n| !n.is_empty()).collect());
                let (needles, tests_of) = distinct(lists, tests);
                let ac = (!needles.is_empty()).then(|| {
                    AhoCorasick::builder()
                        .ascii_case_insensitive(fold)
                        .match_kind(aho_corasick::MatchKind::Standard)
                        .build(&needles)
                        .expect("an automaton of plain needles builds")
                });
                ProbeKind::Needles { ac, tests_of }
            }
            Family::Patterns => {
                // A test's regex is its one word.
                let lists = words.into_iter().map(|w| vec![w.concat()]);
                let (patterns, tests_of) = distinct(lists, tests);
                let set = regex::RegexSetBuilder::new(patterns)
                    .case_insensitive(fold)
                    .build()
                    .ok()?;
                ProbeKind::Patterns { set, tests_of }
            }
            Family::Words | Family::Domains => {
                let mut tests_of: HashMap<Box<[u8]>, Box<[u64]>, FixedState> =
                    HashMap::with_hasher(FixedState::with_seed(0));
                for (bit, list) in words.into_iter().enumerate() {
                    for w in list {
                        let set = tests_of
                            .entry(w.into_bytes().into_boxed_slice())
                            .or_insert_with(|| vec![0u64; tests.div_ceil(64)].into_boxed_slice());
                        set[bit / 64] |= 1 << (bit % 64);
                    }
                }
                ProbeKind::Words {
                    domain: family == Family::Domains,
                    tests_of,
                }
            }
        };
        Some(Probe {
            id,
            offset,
            fold,
            tests,
            kind,
        })
    }
}

/// The distinct strings of the tests' lists (test `i` is bit `i`), each with the bits of the
/// tests that list it.
fn distinct(
    lists: impl Iterator<Item = Vec<String>>,
    tests: usize,
) -> (Vec<String>, Vec<Box<[u64]>>) {
    let mut strings: Vec<String> = Vec::new();
    let mut tests_of: Vec<Box<[u64]>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (bit, list) in lists.enumerate() {
        for s in list {
            let i = *index.entry(s.clone()).or_insert_with(|| {
                strings.push(s);
                tests_of.push(vec![0u64; tests.div_ceil(64)].into_boxed_slice());
                strings.len() - 1
            });
            tests_of[i][bit / 64] |= 1 << (bit % 64);
        }
    }
    (strings, tests_of)
}

impl TextKind {
    /// The needles or words of a test a probe can take over.
    fn words(&self) -> Vec<String> {
        match self {
            TextKind::ContainsAny { needles, .. } => needles.clone(),
            TextKind::Matches(re) => vec![re.as_str().to_string()],
            TextKind::In(set) | TextKind::NotIn(set) | TextKind::DomainIn(set) => set.words(),
            _ => Vec::new(),
        }
    }
}

impl WordSet {
    fn words(&self) -> Vec<String> {
        match self {
            WordSet::Few(v) => v.clone(),
            WordSet::Many(set) => set
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect(),
        }
    }
}
