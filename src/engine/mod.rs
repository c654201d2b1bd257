//! The scoring engine: rules compiled against one input header, applied to one row at a time.
//!
//! `Engine` is built once per run and never changes, so threads can share it; each thread
//! keeps its own `Scratch` (parsed cells, a folding buffer, counters). The engine knows
//! nothing of files, flags or output formats.

pub mod bind;
pub mod cell;
pub mod explain;
mod matcher;
mod probe;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use jiff::civil::Date;

pub use bind::{Binding, Header, Problem, Unbound};
pub use explain::{Explanation, GroupTrace, Read, RouteTrace, RuleTrace, TierTrace, Trace};
pub use matcher::Value;
use matcher::{
    Col, Cond, DayTest, NumTest, Range, Steps, TextKind, TextTest, TypedTest, WordSet,
    contains_any, fold_needle,
};
use probe::{Memo, Probe};

use crate::rules::{Condition, Decimal, FieldKind, GroupId, Op, Points, Rules, Scalar, Test, Tier};

/// One contact's cells, by column index. Cells past the end read as empty.
pub trait Row {
    fn cell(&self, col: usize) -> &str;
}

impl Row for csv::StringRecord {
    fn cell(&self, col: usize) -> &str {
        self.get(col).unwrap_or("")
    }
}

impl Row for [&str] {
    fn cell(&self, col: usize) -> &str {
        self.get(col).copied().unwrap_or("")
    }
}

impl Row for Vec<String> {
    fn cell(&self, col: usize) -> &str {
        self.get(col).map_or("", String::as_str)
    }
}

/// Index into `Engine::queues`.
pub type QueueId = usize;

/// A rule that matched a contact, and the points it added.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub rule: usize,
    /// What the rule added, after decay.
    pub points: f64,
    /// The decay factor applied (1 without decay, or with no date to decay from).
    pub decay: f64,
    /// What the rule gives before decay (`points` divided by `decay` can lose it: their
    /// product may fall below what a float holds exactly).
    pub undecayed: f64,
}

/// A group whose subtotal was capped or floored, and by how much (negative for a cap).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clamp {
    pub group: GroupId,
    pub delta: f64,
}

/// Everything the engine decided about one contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The score: the sum of the matched rules' points after group caps, rounded half away
    /// from zero.
    pub score: i64,
    /// Each group's subtotal after its cap and floor, rounded, in `[groups]` order.
    pub groups: Vec<i64>,
    pub tier: Option<Tier>,
    pub queue: QueueId,
    /// Matched rules in file order.
    pub hits: Vec<Hit>,
    pub clamps: Vec<Clamp>,
    pub disqualified: bool,
    /// The route that decided the queue, if one did.
    pub route: Option<usize>,
}

impl Outcome {
    pub fn tier(&self) -> Tier {
        self.tier.unwrap_or(Tier::Cold)
    }
}

/// Per-worker state: cells parsed for the current row, what its probes found, and counters.
#[derive(Debug, Clone)]
pub struct Scratch {
    values: Vec<Value>,
    /// `values` as numbers, for `Range`s (`Value::as_number`).
    numbers: Vec<f64>,
    memo: Memo,
    sums: Vec<f64>,
    /// Bit `i`: rule `i` matched the current row.
    matched: Vec<u64>,
    /// Bit `i`: leaf `i` of the `Lists` held on the current row.
    leaves: Vec<u64>,
    pub stats: Stats,
}

/// Counters kept while scoring; merged across workers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Per field used by typed conditions (`Engine::typed_fields`): rows whose cell could
    /// not be read as the type the conditions need.
    pub unreadable: Vec<u64>,
}

impl Stats {
    pub fn merge(&mut self, other: &Stats) {
        for (a, b) in self.unreadable.iter_mut().zip(&other.unreadable) {
            *a += b;
        }
    }
}

/// How a slot reads its cell.
#[derive(Debug, Clone, PartialEq)]
enum SlotKind {
    Number,
    /// A number written with a decimal comma (`decimal = ","`).
    NumberComma,
    /// A number written with a decimal point (`decimal = "."`, a workbook's numbers).
    NumberPoint,
    Bool,
    Date(Vec<String>),
}

/// One typed cell, parsed once per row whatever the number of conditions reading it.
#[derive(Debug, Clone)]
struct Slot {
    col: Col,
    kind: SlotKind,
    /// Index into `Engine::typed_fields`, for counting unreadable cells.
    field: usize,
}

#[derive(Debug)]
enum RulePoints {
    None,
    Fixed(f64),
    Per {
        slot: usize,
        points: f64,
        max: Option<f64>,
    },
}

/// What the score needs of a matched rule, packed apart from its condition so that summing
/// a contact's matches reads a few bytes per rule.
#[derive(Debug, Clone, Copy)]
struct Tally {
    /// Its points when they are the same for every contact (fixed, no decay); else `None`
    /// (see `Engine::points_of`).
    fixed: Option<f64>,
    group: Option<GroupId>,
    disqualify: bool,
}

#[derive(Debug)]
struct CompiledRule {
    when: Option<Cond>,
    points: RulePoints,
    disqualify: bool,
    group: Option<GroupId>,
    /// The date slot and half-life of its decay (its own or its group's).
    decay: Option<(usize, f64)>,
}

/// How the rules' conditions are decided on each row, by kind, so that each kind is decided
/// in a loop of its own rather than through a dispatch per rule (a heavy rule file is mostly
/// probe bits and typed tests).
#[derive(Debug, Default)]
struct Plan {
    /// The probes that `bits`, `quads` and `lists` read, each with its column: run at the
    /// start of every row.
    probes: Vec<(Arc<Probe>, Col)>,
    /// Rules whose condition is one probe's test: rule, where its result lies in the memo,
    /// negated (`not_in`). Only those the `quads` do not decide.
    bits: Vec<(usize, usize, bool)>,
    /// Such rules by four tests at a time: the four result bits pick the mask of the rules
    /// they decide (see `Quad`), in place of a look at each rule's bit...
    quads: Vec<Quad>,
    /// ...from these masks...
    quad_masks: Vec<u64>,
    /// ...and then the bits of those rules that are negated flipped (word, bits).
    negated: Vec<(usize, u64)>,
    /// Rules whose condition is one typed test that is a `Range` (all but the `in` lists):
    /// rule, slot, range. Only those the `steps` do not decide.
    ranges: Vec<(usize, usize, Range)>,
    /// Such rules where a slot has `STEPS_FROM` or more of them (and their masks stay
    /// within `STEPS_MAX_WORDS`): each slot's decided together, with one search (slot, its
    /// ranges).
    steps: Vec<(usize, Steps)>,
    /// Rules whose condition is another typed test: rule, slot, test.
    typed: Vec<(usize, usize, TypedTest)>,
    /// Rules whose condition is an `all` or an `any` of typed tests and probes' tests.
    lists: Option<Box<Lists>>,
    /// Every other rule.
    general: Vec<usize>,
}

