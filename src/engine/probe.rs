//! Tests that read the same column, run once per row for all of them.
//!
//! A rule file with forty `contains_any` lists on the job title would otherwise search the
//! title forty times per contact, and twenty `in` lists on the industry would hash it twenty
//! times. After the conditions are compiled, `share` finds the text tests of one family on
//! one column (same case rule) and replaces each with a bit of one `Probe`: one Aho-Corasick
//! automaton over every needle of every test, one regex set, or one hash map from every
//! listed word to the tests that list it. A probe runs at most once per row (at the start of
//! the row when a rule is one of its tests, or an `all` or `any` of such tests, see `Plan`
//! in the engine; else the first time a condition asks) and remembers its bits in the
//! worker's `Memo` until the next row.
//!
//! Many columns hold a few values over and over (job titles, notes from a form's choices):
//! each worker's `Memo` keeps what a searching probe found for the cells it has seen (see
//! `Cache`), so a repeated cell costs one hash lookup instead of a search. So needles and
//! regexes get a probe even when one test alone searches the column. Word lists are one
//! lookup already: they keep no cache, and a list with its column to itself keeps its own
//! matcher.

use std::collections::HashMap;
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use foldhash::fast::FixedState;
use regex::RegexSet;

use super::matcher::{Col, Cond, TextKind, TextTest, WordSet, ascii_lowered, folded, trim};

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
    /// Per probe id: what it found on cells seen before.
    caches: Vec<Cache>,
    /// Bytes the caches hold, all probes together (at most `Cache::BUDGET`).
    cached: usize,
    pub buf: String,
}

/// A searching probe's bits for the cells a worker has seen, up to `Cache::MAX_CELLS` cells
/// of at most `Cache::MAX_LEN` bytes, and `Cache::BUDGET` bytes for all of a worker's
/// probes together (memory stays flat, whatever the rule file). A column whose cells rarely
/// repeat (company names, emails) turns its cache off after one window of lookups, so it
/// costs little there.
#[derive(Debug, Clone, Default)]
struct Cache {
    /// Cell → where its bits start in `bits`.
    index: HashMap<Box<[u8]>, usize, FixedState>,
    bits: Vec<u64>,
    /// Lookups and misses in the current window.
    lookups: u32,
    misses: u32,
    off: bool,
}

impl Cache {
    const MAX_CELLS: usize = 4096;
    const MAX_LEN: usize = 256;
    /// Bytes of cells and bits per worker, all probes together.
    const BUDGET: usize = 1 << 20;
    /// Lookups per window; a window where more than half miss turns the cache off.
    const WINDOW: u32 = 4096;

