//! The validated rules model: plain data, independent of how rows are read or scored.
//!
//! Everything here has passed validation (see `parse.rs`): names are unique, groups and
//! queues referenced exist, regexes compile, ranges are ordered. Backends (the row engine,
//! `explain`, `diff`, a SQL compiler) read this model; none of them re-parses TOML.
//! Spans are byte ranges into the rules file, kept so later stages can point at the source.

use std::ops::Range;
use std::path::PathBuf;

use jiff::civil::Date;

/// A byte range in the rules file.
pub type Span = Range<usize>;

/// The most points one rule gives or takes: its `points`, `points_per`'s `points` and `max`
/// are refused beyond it, and `points_per` without a `max` stops there. So the points of
/// every rule add up exactly in the doubles a score is summed in, and the reasons always add
/// up to the score.
pub const MAX_POINTS: f64 = 1e9;

/// A parsed and validated `rules.toml`.
#[derive(Debug, Clone)]
pub struct Rules {
    pub source: Source,
    pub fields: Vec<Field>,
    pub groups: Vec<Group>,
    pub tiers: Tiers,
    pub queues: TierQueues,
    pub rules: Vec<Rule>,
    pub routes: Vec<Route>,
    pub input: InputSettings,
    /// `[[test]]`: contacts with their expected outcome, run by `leadsort check`.
    pub tests: Vec<RuleTest>,
    /// `[balance]`: what sales can take per run.
    pub balance: Option<Balance>,
    /// `[[rep]]`: the sales reps contacts are assigned to (an `owner` column).
    pub reps: Vec<Rep>,
}

/// `[balance]`: sales capacity per run, and where contacts beyond it wait.
#[derive(Debug, Clone, Default)]
pub struct Balance {
    /// At most this many contacts go to the sales queue per run: the highest scores (ties in
    /// input order); the others wait in `overflow_queue`.
    pub sales_capacity: Option<u64>,
    /// Fewer contacts than this to sales is a warning.
    pub min_sales: Option<u64>,
    /// Where contacts over capacity (or that no rep can take) go; `None`: the cold tier's
    /// queue (marketing).
    pub overflow_queue: Option<String>,
    /// Where `overflow_queue` is written, for messages about it.
    pub overflow_span: Option<Span>,
    /// The column holding a contact's current owner: kept when that rep still exists and
    /// has room.
    pub owner: Option<FieldRef>,
    /// Owners who are no longer reps (a rep who left): their contacts are unowned, as any
    /// contact whose owner is no rep, but without the warning that owner names no rep.
    pub former_owners: Vec<String>,
    pub span: Span,
}

/// A `[[rep]]`: a salesperson who takes sales contacts.
#[derive(Debug, Clone)]
pub struct Rep {
    pub name: String,
    /// At most this many contacts per run.
    pub capacity: u64,
    /// Share of the round-robin among reps who can take a contact (default 1).
    pub weight: f64,
    /// The rep's territory; `None`: any contact no territory rep takes.
    pub when: Option<Condition>,
    pub span: Span,
}

/// `decay = { field = "last_seen", half_life_days = 90 }`: points halve every
/// `half_life_days` since the date in `field`.
#[derive(Debug, Clone, PartialEq)]
pub struct Decay {
    pub field: FieldRef,
    pub half_life_days: f64,
    pub span: Span,
}

impl Decay {
    /// The factor for a date `age_days` before the as-of date.
    pub fn factor(&self, age_days: i64) -> f64 {
        decay_factor(age_days, self.half_life_days)
    }
}

/// Points halve every `half_life_days` of age; a date on or after the as-of date (age 0 or
/// less) does not decay. Past about 1,000 half-lives the factor stays at the smallest normal
/// float instead of reaching 0: the points are 0 all the same, and the reasons can still say
/// what they were decayed from.
pub fn decay_factor(age_days: i64, half_life_days: f64) -> f64 {
    if age_days <= 0 {
        1.0
    } else {
        0.5f64
            .powf(age_days as f64 / half_life_days)
            .max(f64::MIN_POSITIVE)
    }
}

/// `[input]`: facts about the CSV that are not rules.
#[derive(Debug, Clone, Default)]
pub struct InputSettings {
    /// The column that identifies a contact (`explain --id`, `diff`).
    pub id: Option<FieldRef>,
}

/// A `[[test]]`: a contact, a few of its values, and what the rules must make of it.
#[derive(Debug, Clone)]
pub struct RuleTest {
    pub name: String,
    /// Field (or header) name, the cell's text, and where the value is written.
    pub contact: Vec<(String, String, Span)>,
    /// The as-of date for day rules; else the run's.
    pub as_of: Option<Date>,
    pub expect: Expect,
    pub span: Span,
}

