//! Conditions compiled for one header: columns are indices, word lists are automata, regexes
//! are built. Nothing here looks at rules.toml again.

use std::collections::HashSet;
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use foldhash::fast::FixedState;
use regex::Regex;

use super::Row;
use super::probe::{Memo, Probe};

/// A column index, or `None` for an optional field absent from this input (reads as empty).
pub type Col = Option<usize>;

/// A condition ready to run on rows.
#[derive(Debug)]
pub enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Text(TextTest),
    /// A typed test on a slot: the cell parsed once per row (see `Slot`).
    Typed {
        slot: usize,
        test: TypedTest,
    },
}

/// A cell read as a number, a day or a boolean, once per row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Empty,
    Unreadable,
    Number(f64),
    Day(i32),
    Bool(bool),
}

#[derive(Debug, Clone)]
pub enum TypedTest {
    /// A number comparison; `false` on an empty or unreadable cell.
    Number(NumTest),
    NumberIn {
        values: Vec<f64>,
        negate: bool,
    },
    /// A day comparison, in days since 1970-01-01.
    Day(DayTest),
    DayIn {
        days: Vec<i32>,
        negate: bool,
    },
    Bool {
        want: bool,
        negate: bool,
    },
}

#[derive(Debug, Clone, Copy)]
pub enum NumTest {
    Eq(f64),
    Ne(f64),
    Gt(f64),
    AtLeast(f64),
    Lt(f64),
    AtMost(f64),
    Between(f64, f64),
}

#[derive(Debug, Clone, Copy)]
pub enum DayTest {
    /// The day is at most this many days before the as-of day (or after it).
    OnOrAfter(i32),
    /// Strictly before the given day.
    Before(i32),
    /// Strictly after the given day.
    After(i32),
    Between(i32, i32),
}

/// A text operator on a trimmed cell, case-insensitive unless `fold` is false.
#[derive(Debug)]
pub struct TextTest {
    pub col: Col,
    pub fold: bool,
    pub kind: TextKind,
}

#[derive(Debug)]
pub enum TextKind {
    Eq(String),
    Ne(String),
    In(WordSet),
    NotIn(WordSet),
    /// `None` when there is no needle; the needles are kept for `probe::share`.
    ContainsAny {
        ac: Option<AhoCorasick>,
        needles: Vec<String>,
    },
    StartsWith(String),
    EndsWith(String),
    Matches(Regex),
    DomainIn(WordSet),
    Present(bool),
    /// One bit of a probe shared with other tests on the column (see `probe`), negated for
    /// `not_in`.
    Probe {
        probe: Arc<Probe>,
        bit: u32,
        negate: bool,
    },
}

/// Exact-match lookup for a list of words (already folded when the test folds).
#[derive(Debug)]
pub enum WordSet {
    Few(Few),
    /// A fast hash (cells are short and rule files trusted; SipHash cost more than the
    /// rest of a heavy rule file put together).
    Many(HashSet<Vec<u8>, FixedState>),
}

impl WordSet {
    pub fn new(words: Vec<String>) -> WordSet {
        if words.len() <= 12 {
            WordSet::Few(Few::new(words))
        } else {
            let mut set = HashSet::with_capacity_and_hasher(words.len(), FixedState::with_seed(0));
            set.extend(words.into_iter().map(String::into_bytes));
            WordSet::Many(set)
        }
    }

    fn contains(&self, word: &str) -> bool {
        match self {
            WordSet::Few(few) => few.words.iter().any(|w| w == word),
            WordSet::Many(set) => set.contains(word.as_bytes()),
        }
    }

    /// `contains` for an ASCII cell against words folded to lower case.
    fn contains_ascii_ci(&self, word: &str) -> bool {
        match self {
            WordSet::Few(few) => few.contains_ascii_ci(word),
            WordSet::Many(set) => {
                let (mut stack, mut long) = ([0u8; 64], String::new());
                set.contains(ascii_lowered(word, &mut stack, &mut long))
            }
        }
    }
}