/// The rules whose condition is an `all` or an `any` of leaves (typed tests and probes'
/// tests). Every leaf of every list is decided first, as if it were a rule of its own plan,
/// into bits (so twenty `between`s on one column are one search, as twenty rules would be).
/// The leaves of short lists lie in planes, one per place in a list: leaf `j` of rule `r`
/// is bit `r` of plane `j`, and places past a list's end hold what changes nothing (1 for an
/// `all`, 0 for an `any`). Then an and (or an or) of the planes, word by word, decides sixty-
/// four lists at once; deciding list by list cost a 200-rule file of `all`s of two tests
/// four times as much. Longer lists keep their leaves in a row, after the planes, and are
/// decided one by one (`List`).
#[derive(Debug)]
struct Lists {
    /// The leaves: each is a "rule" of this plan, at its place in the bits; it has only the
    /// kinds a leaf can be (bits, quads, ranges, steps, typed).
    leaves: Plan,
    /// Words of leaf bits (`Scratch::leaves`): the planes, then the long lists' leaves.
    words: usize,
    /// The planes, each of `width` words: one bit per rule, as in words
    /// `first..first + width` of the matched-rules bits.
    planes: usize,
    first: usize,
    width: usize,
    /// The planes' bits before any leaf is decided: the places past each list's end.
    pad: Vec<u64>,
    /// The rules that are an `all` (`all`), or an `any` (`any`), decided by the planes.
    all: Vec<u64>,
    any: Vec<u64>,
    long: Vec<List>,
}

/// A list longer than `Lists` puts in planes: rule `rule`'s condition, an `any` (else an
/// `all`) of the leaves `first..first + len`.
#[derive(Debug)]
struct List {
    rule: usize,
    any: bool,
    first: usize,
    len: usize,
}

/// The longest list whose leaves lie in planes: the planes cost a word per plane and per
/// sixty-four rules on every row, whatever the lists' lengths.
const PLANES_MAX: usize = 8;

impl Lists {
    /// `lists`: rule, `any` (else `all`), its leaves.
    fn new(lists: Vec<(usize, bool, Vec<Leaf>)>) -> Lists {
        let short = || (lists.iter()).filter(|(_, _, l)| l.len() <= PLANES_MAX);
        let planes = short().map(|(_, _, l)| l.len()).max().unwrap_or(0);
        // The planes span the words of the matched-rules bits that short lists' rules lie
        // in, not all of them: a big rule file with one list pays for one word.
        let (first, width) = word_span(short().map(|(rule, _, _)| *rule));
        let mut leaves = Plan::default();
        let (mut pad, mut all, mut any) = (
            vec![0u64; planes * width],
            vec![0u64; width],
            vec![0u64; width],
        );
        let mut long = Vec::new();
        let mut next = planes * width * 64;
        for (rule, is_any, list) in lists {
            if list.len() > planes {
                let len = list.len();
                for (at, leaf) in (next..).zip(list) {
                    leaves.place(at, leaf);
                }
                long.push(List {
                    rule,
                    any: is_any,
                    first: next,
                    len,
                });
                next += len;
                continue;
            }
            let (w, bit) = (rule / 64 - first, 1u64 << (rule % 64));
            if !is_any {
                for p in list.len()..planes {
                    pad[p * width + w] |= bit;
                }
            }
            for (j, leaf) in list.into_iter().enumerate() {
                leaves.place((j * width + w) * 64 + rule % 64, leaf);
            }
            if is_any {
                any[w] |= bit;
            } else {
                all[w] |= bit;
            }
        }
        leaves.step_slots();
        leaves.quad_bits();
        Lists {
            leaves,
            words: next.div_ceil(64),
            planes,
            first,
            width,
            pad,
            all,
            any,
            long,
        }
    }

    /// Decide every list into `matched`, the leaves' bits in `bits`; the probes have run.
    #[inline]
    fn decide(
        &self,
        matched: &mut [u64],
        bits: &mut [u64],
        memo: &Memo,
        values: &[Value],
        numbers: &[f64],
    ) {
        bits[..self.pad.len()].copy_from_slice(&self.pad);
        bits[self.pad.len()..].fill(0);
        self.leaves.decide_leaves(bits, memo, values, numbers);
        let words = matched.iter_mut().skip(self.first).take(self.width);
        for (w, m) in words.enumerate() {
            let (mut and, mut or) = (u64::MAX, 0u64);
            for p in 0..self.planes {
                let x = bits[p * self.width + w];
                and &= x;
                or |= x;
            }
            *m |= (and & self.all[w]) | (or & self.any[w]);
        }
        set_bits(matched, (self.long.iter()).map(|l| (l.rule, l.holds(bits))));
    }
}

impl List {
    /// Whether the list holds, given its leaves' bits.
    #[inline]
    fn holds(&self, bits: &[u64]) -> bool {
        let (mut all, mut any) = (true, false);
        let (mut at, end) = (self.first, self.first + self.len);
        while at < end {
            let n = (end - at).min(64);
            let (w, off) = (at / 64, at % 64);
            let high = match off {
                0 => 0,
                _ => bits.get(w + 1).map_or(0, |&b| b << (64 - off)),
            };
            let full = u64::MAX >> (64 - n);
            let piece = (bits[w] >> off | high) & full;
            all &= piece == full;
            any |= piece != 0;
            at += n;
        }
        if self.any { any } else { all }
    }
}

/// How many `Range` rules on one slot make it worth deciding them together (`Steps`): a
/// search and a mask cost about what a few compares do.
const STEPS_FROM: usize = 4;

/// The most words of masks one slot's `Steps` may have (512 KiB): past that its rules are
/// decided one by one.
const STEPS_MAX_WORDS: usize = 1 << 16;

/// Or each rule's result into its bit of `matched`. The plan lists rules in order, so
/// neighbours share a word: the bits are gathered in a register and stored once per word.
/// (Or-ing each into memory made every store wait for the one before through the same word;
/// gathering took 4% off a 200-rule file's time.)
#[inline]
fn set_bits(matched: &mut [u64], results: impl Iterator<Item = (usize, bool)>) {
    let (mut word, mut gathered) = (usize::MAX, 0u64);
    for (rule, holds) in results {
        if rule / 64 != word {
            if let Some(m) = matched.get_mut(word) {
                *m |= gathered;
            }
            (word, gathered) = (rule / 64, 0);
        }
        gathered |= u64::from(holds) << (rule % 64);
    }
    if let Some(m) = matched.get_mut(word) {
        *m |= gathered;
    }
}

/// A test of an `all` or `any` in the `Plan`, or a rule's whole condition: a typed test as
/// a range of the slot's number (slot, range), another typed test (slot, test: the `in`
/// lists of numbers and days), or a probe's result (where it lies in the memo, negated).
#[derive(Debug)]
enum Leaf {
    Range(usize, Range),
    Typed(usize, TypedTest),
    Bit(usize, bool),
}