/// What a `[[test]]` expects; absent keys are not checked.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub tier: Option<Tier>,
    pub queue: Option<String>,
    pub score: Option<i64>,
    /// Exactly these rules match (any order).
    pub rules: Option<Vec<String>>,
    /// The `[[rep]]` the balance gives the contact (alone in the run), and where it is written.
    pub owner: Option<(String, Span)>,
    pub span: Span,
}

/// The rules file's path and text, for rendering positions (made with `new`; the text is
/// not changed after, as positions are found from an index of its lines).
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
    /// Where each line of `text` starts, found the first time a position is asked for: a
    /// file with thousands of messages (a rule per missing column) would otherwise be read
    /// from its start for each.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl Source {
    pub fn new(path: PathBuf, text: String) -> Source {
        Source {
            path,
            text,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// Where each line starts.
    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let breaks = self.text.match_indices('\n').map(|(i, _)| i + 1);
            std::iter::once(0).chain(breaks).collect()
        })
    }

    /// The 1-based line of a byte offset, and where that line starts.
    fn line_of(&self, offset: usize) -> (usize, usize) {
        let starts = self.line_starts();
        // Lines starting at or before the offset: the first always does.
        let line = starts.partition_point(|&start| start <= offset);
        (line, starts[line - 1])
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let (line, line_start) = self.line_of(offset);
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    /// The whole lines that hold `start..end` (within the text): the first one's number, and
    /// where they start and end (after the last one's line break).
    pub fn lines_around(&self, start: usize, end: usize) -> (usize, std::ops::Range<usize>) {
        let end = end.min(self.text.len());
        let (line, from) = self.line_of(start.min(end));
        let (last, _) = self.line_of(end);
        let to = self
            .line_starts()
            .get(last)
            .copied()
            .unwrap_or(self.text.len());
        (line, from..to)
    }

    /// `path:line:column` of a span's start.
    pub fn position(&self, span: &Span) -> String {
        let (line, col) = self.line_col(span.start);
        format!("{}:{line}:{col}", self.path.display())
    }
}

/// A `[fields]` entry: a name for a column that may appear under several headers.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    /// Headers to look for, in order of preference.
    pub columns: Vec<String>,
    pub kind: FieldKind,
    /// Extra date formats (strftime-style) tried after ISO 8601.
    pub formats: Vec<String>,
    /// A missing column reads as empty instead of stopping the run.
    pub optional: bool,
    /// The decimal mark of the field's numbers (`decimal = ","` or `"."`).
    pub decimal: Decimal,
    pub span: Span,
}

/// The decimal mark of a number field's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decimal {
    /// As exports write numbers: a mark that could be either (`12,50`, `3.400`) is unreadable.
    #[default]
    Either,
    /// `decimal = ","`: `12,50` is 12.5 and `3.400` is 3400 (German, French exports).
    Comma,
    /// `decimal = "."`: `1.500` is 1.5 and `1,500` is 1500 (and a workbook's numbers).
    Point,
}

/// The declared type of a field. Operators decide how a cell is read; the declared type adds
/// date formats and lets `check` warn about operators that cannot match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Bool,
}

impl FieldKind {
    pub const NAMES: [&'static str; 4] = ["text", "number", "date", "bool"];

    pub fn from_name(name: &str) -> Option<FieldKind> {
        match name {
            "text" => Some(FieldKind::Text),
            "number" => Some(FieldKind::Number),
            "date" => Some(FieldKind::Date),
            "bool" => Some(FieldKind::Bool),
            _ => None,
        }
    }
}

/// A `[groups]` entry: rules in a group add to a subtotal that is capped before it counts.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub max: Option<f64>,
    pub min: Option<f64>,
    /// Decay for every rule of the group that has none of its own.
    pub decay: Option<Decay>,
    pub span: Span,
}

impl Group {
    /// The subtotal after the group's floor and cap.
    pub fn clamp(&self, subtotal: f64) -> f64 {
        let mut v = subtotal;
        if let Some(max) = self.max {
            v = v.min(max);
        }
        if let Some(min) = self.min {
            v = v.max(min);
        }
        v
    }
}

/// Index into `Rules::groups`.
pub type GroupId = usize;

/// The score tiers a contact can reach, from the highest down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Disqualified,
    Cold,
    Warm,
    Hot,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Hot, Tier::Warm, Tier::Cold, Tier::Disqualified];

    pub fn from_name(name: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Hot => "hot",
            Tier::Warm => "warm",
            Tier::Cold => "cold",
            Tier::Disqualified => "disqualified",
        }
    }
}