/// An ASCII `word` lower-cased: on `stack` when it fits (no allocation for a cell of usual
/// length), else in `long`.
pub(super) fn ascii_lowered<'a>(
    word: &str,
    stack: &'a mut [u8; 64],
    long: &'a mut String,
) -> &'a [u8] {
    match stack.get_mut(..word.len()) {
        Some(lowered) => {
            lowered.copy_from_slice(word.as_bytes());
            lowered.make_ascii_lowercase();
            lowered
        }
        None => {
            long.clear();
            long.push_str(word);
            long.make_ascii_lowercase();
            long.as_bytes()
        }
    }
}

/// A short word list. Its ASCII words of up to 16 bytes are also kept packed, so that an
/// ASCII cell is compared with all of them at once: lower-cased into one 16-byte value, then
/// one comparison per word and no branch on which one matched (such branches were most of
/// the cost of an `in` on a country or industry column).
#[derive(Debug)]
pub struct Few {
    pub(super) words: Vec<String>,
    /// The packed words (see `pack`), with their lengths (padding alone cannot tell `us`
    /// from `us\0`).
    packed: Vec<(u128, usize)>,
    /// Some ASCII word is longer than 16 bytes: cells that long are compared word by word.
    long: bool,
}

impl Few {
    fn new(words: Vec<String>) -> Few {
        let packed = words
            .iter()
            .filter(|w| w.is_ascii())
            .filter_map(|w| Some((pack(w.as_bytes())?, w.len())))
            .collect();
        let long = words.iter().any(|w| w.is_ascii() && w.len() > 16);
        Few {
            words,
            packed,
            long,
        }
    }

    /// Whether the ASCII `cell` is one of the words (folded to lower case) ignoring ASCII case.
    /// A word that is not ASCII never equals an ASCII cell.
    fn contains_ascii_ci(&self, cell: &str) -> bool {
        match pack(cell.as_bytes()) {
            Some(key) => {
                let len = cell.len();
                (self.packed.iter()).fold(false, |found, &(w, l)| found | ((w == key) & (l == len)))
            }
            None => self.long && self.words.iter().any(|w| w.eq_ignore_ascii_case(cell)),
        }
    }
}

/// Up to 16 bytes lower-cased (ASCII) and zero-padded into one value; `None` when longer.
fn pack(bytes: &[u8]) -> Option<u128> {
    let mut buf = [0u8; 16];
    buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(lower_ascii(u128::from_le_bytes(buf)))
}

/// Each of sixteen bytes lower-cased (ASCII letters only, as `u8::to_ascii_lowercase`),
/// all at once: a byte loop was most of `pack`'s time. Per byte, the high bit of `b + 0x3f`
/// says `b >= 'A'` and that of `b + 0x25` says `b > 'Z'` (on the low seven bits, so
/// nothing carries into the next byte; bytes with the high bit set are left alone).
fn lower_ascii(x: u128) -> u128 {
    const ONES: u128 = u128::MAX / 0xff;
    let low7 = x & (ONES * 0x7f);
    let from_a = low7 + ONES * u128::from(0x80 - b'A');
    let past_z = low7 + ONES * u128::from(0x80 - b'Z' - 1);
    let upper = from_a & !past_z & !x & (ONES * 0x80);
    x | (upper >> 2)
}

/// Surrounding whitespace removed: ASCII first (cheap), then any Unicode whitespace left.
pub fn trim(s: &str) -> &str {
    let t = s.trim_ascii();
    let b = t.as_bytes();
    if b.first().is_none_or(u8::is_ascii) && b.last().is_none_or(u8::is_ascii) {
        t
    } else {
        t.trim()
    }
}