impl Plan {
    fn new(rules: &[CompiledRule]) -> Plan {
        let mut plan = Plan::default();
        let mut lists = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            match &rule.when {
                Some(c @ (Cond::All(parts) | Cond::Any(parts))) if parts.iter().all(is_leaf) => {
                    let leaves = parts.iter().filter_map(|c| plan.leaf(c)).collect();
                    lists.push((i, matches!(c, Cond::Any(_)), leaves));
                }
                Some(c) => match plan.leaf(c) {
                    Some(leaf) => plan.place(i, leaf),
                    None => plan.general.push(i),
                },
                None => plan.general.push(i),
            }
        }
        if !lists.is_empty() {
            plan.lists = Some(Box::new(Lists::new(lists)));
        }
        plan.step_slots();
        plan.quad_bits();
        plan
    }

    /// Rule `rule` (or a list's leaf, in `Lists`), whose condition is `leaf`, in the loop of
    /// its kind.
    fn place(&mut self, rule: usize, leaf: Leaf) {
        match leaf {
            Leaf::Range(slot, range) => self.ranges.push((rule, slot, range)),
            Leaf::Typed(slot, test) => self.typed.push((rule, slot, test)),
            Leaf::Bit(at, negate) => self.bits.push((rule, at, negate)),
        }
    }

    /// Decide the rules of the kinds a leaf can be (bits, quads, ranges, steps, typed) into
    /// `matched`; the probes have run.
    #[inline]
    fn decide_leaves(&self, matched: &mut [u64], memo: &Memo, values: &[Value], numbers: &[f64]) {
        let bits = (self.bits.iter()).map(|&(rule, at, negate)| (rule, memo.bit(at) != negate));
        set_bits(matched, bits);
        for q in &self.quads {
            let x = (memo.word(q.at / 64) >> (q.at % 64)) & 15;
            let masks = &self.quad_masks[q.masks + x as usize * q.width..][..q.width];
            or_from(matched, q.first, masks);
        }
        for &(w, negated) in &self.negated {
            matched[w] ^= negated;
        }
        let typed = (self.typed.iter()).map(|(rule, slot, test)| (*rule, test.eval(values[*slot])));
        set_bits(matched, typed);
        let ranges =
            (self.ranges.iter()).map(|(rule, slot, range)| (*rule, range.holds(numbers[*slot])));
        set_bits(matched, ranges);
        for (slot, steps) in &self.steps {
            or_from(matched, steps.first, steps.holding(numbers[*slot]));
        }
    }

    /// Move the probe-bit rules into `quads`, but where the rules of four neighbouring tests
    /// lie too far apart.
    fn quad_bits(&mut self) {
        let mut by_quad: BTreeMap<usize, Vec<(usize, usize, bool)>> = BTreeMap::new();
        for &(rule, at, negate) in &self.bits {
            by_quad.entry(at / 4).or_default().push((rule, at, negate));
        }
        let span = |rules: &[(usize, usize, bool)]| word_span(rules.iter().map(|r| r.0));
        by_quad.retain(|_, rules| span(rules).1 <= QUAD_WIDTH);
        self.bits
            .retain(|(_, at, _)| !by_quad.contains_key(&(at / 4)));
        let mut negated: BTreeMap<usize, u64> = BTreeMap::new();
        for (quad, rules) in by_quad {
            let (first, width) = span(&rules);
            let masks = self.quad_masks.len();
            self.quad_masks.resize(masks + 16 * width, 0);
            for x in 0..16 {
                for &(rule, at, _) in &rules {
                    if x >> (at % 4) & 1 == 1 {
                        self.quad_masks[masks + x * width + rule / 64 - first] |= 1 << (rule % 64);
                    }
                }
            }
            for &(rule, _, negate) in &rules {
                if negate {
                    *negated.entry(rule / 64).or_default() |= 1 << (rule % 64);
                }
            }
            self.quads.push(Quad {
                at: quad * 4,
                first,
                width,
                masks,
            });
        }
        self.negated = negated.into_iter().collect();
    }

    /// Move the ranges of every slot that has `STEPS_FROM` or more into `steps`.
    fn step_slots(&mut self) {
        let mut by_slot: BTreeMap<usize, Vec<(usize, Range)>> = BTreeMap::new();
        for &(rule, slot, range) in &self.ranges {
            by_slot.entry(slot).or_default().push((rule, range));
        }
        // A mask per interval, as wide as the rules' span: thousands of thresholds on one
        // column across thousands of rules would make megabytes of them.
        let words = |ranges: &[(usize, Range)]| {
            let (_, width) = word_span(ranges.iter().map(|r| r.0));
            (2 * ranges.len() + 2) * width
        };
        // And a word of masks to or costs about what a compare does: a few ranges far apart
        // among the rules are cheaper one by one.
        let worth = |ranges: &[(usize, Range)]| {
            let (_, width) = word_span(ranges.iter().map(|r| r.0));
            ranges.len() >= STEPS_FROM.max(width) && words(ranges) <= STEPS_MAX_WORDS
        };
        by_slot.retain(|_, ranges| worth(ranges));
        self.ranges
            .retain(|(_, slot, _)| !by_slot.contains_key(slot));
        self.steps = (by_slot.into_iter())
            .map(|(slot, ranges)| (slot, Steps::new(&ranges)))
            .collect();
    }

    /// A typed test or a probe's test as a `Leaf` (a probe's then runs at the start of every
    /// row); `None` for any other condition.
    fn leaf(&mut self, cond: &Cond) -> Option<Leaf> {
        match cond {
            Cond::Typed { slot, test } => Some(match test.range() {
                Some(range) => Leaf::Range(*slot, range),
                None => Leaf::Typed(*slot, test.clone()),
            }),
            Cond::Text(TextTest {
                col,
                kind: TextKind::Probe { probe, bit, negate },
                ..
            }) => {
                if !self.probes.iter().any(|(p, _)| Arc::ptr_eq(p, probe)) {
                    self.probes.push((Arc::clone(probe), *col));
                }
                Some(Leaf::Bit(probe.bit_index(*bit), *negate))
            }
            _ => None,
        }
    }
}

/// See `Engine::nibble_sums`: worth it past a word of rules.
const NIBBLE_SUMS_FROM: usize = 64;

/// `Engine::nibble_sums` for these points (a rule's at its index), to the end of the last
/// word of matched-rules bits.
fn nibble_sums(points: &[i64]) -> Vec<i64> {
    let nibbles = points.len().div_ceil(64) * 16;
    let mut sums = vec![0i64; nibbles * 16];
    for (j, set) in sums.chunks_exact_mut(16).enumerate() {
        for (x, sum) in set.iter_mut().enumerate() {
            *sum = (0..4)
                .filter(|b| x >> b & 1 == 1)
                .filter_map(|b| points.get(4 * j + b))
                .sum();
        }
    }
    sums
}

/// The sum of the matched rules' points, by `nibble_sums`.
#[inline]
fn sum_by_nibbles(matched: &[u64], sums: &[i64]) -> i64 {
    let mut total = 0i64;
    for (w, &word) in matched.iter().enumerate() {
        let sets = &sums[w * 256..][..256];
        for j in 0..16 {
            total += sets[j * 16 + (word >> (4 * j) & 15) as usize];
        }
    }
    total
}

/// The words of the matched-rules bits that `rules` lie in: the first, and how many from it.
fn word_span(rules: impl Iterator<Item = usize> + Clone) -> (usize, usize) {
    let words = rules.map(|r| r / 64);
    let first = words.clone().min().unwrap_or(0);
    (first, words.max().unwrap_or(0) + 1 - first)
}

/// Or `mask` into the matched-rules bits from word `first` on.
#[inline]
fn or_from(matched: &mut [u64], first: usize, mask: &[u64]) {
    for (m, b) in matched[first..].iter_mut().zip(mask) {
        *m |= b;
    }
}

/// Four tests of a probe (results at `at..at + 4` in the memo, `at` a multiple of four) and
/// the rules whose conditions they are: result bits `x` (0 to 15) set the words
/// `first..first + width` of the matched-rules bits to `quad_masks[masks + x * width..]`.
#[derive(Debug)]
struct Quad {
    at: usize,
    first: usize,
    width: usize,
    masks: usize,
}

/// The widest span of matched-rules words a `Quad` may set (its rules are its probe's
/// neighbouring tests, which rule files most often write near each other).
const QUAD_WIDTH: usize = 4;