/// `[tiers]`: `warm` is required, `hot` optional. Below warm is cold.
#[derive(Debug, Clone)]
pub struct Tiers {
    pub warm: TierRule,
    pub hot: Option<TierRule>,
}

/// What a contact needs to reach a tier: a score, and optionally group subtotals.
#[derive(Debug, Clone)]
pub struct TierRule {
    pub score: f64,
    pub groups: Vec<(GroupId, f64)>,
    pub span: Span,
}

impl TierRule {
    /// Whether a contact with this score and these group subtotals (by group id) meets it.
    pub fn met_by(&self, score: i64, subtotal: impl Fn(GroupId) -> i64) -> bool {
        score as f64 >= self.score
            && self
                .groups
                .iter()
                .all(|&(g, min)| subtotal(g) as f64 >= min)
    }
}

impl Tiers {
    /// The tier of a contact that is not disqualified: the highest whose requirements it
    /// meets, else cold.
    pub fn tier_for(&self, score: i64, subtotal: impl Fn(GroupId) -> i64 + Copy) -> Tier {
        if self.hot.as_ref().is_some_and(|h| h.met_by(score, subtotal)) {
            Tier::Hot
        } else if self.warm.met_by(score, subtotal) {
            Tier::Warm
        } else {
            Tier::Cold
        }
    }
}

/// `[queues]`: the queue each tier goes to.
#[derive(Debug, Clone)]
pub struct TierQueues {
    pub hot: String,
    pub warm: String,
    pub cold: String,
    pub disqualified: String,
    /// Where `[queues]` names each one it sets, for lints: (tier key, span).
    pub spans: Vec<(&'static str, Span)>,
}

impl TierQueues {
    pub fn for_tier(&self, tier: Tier) -> &str {
        match tier {
            Tier::Hot => &self.hot,
            Tier::Warm => &self.warm,
            Tier::Cold => &self.cold,
            Tier::Disqualified => &self.disqualified,
        }
    }
}

impl Default for TierQueues {
    fn default() -> Self {
        TierQueues {
            hot: "sales".into(),
            warm: "sales".into(),
            cold: "marketing".into(),
            disqualified: "suppressed".into(),
            spans: Vec::new(),
        }
    }
}

/// A `[[rule]]`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub group: Option<GroupId>,
    /// `None`: the rule applies to every contact (useful with `points_per`).
    pub when: Option<Condition>,
    pub points: Option<Points>,
    pub disqualify: bool,
    /// Points fade with the age of a date (else the group's decay, if any).
    pub decay: Option<Decay>,
    /// `decay = false`: the points never fade, whatever the group's `decay`.
    pub no_decay: bool,
    pub span: Span,
}

/// What a matching rule adds to the score.
#[derive(Debug, Clone, PartialEq)]
pub enum Points {
    Fixed(f64),
    /// `points` times the cell's number; the product is capped at `max` in size.
    /// An empty, negative or unreadable cell gives 0.
    Per {
        field: FieldRef,
        points: f64,
        max: Option<f64>,
    },
}

/// A `[[route]]`: checked in order for contacts that are not disqualified and, if it lists
/// `tiers`, of one of them.
#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    pub when: Condition,
    /// `tiers = ["warm", "hot"]`: only contacts of these tiers; `None`: every tier.
    pub tiers: Option<Vec<Tier>>,
    pub queue: String,
    pub span: Span,
    /// Where `tiers` is written, for messages about it.
    pub tiers_span: Option<Span>,
}

impl Route {
    /// Whether the route is for contacts of `tier` (never for disqualified ones).
    pub fn for_tier(&self, tier: Tier) -> bool {
        tier != Tier::Disqualified && self.tiers.as_ref().is_none_or(|t| t.contains(&tier))
    }
}

/// A `when` condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Test(Test),
}

/// One operator applied to one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub field: FieldRef,
    pub op: Op,
    pub case_sensitive: bool,
    pub span: Span,
}

/// A field named in a condition: a `[fields]` entry or a CSV header.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    pub name: String,
    pub span: Span,
}

/// A literal in `equals` / `in`: its type decides how the cell is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Text(String),
    Number(f64),
    Bool(bool),
    Date(Date),
}

/// The operators of DESIGN.md.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Equals(Scalar),
    NotEquals(Scalar),
    In(Vec<Scalar>),
    NotIn(Vec<Scalar>),
    Contains(String),
    ContainsAny(Vec<String>),
    StartsWith(String),
    EndsWith(String),
    Matches(String),
    DomainIn(Vec<String>),
    Is(bool),
    /// `present = true` or `missing = false` is `Present(true)`.
    Present(bool),
    Gt(f64),
    AtLeast(f64),
    Lt(f64),
    AtMost(f64),
    Between(f64, f64),
    DateBetween(Date, Date),
    WithinDays(i64),
    OlderThanDays(i64),
    Before(Date),
    After(Date),
}