/// The trimmed cell, lower-cased into `buf` only when it has something to lower.
pub(super) fn folded<'a>(cell: &'a str, fold: bool, buf: &'a mut String) -> &'a str {
    if !fold {
        return cell;
    }
    if cell.is_ascii() {
        if !cell.bytes().any(|b| b.is_ascii_uppercase()) {
            return cell;
        }
        buf.clear();
        buf.extend(cell.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        buf.clear();
        buf.extend(cell.chars().flat_map(char::to_lowercase));
    }
    buf
}

pub fn cell<R: Row + ?Sized>(row: &R, col: Col) -> &str {
    col.map_or("", |c| row.cell(c))
}

impl TextTest {
    fn eval<R: Row + ?Sized>(&self, row: &R, memo: &mut Memo) -> bool {
        if let TextKind::Probe { probe, bit, negate } = &self.kind {
            // The cell is read only when the probe has not run on this row yet.
            return probe.holds(|| trim(cell(row, self.col)), *bit, memo) != *negate;
        }
        let raw = trim(cell(row, self.col));
        match &self.kind {
            TextKind::Present(want) => raw.is_empty() != *want,
            TextKind::Matches(re) => re.is_match(raw),
            // An ASCII cell compares case-insensitively in place; only other cells are folded.
            kind if self.fold && raw.is_ascii() => match kind {
                TextKind::Eq(w) => raw.eq_ignore_ascii_case(w),
                TextKind::Ne(w) => !raw.eq_ignore_ascii_case(w),
                TextKind::In(set) => set.contains_ascii_ci(raw),
                TextKind::NotIn(set) => !set.contains_ascii_ci(raw),
                TextKind::ContainsAny { ac, .. } => ac.as_ref().is_some_and(|ac| ac.is_match(raw)),
                TextKind::StartsWith(w) => {
                    raw.len() >= w.len()
                        && raw.as_bytes()[..w.len()].eq_ignore_ascii_case(w.as_bytes())
                }
                TextKind::EndsWith(w) => {
                    raw.len() >= w.len()
                        && raw.as_bytes()[raw.len() - w.len()..].eq_ignore_ascii_case(w.as_bytes())
                }
                TextKind::DomainIn(set) => memchr::memrchr(b'@', raw.as_bytes())
                    .is_some_and(|at| set.contains_ascii_ci(trim(&raw[at + 1..]))),
                TextKind::Present(_) | TextKind::Matches(_) | TextKind::Probe { .. } => false,
            },
            kind => {
                let s = folded(raw, self.fold, &mut memo.buf);
                match kind {
                    TextKind::Eq(w) => s == w,
                    TextKind::Ne(w) => s != w,
                    TextKind::In(set) => set.contains(s),
                    TextKind::NotIn(set) => !set.contains(s),
                    TextKind::ContainsAny { ac, .. } => {
                        ac.as_ref().is_some_and(|ac| ac.is_match(s))
                    }
                    TextKind::StartsWith(w) => s.starts_with(w.as_str()),
                    TextKind::EndsWith(w) => s.ends_with(w.as_str()),
                    TextKind::DomainIn(set) => s
                        .rfind('@')
                        .is_some_and(|at| set.contains(trim(&s[at + 1..]))),
                    TextKind::Present(_) | TextKind::Matches(_) | TextKind::Probe { .. } => false,
                }
            }
        }
    }
}

impl Value {
    /// The value as one number for a `Range`: days count from 1970, booleans are 0 and 1,
    /// an empty or unreadable cell is NaN (which no number read from a cell is).
    #[inline]
    pub(super) fn as_number(self) -> f64 {
        match self {
            Value::Number(n) => n,
            Value::Day(d) => f64::from(d),
            Value::Bool(b) => f64::from(u8::from(b)),
            Value::Empty | Value::Unreadable => f64::NAN,
        }
    }
}

/// A typed test as an interval of numbers: it holds when `lo <= v <= hi`, or with `negate`
/// outside it, and never on NaN (an empty or unreadable cell). Every comparison, day and
/// boolean test is one; deciding many of them is then the same two compares each, with no
/// branch on which kind of test comes next (as a match on the test has).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Range {
    lo: f64,
    hi: f64,
    negate: bool,
}

impl Range {
    #[inline]
    pub(super) fn holds(self, v: f64) -> bool {
        let inside = (self.lo <= v) & (v <= self.hi);
        !v.is_nan() & (inside != self.negate)
    }
}