/// Whether `Plan::leaf` takes `cond` (asked before it, which adds the probe it reads).
fn is_leaf(cond: &Cond) -> bool {
    matches!(
        cond,
        Cond::Typed { .. }
            | Cond::Text(TextTest {
                kind: TextKind::Probe { .. },
                ..
            })
    )
}

/// A `[[route]]` compiled for one header.
#[derive(Debug)]
struct CompiledRoute {
    when: Cond,
    /// Per tier (`tier as usize`): whether the route is for contacts of that tier.
    tiers: [bool; 4],
    queue: QueueId,
}

impl CompiledRoute {
    fn for_tier(&self, tier: Tier) -> bool {
        self.tiers[tier as usize]
    }
}

/// Rules compiled for one header.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<CompiledRule>,
    /// Per rule, what the score needs when it matches.
    tallies: Vec<Tally>,
    /// Every rule's points when all are fixed whole numbers and there are no groups (as in
    /// most rule files): the score is then their sum in integers, which is exact in any
    /// order, as the sum in floating point of whole numbers is (see `decide`).
    whole_points: Option<Vec<i64>>,
    /// With `whole_points` and more than `NIBBLE_SUMS_FROM` rules: per four rules, the sum of
    /// the points of each of the sixteen sets of them that can match (rules `4 * j` to
    /// `4 * j + 3` at `16 * j`). Without reasons to record, a row's score is then one
    /// look-up per four rules, where walking the matched rules one by one (eighty of 200 in
    /// a heavy file) ends on a branch no predictor guesses.
    nibble_sums: Option<Vec<i64>>,
    /// The disqualifying rules, as bits (with `whole_points`).
    disqualifying: Vec<u64>,
    plan: Plan,
    routes: Vec<CompiledRoute>,
    tiers: crate::rules::Tiers,
    tier_queue: [QueueId; 4],
    slots: Vec<Slot>,
    /// Rule and group names, for reasons.
    rule_names: Vec<String>,
    /// A rule's whole reason when it never changes (fixed points), built once, after the
    /// `REASON_SEP` that comes before it unless it is the first: one copy per reason.
    reason_texts: Vec<Option<String>>,
    route_names: Vec<String>,
    group_names: Vec<String>,
    group_limits: Vec<(Option<f64>, Option<f64>)>,
    /// Queue names: `Rules::queue_names`, in that order (a `QueueId` indexes both).
    pub queues: Vec<String>,
    /// Fields whose cells typed conditions read, for unreadable-cell counts.
    pub typed_fields: Vec<String>,
    /// How every field the rules use was bound to this header.
    pub bindings: Vec<Binding>,
    /// The as-of day, days since 1970-01-01.
    as_of: i32,
    /// Every number is written with a decimal point (see `Compiler`).
    decimal_point: bool,
    /// `[[rep]]` territories (`None`: a rep who takes any contact).
    reps: Vec<Option<Cond>>,
    /// The `[balance] owner` column.
    owner: Option<Col>,
}

impl Engine {
    /// Compile `rules` for inputs with this header. Fails if a field the rules need has no
    /// column.
    pub fn compile(rules: &Rules, header: &Header, as_of: Date) -> Result<Engine, Vec<Unbound>> {
        let bindings = bind::bind(rules, header)?;
        Ok(Engine::compile_with(
            rules,
            bindings,
            as_of,
            header.decimal_point,
        ))
    }

    /// Compile `rules` with fields already bound to columns (for contacts that do not come
    /// from a CSV, such as a `[[test]]`'s).
    pub fn compile_bound(rules: &Rules, bindings: Vec<Binding>, as_of: Date) -> Engine {
        Engine::compile_with(rules, bindings, as_of, false)
    }

    /// `decimal_point`: every number is written with a decimal point (see `Compiler`).
    fn compile_with(
        rules: &Rules,
        bindings: Vec<Binding>,
        as_of: Date,
        decimal_point: bool,
    ) -> Engine {
        let queues: Vec<String> = rules
            .queue_names()
            .into_iter()
            .map(str::to_string)
            .collect();
        let queue_id = |name: &str| queues.iter().position(|q| q == name).unwrap_or(0);
        let mut cx = Compiler {
            rules,
            bindings: &bindings,
            slots: Vec::new(),
            typed_fields: Vec::new(),
            as_of: cell::day_number(as_of),
            decimal_point,
        };
        let mut compiled_rules: Vec<CompiledRule> = rules
            .rules
            .iter()
            .map(|r| CompiledRule {
                when: r.when.as_ref().map(|c| cx.cond(c)),
                points: match &r.points {
                    None => RulePoints::None,
                    Some(Points::Fixed(p)) => RulePoints::Fixed(*p),
                    Some(Points::Per { field, points, max }) => RulePoints::Per {
                        slot: cx.slot(&field.name, SlotKind::Number),
                        points: *points,
                        max: *max,
                    },
                },
                disqualify: r.disqualify,
                group: r.group,
                decay: rules.decay_of(r).map(|d| {
                    (
                        cx.slot(&d.field.name, SlotKind::Date(Vec::new())),
                        d.half_life_days,
                    )
                }),
            })
            .collect();
        let mut reps: Vec<Option<Cond>> = rules
            .reps
            .iter()
            .map(|rep| rep.when.as_ref().map(|c| cx.cond(c)))
            .collect();
        let owner = rules
            .balance
            .as_ref()
            .and_then(|b| b.owner.as_ref())
            .map(|f| cx.column(&f.name));
        let mut routes: Vec<CompiledRoute> = rules
            .routes
            .iter()
            .map(|r| CompiledRoute {
                when: cx.cond(&r.when),
                tiers: [Tier::Disqualified, Tier::Cold, Tier::Warm, Tier::Hot]
                    .map(|t| r.for_tier(t)),
                queue: queue_id(&r.queue),
            })
            .collect();
        // Tests of one kind on one column run once per row for all of them.
        probe::share(
            &mut compiled_rules
                .iter_mut()
                .filter_map(|r| r.when.as_mut())
                .chain(reps.iter_mut().flatten())
                .chain(routes.iter_mut().map(|r| &mut r.when))
                .collect::<Vec<_>>(),
        );
        // A field declared with a type is checked as that type even where only text
        // operators read it, so its unreadable cells are counted.
        for b in &bindings {
            if let Some(f) = rules.field(&b.field) {
                match f.kind {
                    FieldKind::Number => drop(cx.slot(&f.name, SlotKind::Number)),
                    FieldKind::Date => drop(cx.slot(&f.name, SlotKind::Date(f.formats.clone()))),
                    FieldKind::Bool => drop(cx.slot(&f.name, SlotKind::Bool)),
                    FieldKind::Text => {}
                }
            }
        }
        let q = &rules.queues;
        let Compiler {
            slots,
            typed_fields,
            as_of,
            ..
        } = cx;
        let mut engine = Engine {
            plan: Plan::new(&compiled_rules),
            tallies: compiled_rules
                .iter()
                .map(|r| Tally {
                    fixed: match r.points {
                        _ if r.decay.is_some() => None,
                        RulePoints::Fixed(p) => Some(p),
                        RulePoints::None => Some(0.0),
                        RulePoints::Per { .. } => None,
                    },
                    group: r.group,
                    disqualify: r.disqualify,
                })
                .collect(),
            rules: compiled_rules,
            routes,
            tiers: rules.tiers.clone(),
            // Indexed by `Tier as usize`: Disqualified, Cold, Warm, Hot.
            tier_queue: [
                queue_id(&q.disqualified),
                queue_id(&q.cold),
                queue_id(&q.warm),
                queue_id(&q.hot),
            ],
            reason_texts: Vec::new(),
            whole_points: None,
            nibble_sums: None,
            disqualifying: Vec::new(),
            rule_names: rules.rules.iter().map(|r| r.name.clone()).collect(),
            route_names: rules.routes.iter().map(|r| r.name.clone()).collect(),
            group_names: rules.groups.iter().map(|g| g.name.clone()).collect(),
            group_limits: rules.groups.iter().map(|g| (g.min, g.max)).collect(),
            slots,
            typed_fields,
            queues,
            bindings,
            as_of,
            decimal_point,
            reps,
            owner,
        };
        engine.whole_points = engine.points_if_all_whole();
        engine.nibble_sums = (engine.whole_points.as_ref())
            .filter(|w| w.len() > NIBBLE_SUMS_FROM)
            .map(|w| nibble_sums(w));
        engine.disqualifying = vec![0; engine.rules.len().div_ceil(64)];
        for (i, t) in engine.tallies.iter().enumerate() {
            engine.disqualifying[i / 64] |= u64::from(t.disqualify) << (i % 64);
        }
        engine.reason_texts = (0..engine.rules.len())
            .map(|i| engine.tallies[i].fixed.map(|p| engine.reason_text(i, p)))
            .collect();
        engine
    }