    /// The bits found before on `cell`, if it was seen; `cached` as for `put`.
    fn get(&mut self, cell: &str, words: usize, cached: &mut usize) -> Option<&[u64]> {
        if self.off || cell.len() > Cache::MAX_LEN {
            return None;
        }
        self.lookups += 1;
        if self.lookups == Cache::WINDOW {
            self.off = self.misses > Cache::WINDOW / 2;
            self.lookups = 0;
            self.misses = 0;
            if self.off {
                *cached -= self.size();
                self.index = HashMap::default();
                self.bits = Vec::new();
                return None;
            }
        }
        match self.index.get(cell.as_bytes()) {
            Some(&at) => Some(&self.bits[at..at + words]),
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// Remember what a probe found on `cell` (after `get` missed it); `cached`: the bytes
    /// every cache of the worker holds.
    fn put(&mut self, cell: &str, bits: &[u64], cached: &mut usize) {
        let size = cell.len() + 8 * bits.len();
        if self.off
            || cell.len() > Cache::MAX_LEN
            || self.index.len() >= Cache::MAX_CELLS
            || *cached + size > Cache::BUDGET
        {
            return;
        }
        self.index.insert(cell.as_bytes().into(), self.bits.len());
        self.bits.extend_from_slice(bits);
        *cached += size;
    }

    /// The bytes it holds, as `put` counts them.
    fn size(&self) -> usize {
        self.index.keys().map(|k| k.len()).sum::<usize>() + 8 * self.bits.len()
    }
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

    /// Word `w` of the bits (bit `at` is in word `at / 64`); 0 past those any probe has.
    pub fn word(&self, w: usize) -> u64 {
        self.bits.get(w).copied().unwrap_or(0)
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
            memo.caches.resize_with(self.id + 1, Cache::default);
        }
        if memo.bits.len() < self.offset + words {
            memo.bits.resize(self.offset + words, 0);
        }
        if memo.stamps[self.id] == row {
            return;
        }
        memo.stamps[self.id] = row;
        let bits = &mut memo.bits[self.offset..self.offset + words];
        let cell = raw();
        if matches!(self.kind, ProbeKind::Words { .. }) {
            bits.fill(0);
            return self.run(cell, bits, &mut memo.buf);
        }
        let cache = &mut memo.caches[self.id];
        if let Some(found) = cache.get(cell, words, &mut memo.cached) {
            bits.copy_from_slice(found);
        } else {
            bits.fill(0);
            self.run(cell, bits, &mut memo.buf);
            cache.put(cell, bits, &mut memo.cached);
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
                // The domain is cut before folding: only it is lower-cased (folding keeps
                // every `@` and makes none, and works char by char).
                let word = if *domain {
                    match memchr::memrchr(b'@', raw.as_bytes()) {
                        Some(at) => trim(&raw[at + 1..]),
                        None => return,
                    }
                } else {
                    raw
                };
                let mut stack = [0u8; 64];
                let word = if !self.fold {
                    word.as_bytes()
                } else if word.is_ascii() {
                    ascii_lowered(word, &mut stack, buf)
                } else {
                    folded(word, true, buf).as_bytes()
                };
                if let Some(tests) = tests_of.get(word) {
                    bits.copy_from_slice(tests);
                }
            }
        }
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
        .filter(|((_, _, f), n)| *n >= 2 || matches!(f, Family::Needles | Family::Patterns))
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
            WordSet::Few(few) => few.words.clone(),
            WordSet::Many(set) => set
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Look `cell` up, and on a miss store `found` for it, as `Probe::ensure` does; the
    /// budget's count is the cache's own.
    fn look(cache: &mut Cache, cell: &str, found: u64) -> Option<u64> {
        let mut cached = cache.size();
        let got = cache.get(cell, 1, &mut cached).map(|b| b[0]);
        if got.is_none() {
            cache.put(cell, &[found], &mut cached);
        }
        assert_eq!(cached, cache.size());
        got
    }

    #[test]
    fn a_cache_answers_repeated_cells_and_turns_off_where_cells_rarely_repeat() {
        let (mut few, mut unique) = (Cache::default(), Cache::default());
        for i in 0..u64::from(Cache::WINDOW) * 2 {
            let seen = look(&mut few, &(i % 50).to_string(), i % 50);
            assert_eq!(seen, (i >= 50).then_some(i % 50), "cell {}", i % 50);
            look(&mut unique, &i.to_string(), i);
        }
        assert!(!few.off);
        assert_eq!(few.index.len(), 50);
        // Every lookup of the first window missed: off, and its cells dropped.
        assert!(unique.off);
        assert!(unique.index.is_empty() && unique.bits.is_empty());
        assert_eq!(look(&mut unique, "1", 1), None);
    }

    #[test]
    fn a_cache_keeps_no_long_cells_and_no_more_than_its_limit() {
        let mut cache = Cache::default();
        let long = "x".repeat(Cache::MAX_LEN + 1);
        look(&mut cache, &long, 1);
        assert_eq!(look(&mut cache, &long, 1), None);
        // Each cell three times: a third of the lookups miss, too few to turn it off.
        for i in 0..Cache::MAX_CELLS + 10 {
            for _ in 0..3 {
                look(&mut cache, &i.to_string(), 7);
            }
        }
        assert!(!cache.off);
        assert_eq!(cache.index.len(), Cache::MAX_CELLS);
        assert_eq!(look(&mut cache, "0", 7), Some(7));
        assert_eq!(look(&mut cache, &Cache::MAX_CELLS.to_string(), 7), None);
    }

    #[test]
    fn the_caches_of_a_worker_share_one_budget() {
        let (mut a, mut b) = (Cache::default(), Cache::default());
        let mut cached = 0;
        // 200-byte cells, each seen twice: each cache alone would keep all 4,000 of them.
        let cell = |i: usize| format!("{i:0>200}");
        for i in 0..4000 {
            for cache in [&mut a, &mut b] {
                for _ in 0..2 {
                    if cache.get(&cell(i), 1, &mut cached).is_none() {
                        cache.put(&cell(i), &[1], &mut cached);
                    }
                }
            }
        }
        assert!(!a.off && !b.off);
        assert_eq!(cached, a.size() + b.size());
        assert!(
            cached <= Cache::BUDGET && cached > Cache::BUDGET - 2 * 208,
            "{cached}"
        );
        assert!(
            b.index.len() > 1000,
            "both caches got a share: {}",
            b.index.len()
        );
    }
}