/// The `Range`s of several rules on one slot, decided together: the numbers where any of
/// them starts or stops holding cut the line into intervals, inside each of which every one
/// of them holds or fails throughout; a binary search finds the value's interval, and a
/// mask gives the rules that hold in it. Twenty `within_days` on one date cost one search
/// instead of twenty compares.
#[derive(Debug)]
pub(super) struct Steps {
    /// Sorted and distinct, the first minus infinity, so that every number but NaN is at
    /// or past the first: interval `k` is `cuts[k - 1] <= v < cuts[k]`, interval 0 NaN only.
    cuts: Box<[f64]>,
    /// The rules' bits start in this word of the matched-rules bits...
    pub first: usize,
    /// ...and span this many.
    width: usize,
    /// Per interval, `width` words: the rules that hold there.
    masks: Box<[u64]>,
}

impl Steps {
    /// Steps for `ranges`, each a rule's index and its range.
    pub(super) fn new(ranges: &[(usize, Range)]) -> Steps {
        let mut cuts = vec![f64::NEG_INFINITY];
        for (_, r) in ranges {
            // `lo <= v` starts holding at `lo`; `v <= hi` stops at the number after `hi`
            // (never, for infinity). A NaN bound never holds, anywhere.
            if !r.lo.is_nan() {
                cuts.push(r.lo);
            }
            if !r.hi.is_nan() && r.hi != f64::INFINITY {
                cuts.push(r.hi.next_up());
            }
        }
        cuts.sort_by(f64::total_cmp);
        // -0 and +0 compare equal: one cut for both.
        cuts.dedup_by(|a, b| a == b);
        let (first, width) = super::word_span(ranges.iter().map(|r| r.0));
        let mut masks = vec![0u64; (cuts.len() + 1) * width];
        // Interval 0 (NaN) holds nothing; interval k holds what holds at its start.
        for (k, mask) in masks.chunks_exact_mut(width).enumerate().skip(1) {
            for &(rule, range) in ranges {
                mask[rule / 64 - first] |= u64::from(range.holds(cuts[k - 1])) << (rule % 64);
            }
        }
        Steps {
            cuts: cuts.into(),
            first,
            width,
            masks: masks.into(),
        }
    }

    /// The bits of the rules that hold on `v`, from word `first` on.
    #[inline]
    pub(super) fn holding(&self, v: f64) -> &[u64] {
        let k = self.cuts.partition_point(|&c| c <= v);
        &self.masks[k * self.width..][..self.width]
    }
}

/// The least number above `x`, so that `n > x` is `n >= above(x)`; NaN above infinity
/// (nothing is, and NaN fails every compare).
fn above(x: f64) -> f64 {
    if x == f64::INFINITY {
        f64::NAN
    } else {
        x.next_up()
    }
}

/// The greatest number below `x` (see `above`).
fn below(x: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        f64::NAN
    } else {
        x.next_down()
    }
}

impl TypedTest {
    /// The test as a `Range`: all but the `in` lists of numbers and days. It gives
    /// `eval(value)` as `holds(value.as_number())` for a value of the test's own type (a
    /// slot's values are).
    pub(super) fn range(&self) -> Option<Range> {
        const INF: f64 = f64::INFINITY;
        let within = |lo: f64, hi: f64| Range {
            lo,
            hi,
            negate: false,
        };
        let range = match self {
            TypedTest::Number(t) => match *t {
                NumTest::Eq(x) => within(x, x),
                NumTest::Ne(x) => Range {
                    negate: true,
                    ..within(x, x)
                },
                NumTest::Gt(x) => within(above(x), INF),
                NumTest::AtLeast(x) => within(x, INF),
                NumTest::Lt(x) => within(-INF, below(x)),
                NumTest::AtMost(x) => within(-INF, x),
                NumTest::Between(lo, hi) => within(lo, hi),
            },
            // Days are whole: `d > x` is `d >= x + 1`, exactly, for every i32.
            TypedTest::Day(t) => match *t {
                DayTest::OnOrAfter(x) => within(f64::from(x), INF),
                DayTest::Before(x) => within(-INF, f64::from(x) - 1.0),
                DayTest::After(x) => within(f64::from(x) + 1.0, INF),
                DayTest::Between(lo, hi) => within(f64::from(lo), f64::from(hi)),
            },
            TypedTest::Bool { want, negate } => {
                let w = f64::from(u8::from(*want));
                Range {
                    negate: *negate,
                    ..within(w, w)
                }
            }
            TypedTest::NumberIn { .. } | TypedTest::DayIn { .. } => return None,
        };
        Some(range)
    }