    /// See `Engine::whole_points`. Points up to 2^31 keep any sum of up to 2^21 rules far
    /// inside the integers a float holds exactly (2^53).
    fn points_if_all_whole(&self) -> Option<Vec<i64>> {
        if !self.group_names.is_empty() || self.tallies.len() > 1 << 21 {
            return None;
        }
        let whole = |p: f64| (p.fract() == 0.0 && p.abs() <= 2f64.powi(31)).then_some(p as i64);
        self.tallies
            .iter()
            .map(|t| t.fixed.and_then(whole))
            .collect()
    }

    fn reason_text(&self, rule: usize, points: f64) -> String {
        let mut s = String::from(REASON_SEP);
        let hit = Hit {
            rule,
            points,
            decay: 1.0,
            undecayed: points,
        };
        self.push_reason(&hit, &mut s);
        s
    }

    /// Fresh per-worker state.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            values: vec![Value::Empty; self.slots.len()],
            numbers: vec![f64::NAN; self.slots.len()],
            memo: Memo::default(),
            sums: vec![0.0; self.group_names.len()],
            matched: vec![0; self.rules.len().div_ceil(64)],
            leaves: vec![0; self.plan.lists.as_ref().map_or(0, |l| l.words)],
            stats: Stats {
                unreadable: vec![0; self.typed_fields.len()],
            },
        }
    }

    /// The tiers this rule set can give, from the highest down.
    pub fn tiers(&self) -> Vec<Tier> {
        Tier::ALL
            .into_iter()
            .filter(|t| *t != Tier::Hot || self.tiers.hot.is_some())
            .collect()
    }

    pub fn group_names(&self) -> &[String] {
        &self.group_names
    }

    pub fn rule_names(&self) -> &[String] {
        &self.rule_names
    }

    pub fn route_names(&self) -> &[String] {
        &self.route_names
    }

    /// Score, tier and route one contact. `out` is overwritten; reuse it across rows.
    pub fn evaluate<R: Row + ?Sized>(&self, row: &R, scratch: &mut Scratch, out: &mut Outcome) {
        self.decide::<R, true>(row, scratch, out);
    }

    /// As `evaluate`, but `out.hits` is left empty: for output that shows no reasons, where
    /// recording each matched rule is a good part of a large rule file's work.
    pub fn evaluate_without_hits<R: Row + ?Sized>(
        &self,
        row: &R,
        scratch: &mut Scratch,
        out: &mut Outcome,
    ) {
        self.decide::<R, false>(row, scratch, out);
    }

    fn decide<R: Row + ?Sized, const HITS: bool>(
        &self,
        row: &R,
        scratch: &mut Scratch,
        out: &mut Outcome,
    ) {
        self.read_slots(row, scratch);
        scratch.memo.next_row();
        out.hits.clear();
        out.clamps.clear();
        out.groups.clear();
        out.disqualified = false;
        out.route = None;
        let sums = &mut scratch.sums;
        sums.iter_mut().for_each(|s| *s = 0.0);
        let mut ungrouped = 0.0;
        // First which rules match, as bits, kind by kind (`Plan`), then the matched ones'
        // points: a branch on each rule's outcome, which no predictor guesses, would cost
        // more than its test.
        let matched = &mut scratch.matched;
        matched.fill(0);
        let memo = &mut scratch.memo;
        let (values, numbers) = (&scratch.values, &scratch.numbers);
        let plan = &self.plan;
        for (probe, col) in &plan.probes {
            probe.ensure(|| matcher::trim(matcher::cell(row, *col)), memo);
        }
        plan.decide_leaves(matched, memo, values, numbers);
        if let Some(lists) = &plan.lists {
            lists.decide(matched, &mut scratch.leaves, memo, values, numbers);
        }
        let general = plan.general.iter().map(|&rule| {
            let when = self.rules[rule].when.as_ref();
            (rule, when.is_none_or(|c| c.eval(row, values, memo)))
        });
        set_bits(matched, general);
        let hits = matched.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let k = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + k
                })
            })
        });
        if let Some(whole) = &self.whole_points {
            // No groups, and every rule's points a whole number: no per-rule branches, and
            // integer adds instead of a chain of floating-point ones.
            let sum = match (HITS, &self.nibble_sums) {
                (false, Some(sums)) => sum_by_nibbles(matched, sums),
                _ => {
                    let mut sum = 0i64;
                    for i in hits {
                        sum += whole[i];
                        if HITS {
                            out.hits.push(Hit {
                                rule: i,
                                points: whole[i] as f64,
                                decay: 1.0,
                                undecayed: whole[i] as f64,
                            });
                        }
                    }
                    sum
                }
            };
            ungrouped = sum as f64;
            out.disqualified = (matched.iter().zip(&self.disqualifying)).any(|(m, d)| m & d != 0);
        } else {
            self.tally_hits::<HITS>(hits, &scratch.values, sums, &mut ungrouped, out);
        }
        let mut total = ungrouped;
        for (g, &(min, max)) in self.group_limits.iter().enumerate() {
            let raw = sums[g];
            let mut capped = raw;
            if let Some(max) = max {
                capped = capped.min(max);
            }
            if let Some(min) = min {
                capped = capped.max(min);
            }
            if capped != raw {
                out.clamps.push(Clamp {
                    group: g,
                    delta: capped - raw,
                });
            }
            out.groups.push(round(capped));
            total += capped;
        }
        out.score = round(total);
        let tier = if out.disqualified {
            Tier::Disqualified
        } else {
            let groups = &out.groups;
            self.tiers.tier_for(out.score, |g| groups[g])
        };
        out.tier = Some(tier);
        out.queue = self.tier_queue[tier as usize];
        if !out.disqualified
            && let Some(i) = self.routes.iter().position(|r| {
                r.for_tier(tier) && r.when.eval(row, &scratch.values, &mut scratch.memo)
            })
        {
            out.route = Some(i);
            out.queue = self.routes[i].queue;
        }
    }

    /// What matched rule `i` adds before decay, and the decay factor; `None` when it adds
    /// nothing to count (per-unit points on no units, and no disqualification).
    fn points_of(&self, i: usize, values: &[Value]) -> Option<(f64, f64)> {
        let rule = &self.rules[i];
        let points = match rule.points {
            RulePoints::None => 0.0,
            RulePoints::Fixed(p) => p,
            RulePoints::Per { slot, points, max } => {
                let per = per_points(values[slot], points, max);
                if per == 0.0 && !rule.disqualify {
                    return None;
                }
                per
            }
        };
        let decay = match rule.decay {
            // No date (empty or unreadable): no decay.
            Some((slot, half_life)) => match values[slot] {
                Value::Day(day) => {
                    crate::rules::decay_factor(i64::from(self.as_of - day), half_life)
                }
                _ => 1.0,
            },
            None => 1.0,
        };
        Some((points, decay))
    }

    /// Add up the matched rules' points into their groups' sums and `ungrouped`, in rule
    /// order, recording each hit when `HITS`.
    fn tally_hits<const HITS: bool>(
        &self,
        hits: impl Iterator<Item = usize>,
        values: &[Value],
        sums: &mut [f64],
        ungrouped: &mut f64,
        out: &mut Outcome,
    ) {
        for i in hits {
            let tally = self.tallies[i];
            let (undecayed, decay) = match tally.fixed {
                Some(points) => (points, 1.0),
                None => match self.points_of(i, values) {
                    Some(found) => found,
                    None => continue, // nothing to count: not a hit
                },
            };
            let points = undecayed * decay;
            out.disqualified |= tally.disqualify;
            if HITS {
                out.hits.push(Hit {
                    rule: i,
                    points,
                    decay,
                    undecayed,
                });
            }
            match tally.group {
                Some(g) => sums[g] += points,
                None => *ungrouped += points,
            }
        }
    }

    fn read_slots<R: Row + ?Sized>(&self, row: &R, scratch: &mut Scratch) {
        let mut flagged: u64 = 0; // fields with an unreadable cell in this row (first 64)
        for (i, slot) in self.slots.iter().enumerate() {
            let raw = matcher::trim(matcher::cell(row, slot.col));
            let value = if raw.is_empty() {
                Value::Empty
            } else {
                let parsed = match &slot.kind {
                    SlotKind::Number => cell::parse_number(raw).map(Value::Number),
                    SlotKind::NumberComma => cell::parse_number_comma(raw).map(Value::Number),
                    SlotKind::NumberPoint => cell::parse_number_point(raw).map(Value::Number),
                    SlotKind::Bool => cell::parse_bool(raw).map(Value::Bool),
                    SlotKind::Date(formats) => {
                        cell::parse_date(raw, formats).map(|d| Value::Day(cell::day_number(d)))
                    }
                };
                parsed.unwrap_or(Value::Unreadable)
            };
            // Booleans: an empty cell is `false` (unchecked box), per DESIGN.md.
            let value = match (value, &slot.kind) {
                (Value::Empty, SlotKind::Bool) => Value::Bool(false),
                (v, _) => v,
            };
            scratch.values[i] = value;
            scratch.numbers[i] = value.as_number();
            if value == Value::Unreadable {
                let f = slot.field;
                if f < 64 {
                    if flagged & (1 << f) == 0 {
                        flagged |= 1 << f;
                        scratch.stats.unreadable[f] += 1;
                    }
                } else {
                    // Rare: more than 64 typed fields. Count once per slot instead.
                    scratch.stats.unreadable[f] += 1;
                }
            }
        }
    }

    /// The id of a queue by name (the first queue when unknown; rules name only known ones).
    pub fn queue_id(&self, name: &str) -> QueueId {
        self.queues.iter().position(|q| q == name).unwrap_or(0)
    }

    /// The queue of warm contacts: sales, whatever the rules call it.
    pub fn sales_queue(&self) -> QueueId {
        self.tier_queue[Tier::Warm as usize]
    }

    /// The queue name an outcome went to.
    pub fn queue_name(&self, outcome: &Outcome) -> &str {
        &self.queues[outcome.queue]
    }

    /// One matched rule in the reasons: `Decision maker +20`, `Unsubscribed (disqualified)`.
    fn push_reason(&self, hit: &Hit, out: &mut String) {
        let Hit {
            rule,
            points,
            decay,
            undecayed,
        } = *hit;
        out.push_str(&self.rule_names[rule]);
        let r = &self.rules[rule];
        if !matches!(r.points, RulePoints::None) {
            out.push(' ');
            push_points(out, points);
            if decay < 1.0 {
                out.push_str(" (decayed from ");
                push_number(out, undecayed);
                out.push(')');
            }
        }
        if r.disqualify {
            out.push_str(" (disqualified)");
        }
    }

    /// Which `[[rep]]`s' territories take this contact, as a bit per rep (a rep without a
    /// territory is not set here). Call after `evaluate` on the same row and scratch.
    pub fn territories<R: Row + ?Sized>(&self, row: &R, scratch: &mut Scratch) -> u64 {
        scratch.memo.next_row();
        let mut mask = 0u64;
        for (i, rep) in self.reps.iter().enumerate() {
            if let Some(c) = rep
                && c.eval(row, &scratch.values, &mut scratch.memo)
            {
                mask |= 1 << i;
            }
        }
        mask
    }

    /// The column `[balance] owner` reads, if any.
    pub fn owner_column(&self) -> Option<usize> {
        self.owner.flatten()
    }

    /// The contact's current owner (`[balance] owner`), trimmed; empty without one.
    pub fn owner<'r, R: Row + ?Sized>(&self, row: &'r R) -> &'r str {
        self.owner
            .map_or("", |c| matcher::trim(matcher::cell(row, c)))
    }

    /// A contact's reasons one by one, in the order the text gives them (JSON Lines writes
    /// them as objects).
    pub fn reasons<'a>(&'a self, outcome: &'a Outcome) -> impl Iterator<Item = Reason<'a>> + 'a {
        let hits = outcome.hits.iter().map(|hit| {
            let r = &self.rules[hit.rule];
            let has_points = !matches!(r.points, RulePoints::None);
            Reason::Rule {
                rule: &self.rule_names[hit.rule],
                points: has_points.then_some(hit.points),
                decayed_from: (has_points && hit.decay < 1.0).then_some(hit.undecayed),
                disqualified: r.disqualify,
            }
        });
        let clamps = outcome.clamps.iter().map(|clamp| {
            let (min, max) = self.group_limits[clamp.group];
            let floor = clamp.delta >= 0.0;
            Reason::Cap {
                group: &self.group_names[clamp.group],
                limit: if floor { min } else { max }.unwrap_or_default(),
                floor,
                points: clamp.delta,
            }
        });
        let route = outcome.route.map(|r| Reason::Route {
            route: &self.route_names[r],
        });
        hits.chain(clamps).chain(route)
    }

    /// What the `reasons` text can be made of: its names and the words and numbers between
    /// them. Encoders check this once instead of every row's text.
    pub fn reasons_alphabet(&self) -> Alphabet {
        let mut a = Alphabet {
            any: [false; 256],
            first: [false; 256],
        };
        let names = self.rule_names.iter().chain(&self.group_names);
        for name in names.clone() {
            if let Some(&b) = name.as_bytes().first() {
                a.first[usize::from(b)] = true;
            }
        }
        a.first[usize::from(b'r')] = true; // "route: "
        let words = [
            REASON_SEP,
            " capped at ",
            " floored at ",
            " (disqualified)",
            "route: ",
        ];
        // Numbers as `push_number` writes them (with `inf` and `NaN` to be safe).
        let numbers = "+-.0123456789infNa";
        let texts = names.chain(&self.route_names).map(String::as_str);
        for t in texts.chain(words).chain([numbers]) {
            for &b in t.as_bytes() {
                a.any[usize::from(b)] = true;
            }
        }
        a
    }

    /// The `reasons` text: matched rules with their points, group caps, the deciding route.
    /// Example: `Decision maker +20; Asked for a demo +30; fit capped at 50 -5`.
    pub fn write_reasons(&self, outcome: &Outcome, out: &mut String) {
        out.clear();
        let sep = |out: &mut String| {
            if !out.is_empty() {
                out.push_str(REASON_SEP);
            }
        };
        for hit in &outcome.hits {
            match &self.reason_texts[hit.rule] {
                Some(text) if out.is_empty() => out.push_str(&text[REASON_SEP.len()..]),
                Some(text) => out.push_str(text),
                None => {
                    sep(out);
                    self.push_reason(hit, out);
                }
            }
        }
        for clamp in &outcome.clamps {
            sep(out);
            let (min, max) = self.group_limits[clamp.group];
            let name = &self.group_names[clamp.group];
            out.push_str(name);
            if clamp.delta < 0.0 {
                out.push_str(" capped at ");
                push_number(out, max.unwrap_or_default());
            } else {
                out.push_str(" floored at ");
                push_number(out, min.unwrap_or_default());
            }
            out.push(' ');
            push_points(out, clamp.delta);
        }
        if let Some(r) = outcome.route {
            sep(out);
            out.push_str("route: ");
            out.push_str(&self.route_names[r]);
        }
    }
}