impl Op {
    /// The operator's key in rules.toml.
    pub fn key(&self) -> &'static str {
        match self {
            Op::Equals(_) => "equals",
            Op::NotEquals(_) => "not_equals",
            Op::In(_) => "in",
            Op::NotIn(_) => "not_in",
            Op::Contains(_) => "contains",
            Op::ContainsAny(_) => "contains_any",
            Op::StartsWith(_) => "starts_with",
            Op::EndsWith(_) => "ends_with",
            Op::Matches(_) => "matches",
            Op::DomainIn(_) => "domain_in",
            Op::Is(_) => "is",
            Op::Present(true) => "present",
            Op::Present(false) => "missing",
            Op::Gt(_) => "gt",
            Op::AtLeast(_) => "at_least",
            Op::Lt(_) => "lt",
            Op::AtMost(_) => "at_most",
            Op::Between(..) | Op::DateBetween(..) => "between",
            Op::WithinDays(_) => "within_days",
            Op::OlderThanDays(_) => "older_than_days",
            Op::Before(_) => "before",
            Op::After(_) => "after",
        }
    }
}

impl Condition {
    /// Every test in this condition, depth first.
    pub fn tests(&self) -> Vec<&Test> {
        let mut out = Vec::new();
        self.collect_tests(&mut out);
        out
    }

    fn collect_tests<'a>(&'a self, out: &mut Vec<&'a Test>) {
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| c.collect_tests(out)),
            Condition::Not(c) => c.collect_tests(out),
            Condition::Test(t) => out.push(t),
        }
    }
}

impl Rules {
    /// The `[fields]` entry with this name, if any.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Every field reference in the rules and routes, in file order.
    pub fn field_refs(&self) -> Vec<&FieldRef> {
        let mut refs = Vec::new();
        for rule in &self.rules {
            if let Some(when) = &rule.when {
                refs.extend(when.tests().into_iter().map(|t| &t.field));
            }
            if let Some(Points::Per { field, .. }) = &rule.points {
                refs.push(field);
            }
        }
        for route in &self.routes {
            refs.extend(route.when.tests().into_iter().map(|t| &t.field));
        }
        let decays = self.rules.iter().filter_map(|r| r.decay.as_ref());
        refs.extend(
            decays
                .chain(self.groups.iter().filter_map(|g| g.decay.as_ref()))
                .map(|d| &d.field),
        );
        for rep in &self.reps {
            if let Some(when) = &rep.when {
                refs.extend(when.tests().into_iter().map(|t| &t.field));
            }
        }
        refs.extend(self.balance.iter().filter_map(|b| b.owner.as_ref()));
        refs
    }

    /// The rule with this name, if any.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// The queue of warm contacts: the one `sales_capacity` and reps apply to.
    pub fn sales_queue(&self) -> &str {
        &self.queues.warm
    }

    /// Where contacts over sales capacity wait: `overflow_queue`, else the cold tier's.
    pub fn overflow_queue(&self) -> &str {
        self.balance
            .as_ref()
            .and_then(|b| b.overflow_queue.as_deref())
            .unwrap_or(&self.queues.cold)
    }

    /// Whether contacts bound for sales are held to the end of the run (capacity, reps).
    pub fn holds_sales(&self) -> bool {
        self.balance
            .as_ref()
            .is_some_and(|b| b.sales_capacity.is_some())
            || !self.reps.is_empty()
    }

    /// A rule's decay: its own, else its group's unless it says `decay = false`.
    pub fn decay_of<'a>(&'a self, rule: &'a Rule) -> Option<&'a Decay> {
        match &rule.decay {
            Some(own) => Some(own),
            None if rule.no_decay => None,
            None => rule.group.and_then(|g| self.groups[g].decay.as_ref()),
        }
    }

    /// The queues contacts can be sent to, in a stable order: the tier queues (hot only when
    /// a hot tier exists), then the queues routes name, then the overflow queue, each once.
    pub fn queue_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let tiers = [
            self.tiers.hot.as_ref().map(|_| self.queues.hot.as_str()),
            Some(self.queues.warm.as_str()),
            Some(self.queues.cold.as_str()),
            Some(self.queues.disqualified.as_str()),
        ];
        for name in tiers
            .into_iter()
            .flatten()
            .chain(self.routes.iter().map(|r| r.queue.as_str()))
            .chain(
                self.balance
                    .iter()
                    .filter_map(|b| b.overflow_queue.as_deref()),
            )
        {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }
}