    #[inline]
    pub(super) fn eval(&self, value: Value) -> bool {
        match (self, value) {
            (TypedTest::Number(t), Value::Number(n)) => match *t {
                NumTest::Eq(x) => n == x,
                NumTest::Ne(x) => n != x,
                NumTest::Gt(x) => n > x,
                NumTest::AtLeast(x) => n >= x,
                NumTest::Lt(x) => n < x,
                NumTest::AtMost(x) => n <= x,
                NumTest::Between(lo, hi) => lo <= n && n <= hi,
            },
            (TypedTest::NumberIn { values, negate }, Value::Number(n)) => {
                values.contains(&n) != *negate
            }
            (TypedTest::Day(t), Value::Day(d)) => match *t {
                DayTest::OnOrAfter(x) => d >= x,
                DayTest::Before(x) => d < x,
                DayTest::After(x) => d > x,
                DayTest::Between(lo, hi) => lo <= d && d <= hi,
            },
            (TypedTest::DayIn { days, negate }, Value::Day(d)) => days.contains(&d) != *negate,
            (TypedTest::Bool { want, negate }, Value::Bool(b)) => (b == *want) != *negate,
            // Empty and unreadable cells never satisfy a typed test.
            _ => false,
        }
    }
}

impl Cond {
    /// Whether the condition holds on `row`, whose typed cells are `values`. `memo` must
    /// have been moved to this row (`Memo::next_row`).
    #[inline]
    pub fn eval<R: Row + ?Sized>(&self, row: &R, values: &[Value], memo: &mut Memo) -> bool {
        // Most rules test one cell: those are decided here, without a call per level.
        match self {
            Cond::Typed { slot, test } => test.eval(values[*slot]),
            Cond::Text(t) => t.eval(row, memo),
            _ => self.eval_nested(row, values, memo),
        }
    }

    #[inline(never)]
    fn eval_nested<R: Row + ?Sized>(&self, row: &R, values: &[Value], memo: &mut Memo) -> bool {
        match self {
            Cond::All(cs) => cs.iter().all(|c| c.eval(row, values, memo)),
            Cond::Any(cs) => cs.iter().any(|c| c.eval(row, values, memo)),
            Cond::Not(c) => !c.eval(row, values, memo),
            Cond::Text(t) => t.eval(row, memo),
            Cond::Typed { slot, test } => test.eval(values[*slot]),
        }
    }

    /// Every text test in the condition.
    pub fn each_text(&self, f: &mut impl FnMut(&TextTest)) {
        match self {
            Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| c.each_text(f)),
            Cond::Not(c) => c.each_text(f),
            Cond::Text(t) => f(t),
            Cond::Typed { .. } => {}
        }
    }

    pub fn each_text_mut(&mut self, f: &mut impl FnMut(&mut TextTest)) {
        match self {
            Cond::All(cs) | Cond::Any(cs) => cs.iter_mut().for_each(|c| c.each_text_mut(f)),
            Cond::Not(c) => c.each_text_mut(f),
            Cond::Text(t) => f(t),
            Cond::Typed { .. } => {}
        }
    }
}

/// Lower-case a needle the way cells are folded.
pub fn fold_needle(s: &str, fold: bool) -> String {
    let s = s.trim();
    if fold {
        s.chars().flat_map(char::to_lowercase).collect()
    } else {
        s.to_string()
    }
}