/// Between two entries of a contact's reasons.
const REASON_SEP: &str = "; ";

/// One entry of a contact's reasons.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason<'a> {
    /// A matched rule and its points (`None` for a rule without points, a disqualifier),
    /// and the points before decay when they decayed.
    Rule {
        rule: &'a str,
        points: Option<f64>,
        decayed_from: Option<f64>,
        disqualified: bool,
    },
    /// A group's subtotal capped at (or, with `floor`, raised to) `limit`, which changed the
    /// score by `points`.
    Cap {
        group: &'a str,
        limit: f64,
        floor: bool,
        points: f64,
    },
    /// The route that decided the queue.
    Route { route: &'a str },
}

/// The bytes a text can hold (`any`) and start with (`first`).
#[derive(Debug, Clone)]
pub struct Alphabet {
    pub any: [bool; 256],
    pub first: [bool; 256],
}

/// `points` times the cell's number, capped at `max` in size (else at `MAX_POINTS`); empty,
/// negative or unreadable cells give 0.
fn per_points(value: Value, points: f64, max: Option<f64>) -> f64 {
    match value {
        Value::Number(n) if n > 0.0 => {
            let m = max.unwrap_or(crate::rules::MAX_POINTS);
            (points * n).clamp(-m, m)
        }
        _ => 0.0,
    }
}

/// Half away from zero, as DESIGN.md asks: `x.round() as i64`, without the call to libm's
/// `round` that x86-64 makes without SSE4.1 (casts truncate and saturate; the fraction is
/// exact; NaN gives 0).
fn round(x: f64) -> i64 {
    let whole = x as i64;
    let fraction = x - whole as f64;
    if fraction >= 0.5 {
        whole.saturating_add(1)
    } else if fraction <= -0.5 {
        whole.saturating_sub(1)
    } else {
        whole
    }
}

/// `+20`, `-10`, `+2.5`: signed, without trailing zeros; `+0` for what rounds to 0.
fn push_points(out: &mut String, p: f64) {
    let p = as_shown(p);
    if p >= 0.0 {
        out.push('+');
    }
    push_number(out, p);
}

/// `x` as `fmt_number` shows it: 0 (not -0) for what rounds to 0 at two decimals, so a
/// penalty decayed to -0.0001 reads `+0`, not `-0`.
pub fn as_shown(x: f64) -> f64 {
    if x.abs() < 0.005 { 0.0 } else { x }
}

/// A number as people write it: `20`, `2.5`, `0.33` (at most two decimals).
pub fn fmt_number(x: f64) -> String {
    let mut s = String::new();
    push_number(&mut s, x);
    s
}

/// `fmt_number` into `out`, without allocating for whole numbers.
pub fn push_number(out: &mut String, x: f64) {
    let x = as_shown(x);
    if x.fract() == 0.0 && x.abs() < 1e15 {
        out.push_str(itoa::Buffer::new().format(x as i64));
    } else {
        let start = out.len();
        let _ = write!(out, "{x:.2}");
        let trimmed = out[start..]
            .trim_end_matches('0')
            .trim_end_matches('.')
            .len();
        out.truncate(start + trimmed);
    }
}

/// Builds compiled conditions and typed slots.
struct Compiler<'a> {
    rules: &'a Rules,
    bindings: &'a [Binding],
    slots: Vec<Slot>,
    typed_fields: Vec<String>,
    as_of: i32,
    /// Every number is written with a decimal point (a workbook's cells, as leadsort writes
    /// them), whatever a field's `decimal` says.
    decimal_point: bool,
}