/// `contains_any` on `needles` (already folded): an automaton finding any of them, ignoring
/// ASCII case when `fold`.
pub fn contains_any(needles: Vec<String>, fold: bool) -> TextKind {
    let nonempty: Vec<&String> = needles.iter().filter(|n| !n.is_empty()).collect();
    let ac = (!nonempty.is_empty()).then(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(fold)
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(nonempty)
            .expect("an automaton of plain needles builds")
    });
    TextKind::ContainsAny { ac, needles }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    #[test]
    fn folding_only_copies_when_needed() {
        let mut buf = String::new();
        assert_eq!(folded("already lower", true, &mut buf), "already lower");
        assert!(buf.is_empty());
        assert_eq!(folded("MiXeD", true, &mut buf), "mixed");
        assert_eq!(folded("MÜLLER", true, &mut buf), "müller");
        assert_eq!(folded("MiXeD", false, &mut buf), "MiXeD");
    }

    proptest::proptest! {
        /// A short list's packed comparison answers as comparing word by word would: words
        /// of up to 18 bytes and not ASCII, cells that differ from one in case, in one byte
        /// or by one added byte.
        #[test]
        fn short_lists_compare_packed_as_word_by_word(
            words in proptest::collection::vec(
                "|[ab]{1,3}|[ab]{4,7}|[ab]{8,16}|[ab]{17,18}|müller|x\\x00",
                1..4,
            ),
            pick: proptest::sample::Index,
            upper: u32,
            change: Option<proptest::sample::Index>,
            extra in "|\\x00|b",
        ) {
            // The cell: one of the words with some letters upper-cased, maybe one byte
            // changed or one added.
            let mut cell: Vec<u8> = pick.get(&words).bytes().collect();
            for (i, b) in cell.iter_mut().enumerate() {
                if upper >> (i % 32) & 1 == 1 {
                    *b = b.to_ascii_uppercase();
                }
            }
            if let Some(at) = change.filter(|_| !cell.is_empty()) {
                let at = at.index(cell.len());
                cell[at] = if cell[at] == b'c' { b'd' } else { b'c' };
            }
            cell.extend_from_slice(extra.as_bytes());
            let cell = String::from_utf8_lossy(&cell).into_owned();
            let want = words.iter().any(|w| w.eq_ignore_ascii_case(&cell));
            let set = WordSet::new(words);
            proptest::prop_assert!(matches!(set, WordSet::Few(_)));
            if cell.is_ascii() {
                proptest::prop_assert_eq!(set.contains_ascii_ci(&cell), want, "{:?}", cell);
            }
        }
    }

    /// Numbers where comparisons go wrong: signed zeros, the least and greatest, subnormals,
    /// infinities, NaN (their neighbours are added where they are used).
    const EDGE_NUMBERS: [f64; 12] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        5.0,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        f64::MIN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];

    const EDGE_DAYS: [i32; 8] = [0, 1, -1, 2, i32::MAX, i32::MIN, i32::MAX - 1, i32::MIN + 1];

    fn edge_number() -> impl Strategy<Value = f64> {
        use proptest::prelude::*;
        let edges = EDGE_NUMBERS.to_vec();
        prop_oneof![
            proptest::sample::select(edges.clone()),
            proptest::sample::select(edges.clone()).prop_map(f64::next_up),
            proptest::sample::select(edges).prop_map(f64::next_down),
            proptest::num::f64::ANY,
        ]
    }

    fn edge_day() -> impl Strategy<Value = i32> {
        use proptest::prelude::*;
        prop_oneof![
            proptest::sample::select(EDGE_DAYS.to_vec()),
            -3..3i32,
            any::<i32>(),
        ]
    }

    /// Every comparison against every edge number and day (and their neighbours), as a
    /// `Range` and as the test itself.
    #[test]
    fn ranges_agree_with_their_tests_at_the_edges() {
        let numbers: Vec<f64> = EDGE_NUMBERS
            .iter()
            .flat_map(|&x| [x, x.next_up(), x.next_down()])
            .collect();
        let days = EDGE_DAYS;
        // On the value, and on an empty and an unreadable cell.
        let check = |test: TypedTest, value: Value| {
            let range = test.range().expect("a comparison is a range");
            for v in [value, Value::Empty, Value::Unreadable] {
                assert_eq!(
                    range.holds(v.as_number()),
                    test.eval(v),
                    "{test:?} on {v:?}"
                );
            }
        };
        // A cell never reads as NaN (`parse_number` takes digits and separators only).
        let cells: Vec<f64> = numbers.iter().copied().filter(|n| !n.is_nan()).collect();
        for &x in &numbers {
            for &n in &cells {
                for t in [
                    NumTest::Eq,
                    NumTest::Ne,
                    NumTest::Gt,
                    NumTest::AtLeast,
                    NumTest::Lt,
                    NumTest::AtMost,
                ] {
                    check(TypedTest::Number(t(x)), Value::Number(n));
                }
                for &y in &numbers {
                    check(TypedTest::Number(NumTest::Between(x, y)), Value::Number(n));
                }
            }
        }
        for &a in &days {
            for &d in &days {
                for t in [DayTest::OnOrAfter, DayTest::Before, DayTest::After] {
                    check(TypedTest::Day(t(a)), Value::Day(d));
                }
                for &b in &days {
                    check(TypedTest::Day(DayTest::Between(a, b)), Value::Day(d));
                }
            }
        }
        for flags in 0..8u8 {
            let (want, negate) = (flags & 1 == 1, flags & 2 == 2);
            check(
                TypedTest::Bool { want, negate },
                Value::Bool(flags & 4 == 4),
            );
        }
    }

    proptest::proptest! {
        /// A typed test as a `Range` holds exactly where the test does, on values of its type
        /// and on empty and unreadable cells.
        #[test]
        fn a_range_holds_where_its_test_does(
            x in edge_number(),
            y in edge_number(),
            // A cell never reads as NaN (`parse_number` takes digits and separators only).
            n in edge_number().prop_filter("a cell's number", |n| !n.is_nan()),
            a in edge_day(),
            b in edge_day(),
            d in edge_day(),
            op in 0..7usize,
            want: bool,
            negate: bool,
            checked: bool,
        ) {
            let num = number_tests(x, y)[op];
            let day = [
                DayTest::OnOrAfter(a),
                DayTest::Before(a),
                DayTest::After(a),
                DayTest::Between(a, b),
            ][op % 4];
            let cases = [
                (TypedTest::Number(num), Value::Number(n)),
                (TypedTest::Day(day), Value::Day(d)),
                (TypedTest::Bool { want, negate }, Value::Bool(checked)),
            ];
            for (test, value) in cases {
                let range = test.range().expect("a comparison is a range");
                for v in [value, Value::Empty, Value::Unreadable] {
                    proptest::prop_assert_eq!(
                        range.holds(v.as_number()),
                        test.eval(v),
                        "{:?} on {:?}",
                        test,
                        v
                    );
                }
            }
        }
    }

    /// Every kind of number comparison, with `x` (and `between` `x` and `y`).
    fn number_tests(x: f64, y: f64) -> [NumTest; 7] {
        [
            NumTest::Eq(x),
            NumTest::Ne(x),
            NumTest::Gt(x),
            NumTest::AtLeast(x),
            NumTest::Lt(x),
            NumTest::AtMost(x),
            NumTest::Between(x, y),
        ]
    }

    /// Every number comparison on edge numbers, as ranges of rules spread over several
    /// words of the matched-rules bits.
    fn edge_ranges() -> Vec<Range> {
        let edges = EDGE_NUMBERS
            .iter()
            .flat_map(|&x| [x, x.next_up(), x.next_down()]);
        let tests = edges.flat_map(|x| {
            number_tests(x, 1.0)
                .into_iter()
                .chain([NumTest::Between(-1.0, x)])
        });
        tests
            .map(|t| {
                TypedTest::Number(t)
                    .range()
                    .expect("a comparison is a range")
            })
            .collect()
    }

    /// Steps give every rule's range on every value, NaN (empty, unreadable) included.
    fn check_steps(rules: &[(usize, Range)], values: &[f64]) {
        let steps = Steps::new(rules);
        for &v in values {
            let holding = steps.holding(v);
            for &(rule, range) in rules {
                let word = holding[rule / 64 - steps.first];
                assert_eq!(
                    word >> (rule % 64) & 1 == 1,
                    range.holds(v),
                    "rule {rule}, {range:?} on {v:?}"
                );
            }
            // No bit outside the rules'.
            let set: u32 = holding.iter().map(|w| w.count_ones()).sum();
            let want = rules.iter().filter(|(_, r)| r.holds(v)).count();
            assert_eq!(set as usize, want, "on {v:?}");
        }
    }

    #[test]
    fn steps_decide_every_edge_comparison_as_its_range_does() {
        let ranges = edge_ranges();
        let values: Vec<f64> = (EDGE_NUMBERS.iter())
            .flat_map(|&x| [x, x.next_up(), x.next_down()])
            .chain([2.0, 0.5, -0.5, 1e300, -1e300])
            .collect();
        // All together, from rule 3 on (words 0 to 4), and each alone at rule 130.
        let all: Vec<(usize, Range)> = (3..).zip(ranges.iter().copied()).collect();
        check_steps(&all, &values);
        for &range in &ranges {
            check_steps(&[(130, range)], &values);
        }
        // Days and booleans are ranges too.
        let days: Vec<(usize, Range)> = (EDGE_DAYS.iter())
            .flat_map(|&d| [DayTest::OnOrAfter(d), DayTest::Before(d), DayTest::After(d)])
            .map(|t| TypedTest::Day(t).range().expect("a day test is a range"))
            .enumerate()
            .collect();
        let day_values: Vec<f64> = EDGE_DAYS.iter().map(|&d| f64::from(d)).collect();
        check_steps(&days, &day_values);
        let flags: Vec<(usize, Range)> = (0..4u8)
            .map(|f| TypedTest::Bool {
                want: f & 1 == 1,
                negate: f & 2 == 2,
            })
            .map(|t| t.range().expect("a boolean test is a range"))
            .enumerate()
            .collect();
        check_steps(&flags, &[0.0, 1.0, f64::NAN]);
    }

    proptest::proptest! {
        /// Steps of a random few ranges at random rules, on random and edge values.
        #[test]
        fn steps_hold_where_their_ranges_do(
            picks in proptest::collection::vec((0..edge_ranges().len(), 0..300usize), 1..12),
            values in proptest::collection::vec(edge_number(), 1..20),
        ) {
            let ranges = edge_ranges();
            let mut rules: Vec<(usize, Range)> =
                picks.iter().map(|&(r, rule)| (rule, ranges[r])).collect();
            rules.sort_by_key(|r| r.0);
            rules.dedup_by_key(|r| r.0);
            check_steps(&rules, &values);
        }
    }

    #[test]
    fn sixteen_bytes_lower_case_as_each_byte_does() {
        for b in 0..=255u8 {
            for lane in 0..16 {
                // The byte among neighbours that are letters, around the case edges, or not ASCII.
                let mut bytes: [u8; 16] = *b"@AZ[`az{\x00\x7f\x80\xc1\xdaMm\xff";
                bytes[lane] = b;
                let want = bytes.map(|c| c.to_ascii_lowercase());
                let got = lower_ascii(u128::from_le_bytes(bytes)).to_le_bytes();
                assert_eq!(got, want, "{b:#x} in lane {lane}");
            }
        }
    }

    #[test]
    fn a_short_list_tells_apart_cells_differing_in_any_one_byte() {
        for n in 0..=18 {
            let word: String = "abcdefghijklmnopqr"[..n].to_string();
            let set = WordSet::new(vec![word.clone(), "zz".into()]);
            assert!(set.contains_ascii_ci(&word.to_uppercase()), "{word}");
            for at in 0..n {
                let mut cell = word.clone().into_bytes();
                cell[at] = b'_';
                let cell = String::from_utf8(cell).expect("ASCII");
                assert!(!set.contains_ascii_ci(&cell), "{cell}");
            }
            assert!(!set.contains_ascii_ci(&format!("{word}\0")), "{word}");
        }
    }

    #[test]
    fn long_word_lists_are_searched_like_short_ones() {
        let words: Vec<String> = (0..40)
            .map(|i| format!("w{i}"))
            .chain(["acme.com".into()])
            .collect();
        let many = WordSet::new(words.clone());
        assert!(matches!(many, WordSet::Many(_)));
        let long = "x".repeat(80);
        for probe in ["w0", "w39", "acme.com", "w40", "", "a", "zz", &long] {
            let want = words.iter().any(|w| w == probe);
            assert_eq!(many.contains(probe), want, "{probe}");
            assert_eq!(many.contains_ascii_ci(probe), want, "{probe}");
            assert_eq!(
                many.contains_ascii_ci(&probe.to_uppercase()),
                want,
                "{probe}"
            );
        }
    }
}