impl Compiler<'_> {
    fn column(&self, field: &str) -> Col {
        self.bindings
            .iter()
            .find(|b| b.field == field)
            .and_then(|b| b.column)
    }

    /// The slot reading `field` as `kind`, shared by every condition that needs it.
    fn slot(&mut self, field: &str, kind: SlotKind) -> usize {
        let col = self.column(field);
        // Dates use the formats the field lists; numbers its decimal mark.
        let kind = match kind {
            SlotKind::Date(_) => SlotKind::Date(
                self.rules
                    .field(field)
                    .map(|f| f.formats.clone())
                    .unwrap_or_default(),
            ),
            SlotKind::Number => match self.rules.field(field).map(|f| f.decimal) {
                Some(Decimal::Comma) if !self.decimal_point => SlotKind::NumberComma,
                Some(Decimal::Point) => SlotKind::NumberPoint,
                _ if self.decimal_point => SlotKind::NumberPoint,
                _ => SlotKind::Number,
            },
            k => k,
        };
        if let Some(i) = self
            .slots
            .iter()
            .position(|s| s.col == col && s.kind == kind && self.typed_fields[s.field] == field)
        {
            return i;
        }
        let f = match self.typed_fields.iter().position(|n| n == field) {
            Some(f) => f,
            None => {
                self.typed_fields.push(field.to_string());
                self.typed_fields.len() - 1
            }
        };
        self.slots.push(Slot {
            col,
            kind,
            field: f,
        });
        self.slots.len() - 1
    }

    fn cond(&mut self, c: &Condition) -> Cond {
        match c {
            Condition::All(cs) => Cond::All(cs.iter().map(|c| self.cond(c)).collect()),
            Condition::Any(cs) => Cond::Any(cs.iter().map(|c| self.cond(c)).collect()),
            Condition::Not(c) => Cond::Not(Box::new(self.cond(c))),
            Condition::Test(t) => self.test(t),
        }
    }

    fn text(&self, t: &Test, kind: TextKind) -> Cond {
        Cond::Text(TextTest {
            col: self.column(&t.field.name),
            fold: !t.case_sensitive,
            kind,
        })
    }

    fn typed(&mut self, t: &Test, kind: SlotKind, test: TypedTest) -> Cond {
        Cond::Typed {
            slot: self.slot(&t.field.name, kind),
            test,
        }
    }

    /// A string literal on a field declared `number`, `date` or `bool` means a value of that
    /// type: `equals = "2026-11-03"` on a date field matches `11/03/2026` too.
    fn typed_literal(&self, field: &str, s: &Scalar) -> Scalar {
        let (Some(f), Scalar::Text(text)) = (self.rules.field(field), s) else {
            return s.clone();
        };
        let text = text.trim();
        let converted = match f.kind {
            FieldKind::Number if f.decimal == Decimal::Comma => {
                cell::parse_number_comma(text).map(Scalar::Number)
            }
            FieldKind::Number if f.decimal == Decimal::Point => {
                cell::parse_number_point(text).map(Scalar::Number)
            }
            FieldKind::Number => cell::parse_number(text).map(Scalar::Number),
            FieldKind::Date => cell::parse_date(text, &f.formats).map(Scalar::Date),
            FieldKind::Bool if !text.is_empty() => cell::parse_bool(text).map(Scalar::Bool),
            _ => None,
        };
        converted.unwrap_or_else(|| s.clone())
    }

    fn test(&mut self, t: &Test) -> Cond {
        let fold = !t.case_sensitive;
        let word = |s: &str| fold_needle(s, fold);
        let words = |v: &[String]| WordSet::new(v.iter().map(|s| word(s)).collect());
        let day = |d: &Date| cell::day_number(*d);
        match &t.op {
            Op::Equals(s) | Op::NotEquals(s) => {
                let negate = matches!(t.op, Op::NotEquals(_));
                match &self.typed_literal(&t.field.name, s) {
                    Scalar::Text(s) => self.text(
                        t,
                        if negate {
                            TextKind::Ne(word(s))
                        } else {
                            TextKind::Eq(word(s))
                        },
                    ),
                    Scalar::Number(n) => {
                        let test = if negate {
                            NumTest::Ne(*n)
                        } else {
                            NumTest::Eq(*n)
                        };
                        self.typed(t, SlotKind::Number, TypedTest::Number(test))
                    }
                    Scalar::Bool(b) => {
                        self.typed(t, SlotKind::Bool, TypedTest::Bool { want: *b, negate })
                    }
                    Scalar::Date(d) => self.typed(
                        t,
                        SlotKind::Date(Vec::new()),
                        TypedTest::DayIn {
                            days: vec![day(d)],
                            negate,
                        },
                    ),
                }
            }
            Op::In(list) | Op::NotIn(list) => {
                let negate = matches!(t.op, Op::NotIn(_));
                let list: Vec<Scalar> = list
                    .iter()
                    .map(|s| self.typed_literal(&t.field.name, s))
                    .collect();
                self.membership(t, &list, negate)
            }
            Op::Contains(s) => self.text(t, contains_any(vec![word(s)], fold)),
            Op::ContainsAny(list) => {
                let needles: Vec<String> = list.iter().map(|s| word(s)).collect();
                self.text(t, contains_any(needles, fold))
            }
            Op::StartsWith(s) => self.text(t, TextKind::StartsWith(word(s))),
            Op::EndsWith(s) => self.text(t, TextKind::EndsWith(word(s))),
            Op::Matches(p) => {
                // Validated when the rules were parsed.
                let re = regex::RegexBuilder::new(p)
                    .case_insensitive(fold)
                    .build()
                    .expect("regex validated by the rules parser");
                self.text(t, TextKind::Matches(re))
            }
            Op::DomainIn(list) => self.text(t, TextKind::DomainIn(words(list))),
            Op::Present(want) => self.text(t, TextKind::Present(*want)),
            Op::Is(b) => self.typed(
                t,
                SlotKind::Bool,
                TypedTest::Bool {
                    want: *b,
                    negate: false,
                },
            ),
            Op::Gt(n) => self.typed(t, SlotKind::Number, TypedTest::Number(NumTest::Gt(*n))),
            Op::AtLeast(n) => {
                self.typed(t, SlotKind::Number, TypedTest::Number(NumTest::AtLeast(*n)))
            }
            Op::Lt(n) => self.typed(t, SlotKind::Number, TypedTest::Number(NumTest::Lt(*n))),
            Op::AtMost(n) => {
                self.typed(t, SlotKind::Number, TypedTest::Number(NumTest::AtMost(*n)))
            }
            Op::Between(lo, hi) => self.typed(
                t,
                SlotKind::Number,
                TypedTest::Number(NumTest::Between(*lo, *hi)),
            ),
            Op::DateBetween(lo, hi) => self.typed(
                t,
                SlotKind::Date(Vec::new()),
                TypedTest::Day(DayTest::Between(day(lo), day(hi))),
            ),
            Op::WithinDays(n) => {
                let from = self
                    .as_of
                    .saturating_sub(i32::try_from(*n).unwrap_or(i32::MAX));
                self.typed(
                    t,
                    SlotKind::Date(Vec::new()),
                    TypedTest::Day(DayTest::OnOrAfter(from)),
                )
            }
            Op::OlderThanDays(n) => {
                let before = self
                    .as_of
                    .saturating_sub(i32::try_from(*n).unwrap_or(i32::MAX));
                self.typed(
                    t,
                    SlotKind::Date(Vec::new()),
                    TypedTest::Day(DayTest::Before(before)),
                )
            }
            Op::Before(d) => self.typed(
                t,
                SlotKind::Date(Vec::new()),
                TypedTest::Day(DayTest::Before(day(d))),
            ),
            Op::After(d) => self.typed(
                t,
                SlotKind::Date(Vec::new()),
                TypedTest::Day(DayTest::After(day(d))),
            ),
        }
    }

    /// `in` / `not_in`: each literal compared by its own type. `in` holds when any kind
    /// matches; `not_in` when none does.
    fn membership(&mut self, t: &Test, list: &[Scalar], negate: bool) -> Cond {
        let fold = !t.case_sensitive;
        let mut parts = Vec::new();
        let (mut texts, mut numbers, mut bools, mut days) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for s in list {
            match s {
                Scalar::Text(s) => texts.push(fold_needle(s, fold)),
                Scalar::Number(n) => numbers.push(*n),
                Scalar::Bool(b) => bools.push(*b),
                Scalar::Date(d) => days.push(cell::day_number(*d)),
            }
        }
        if !texts.is_empty() || list.is_empty() {
            let set = WordSet::new(texts);
            parts.push(self.text(
                t,
                if negate {
                    TextKind::NotIn(set)
                } else {
                    TextKind::In(set)
                },
            ));
        }
        if !numbers.is_empty() {
            parts.push(self.typed(
                t,
                SlotKind::Number,
                TypedTest::NumberIn {
                    values: numbers,
                    negate,
                },
            ));
        }
        for b in bools {
            parts.push(self.typed(t, SlotKind::Bool, TypedTest::Bool { want: b, negate }));
        }
        if !days.is_empty() {
            parts.push(self.typed(
                t,
                SlotKind::Date(Vec::new()),
                TypedTest::DayIn { days, negate },
            ));
        }
        if parts.len() == 1 {
            parts.remove(0)
        } else if negate {
            Cond::All(parts)
        } else {
            Cond::Any(parts)
        }
    }
}

#[cfg(test)]
mod tests;
