//! Rules checked against contacts whose outcome is known (`leadsort calibrate`).
//!
//! The story: read every contact with an outcome, scoring it with the current rules
//! (`Dataset`); measure how tiers, rules and the score separate converters from the rest;
//! fit the points a logistic regression would give the rules, checked out of fold; look for
//! rules the file lacks; then write the suggestion as a rules file and score the contacts
//! again with it, so that what the report says of the new file is what `classify` will do.
//!
//! Disqualified contacts never reach sales, whatever their score: the tier table counts
//! them, the score analyses (AUC, thresholds, points, suggested rules) leave them out.

pub mod logistic;
pub mod rewrite;
pub mod stats;
pub mod suggest;

use jiff::civil::Date;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::engine::{Engine, Header, Outcome, fmt_number};
use crate::error::{Error, Result};
use crate::input::{Input, Next, Record};
use crate::rules::{Points, Rules, Tier};

use logistic::Patterns;
use rewrite::{Added, Change, Edits, NewPoints};
use stats::{Cut, Cuts, Tally, auc, lift};
use suggest::{Scope, Search};

/// The outcome values that count as converted unless `--positive` says otherwise.
pub const DEFAULT_POSITIVE: [&str; 6] = ["true", "yes", "1", "won", "converted", "y"];

/// Folds for cross-validation: contact i (in file order, disqualified ones left out) is in
/// fold i mod 5.
pub const FOLDS: usize = 5;

/// How much more the mean over the folds of a measure of fitted points varies than the
/// contacts measured make it alone: the points differ from fold to fold with the contacts
/// they were fitted on, and those overlap. Nadeau and Bengio's correction of the variance,
/// 1 + k · (contacts measured / contacts fitted on) for k folds: 2.25 for five. Without it,
/// points fitted to a coin for an outcome beat the current ones "clearly" one time in seven.
pub const FOLD_VARIANCE: f64 = 1.0 + FOLDS as f64 / (FOLDS as f64 - 1.0);

/// One input column, each distinct cell kept once.
#[derive(Debug, Clone, Default)]
pub struct Column {
    /// Whether its cells are kept at all: a column that no rule reads and that is no
    /// candidate for a suggested rule (an id, a column in `--ignore-columns`) keeps none, and
    /// reads as empty for every contact.
    pub kept: bool,
    /// The distinct cells, exactly as read, one after another: a column of emails holds as
    /// many cells as contacts, so they share one buffer rather than each having its own.
    text: String,
    /// Where each distinct cell ends in `text`; cell `k` starts where cell `k - 1` ends.
    ends: Vec<u32>,
    /// Per contact, the index of its cell among the distinct cells.
    pub codes: Codes,
}

impl Column {
    /// The distinct cell with index `code`.
    pub fn cell(&self, code: usize) -> &str {
        let start = code.checked_sub(1).map_or(0, |k| self.ends[k] as usize);
        &self.text[start..self.ends[code] as usize]
    }

    /// The distinct cells, in the order of their codes.
    pub fn cells(&self) -> impl ExactSizeIterator<Item = &str> {
        (0..self.ends.len()).map(|code| self.cell(code))
    }

    /// Add the next contact's cell, giving it the code of an equal cell seen before, or the
    /// next code. `index` finds the codes of the cells seen so far by their hash.
    fn push(&mut self, cell: &str, index: &mut Distinct) -> std::result::Result<(), TooMany> {
        let hash = index.state.hash_one(cell);
        let code = match index
            .table
            .find(hash, |&code| self.cell(code as usize) == cell)
        {
            Some(&code) => code,
            None => {
                let code = u32::try_from(self.ends.len()).map_err(|_| TooMany)?;
                let end = u32::try_from(self.text.len() + cell.len()).map_err(|_| TooMany)?;
                self.text.push_str(cell);
                self.ends.push(end);
                let state = &index.state;
                index
                    .table
                    .insert_unique(hash, code, |&code| state.hash_one(self.cell(code as usize)));
                code
            }
        };
        self.codes.push(code);
        Ok(())
    }
}

/// A column's distinct cells by hash, while the file is read.
#[derive(Default)]
struct Distinct {
    table: hashbrown::HashTable<u32>,
    state: foldhash::fast::RandomState,
}

/// A column with more distinct cells, or more of their text, than codes of four bytes reach.
#[derive(Debug)]
struct TooMany;

/// Per contact, the index of its cell among a column's distinct cells: a byte each while
/// there are at most 256 of them (yes/no, a country, an industry), two bytes up to 65,536,
/// else four. Most columns a rule reads have few values; every contact holds a code for
/// each.
#[derive(Debug, Clone)]
pub enum Codes {
    Byte(Vec<u8>),
    Short(Vec<u16>),
    Long(Vec<u32>),
}

impl Default for Codes {
    fn default() -> Codes {
        Codes::Byte(Vec::new())
    }
}

impl Codes {
    /// Add the next contact's code, widening them all when it needs more bytes.
    pub fn push(&mut self, code: u32) {
        match self {
            Codes::Byte(codes) => match u8::try_from(code) {
                Ok(code) => codes.push(code),
                Err(_) => {
                    *self = Codes::Short(codes.iter().map(|&c| u16::from(c)).collect());
                    self.push(code);
                }
            },
            Codes::Short(codes) => match u16::try_from(code) {
                Ok(code) => codes.push(code),
                Err(_) => {
                    *self = Codes::Long(codes.iter().map(|&c| u32::from(c)).collect());
                    self.push(code);
                }
            },
            Codes::Long(codes) => codes.push(code),
        }
    }

    /// Contact `i`'s code.
    pub fn get(&self, i: usize) -> usize {
        match self {
            Codes::Byte(codes) => usize::from(codes[i]),
            Codes::Short(codes) => usize::from(codes[i]),
            Codes::Long(codes) => codes[i] as usize,
        }
    }

    pub fn shrink_to_fit(&mut self) {
        match self {
            Codes::Byte(codes) => codes.shrink_to_fit(),
            Codes::Short(codes) => codes.shrink_to_fit(),
            Codes::Long(codes) => codes.shrink_to_fit(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Codes::Byte(codes) => codes.len(),
            Codes::Short(codes) => codes.len(),
            Codes::Long(codes) => codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A rule that matched a contact, and the points it gave after decay.
#[derive(Debug, Clone, Copy)]
pub struct Matched {
    pub rule: usize,
    pub points: f64,
}

/// How often one outcome value occurred (trimmed, lower case), whether it counts as
/// converted, and whether its contacts were left out (in neither `--positive` nor
/// `--negative`, when `--negative` is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeValue {
    pub value: String,
    pub contacts: u64,
    pub positive: bool,
    pub left_out: bool,
}

/// Every contact with an outcome, held in memory: calibrate needs them all at once.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub header: Vec<String>,
    pub columns: Vec<Column>,
    pub converted: Vec<bool>,
    /// Score and tier under the current rules.
    pub score: Vec<i64>,
    pub tier: Vec<Tier>,
    /// Contact `i`'s matched rules are `hit_rule[hit_start[i]..hit_start[i + 1]]`, and the
    /// points each gave (after decay) are at the same places in `hit_points`.
    hit_start: Vec<usize>,
    hit_rule: Vec<u32>,
    hit_points: Vec<f64>,
    /// Contacts whose outcome cell is empty: left out.
    pub left_out: u64,
    /// Contacts whose outcome is in neither `positive` nor `negative` (with `negative`):
    /// left out.
    pub other_outcome: u64,
    /// Rows that could not be read.
    pub rejected: u64,
    pub outcome_values: Vec<OutcomeValue>,
}

impl Dataset {
    /// Read every contact, scoring it with `engine`. `positive`: the outcome values (trimmed,
    /// lower case) that count as converted; `negative`, when given, those that count as not
    /// converted, any other leaving its contact out (else every other counts as not
    /// converted). `keep`: per column, whether to keep its cells (see `Column::kept`): the
    /// columns the engine reads must be kept.
    pub fn read(
        input: &mut Input,
        engine: &Engine,
        outcome: usize,
        positive: &[String],
        negative: Option<&[String]>,
        keep: &[bool],
    ) -> Result<Dataset> {
        let header = input.header().names.clone();
        let width = header.len();
        let mut data = Dataset {
            columns: (0..width)
                .map(|c| Column {
                    kept: keep.get(c).copied().unwrap_or(false),
                    ..Column::default()
                })
                .collect(),
            header,
            hit_start: vec![0],
            ..Dataset::default()
        };
        let mut index: Vec<Distinct> = (0..width).map(|_| Distinct::default()).collect();
        let mut values: BTreeMap<String, u64> = BTreeMap::new();
        let mut record = Record::default();
        let mut scratch = engine.scratch();
        let mut out = Outcome::default();
        while let Some(next) = input.next(&mut record)? {
            if next == Next::Rejected {
                input.rejected.take();
                data.rejected += 1;
                continue;
            }
            let cell = trim(record.get(outcome).unwrap_or(""));
            if cell.is_empty() {
                data.left_out += 1;
                continue;
            }
            let value = fold(cell);
            let converted = positive.contains(&value);
            let counted = converted || negative.is_none_or(|n| n.contains(&value));
            *values.entry(value).or_default() += 1;
            if !counted {
                data.other_outcome += 1;
                continue;
            }
            engine.evaluate(&record, &mut scratch, &mut out);
            data.converted.push(converted);
            data.score.push(out.score);
            data.tier.push(out.tier());
            for hit in &out.hits {
                // A rule's index fits: a rules file of 2^32 rules would not load.
                data.hit_rule.push(hit.rule as u32);
                data.hit_points.push(hit.points);
            }
            data.hit_start.push(data.hit_rule.len());
            for (c, column) in data.columns.iter_mut().enumerate() {
                if !column.kept {
                    continue;
                }
                let cell = record.get(c).unwrap_or("");
                column.push(cell, &mut index[c]).map_err(|TooMany| {
                    Error::Data(format!(
                        "{}: too many distinct values in column `{}`: leave it out with \
                         --ignore-columns",
                        input.name(),
                        data.header[c]
                    ))
                })?;
            }
        }
        // Grown by doubling while read: give back what the rest of the run will not use.
        data.hit_start.shrink_to_fit();
        data.hit_rule.shrink_to_fit();
        data.hit_points.shrink_to_fit();
        for column in &mut data.columns {
            column.text.shrink_to_fit();
            column.ends.shrink_to_fit();
            column.codes.shrink_to_fit();
        }
        let mut values: Vec<OutcomeValue> = values
            .into_iter()
            .map(|(value, contacts)| {
                let positive = positive.contains(&value);
                OutcomeValue {
                    left_out: !positive && negative.is_some_and(|n| !n.contains(&value)),
                    positive,
                    value,
                    contacts,
                }
            })
            .collect();
        values.sort_by(|a, b| b.contacts.cmp(&a.contacts).then(a.value.cmp(&b.value)));
        data.outcome_values = values;
        Ok(data)
    }

    pub fn len(&self) -> usize {
        self.converted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.converted.is_empty()
    }

    /// The rules that matched contact `i` under the current rules.
    pub fn hits(&self, i: usize) -> impl Iterator<Item = Matched> {
        let at = self.hit_start[i]..self.hit_start[i + 1];
        self.hit_rule[at.clone()]
            .iter()
            .zip(&self.hit_points[at])
            .map(|(&rule, &points)| Matched {
                rule: rule as usize,
                points,
            })
    }

    /// Contact `i`'s cells, for scoring it again with other rules (empty in columns not
    /// kept).
    pub fn row(&self, i: usize) -> Vec<&str> {
        self.columns
            .iter()
            .map(|c| if c.kept { c.cell(c.codes.get(i)) } else { "" })
            .collect()
    }
}

/// What the run asks for beyond the data.
#[derive(Debug, Clone)]
pub struct Settings {
    pub target_precision: Option<f64>,
    /// `--capacity`, else the rules' `[balance] sales_capacity` (see `capacity_from_rules`).
    pub capacity: Option<u64>,
    /// Whether `capacity` is the rules' `sales_capacity` (no `--capacity` was given).
    pub capacity_from_rules: bool,
    /// Fit and write the suggested rules too.
    pub add_suggested: bool,
    /// The columns to look for new rules in.
    pub columns: Vec<suggest::Candidate>,
    /// The rules file's path (for messages) and the input's name and the outcome column
    /// (for the comments in the new file).
    pub rules_path: std::path::PathBuf,
    pub input: String,
    pub outcome: String,
    pub outcome_column: usize,
    pub as_of: Date,
}

impl Settings {
    /// The capacity's name, as the reasons for a threshold give it: `capacity` for
    /// `--capacity`, `sales_capacity` for the rules'.
    pub fn capacity_name(&self) -> &'static str {
        if self.capacity_from_rules {
            "sales_capacity"
        } else {
            "capacity"
        }
    }
}

/// How one rule does.
#[derive(Debug, Clone)]
pub struct RuleStats {
    pub name: String,
    /// Its points as written: `20`, `1 per unit, max 10`, `disqualify`.
    pub points: String,
    pub matched: Tally,
    pub rest: Tally,
    pub lift: Option<f64>,
}

/// Thresholds on one score.
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// The warm queue these rules give (warm and hot tiers), at their warm threshold.
    pub warm: Cut,
    pub target: Option<Cut>,
    pub capacity: Option<Cut>,
    pub best_f1: Option<Cut>,
}

impl Thresholds {
    fn new(cuts: &Cuts, warm: Cut, settings: &Settings) -> Thresholds {
        Thresholds {
            warm,
            target: settings
                .target_precision
                .and_then(|p| cuts.for_precision(p)),
            capacity: settings.capacity.and_then(|c| cuts.for_capacity(c)),
            best_f1: cuts.best_f1(),
        }
    }
}

/// Suggested points for one rule (or one suggested rule).
#[derive(Debug, Clone)]
pub struct Fitted {
    pub rule: String,
    /// The rule's index in the rules, or the suggestion's in `Search::suggestions`.
    pub index: usize,
    pub suggestion: bool,
    /// Points now (per unit for `points_per`); `None` for a suggested rule.
    pub now: Option<f64>,
    pub per_unit: bool,
    pub suggested: f64,
    /// The fitted log-odds weight (per unit for `points_per`).
    pub weight: f64,
    /// Why the points were kept, when they were.
    pub kept: Option<&'static str>,
}

/// The suggested points and how they do out of fold.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The L2 penalty chosen by cross-validation.
    pub lambda: f64,
    /// Points per unit of log-odds.
    pub scale: f64,
    pub points: Vec<Fitted>,
    /// Whether the suggested rules were fitted with the others.
    pub with_suggestions: bool,
    /// Whether the new rules use these points: only when they beat the current points out
    /// of fold by more than the noise, and chance too (see `Evidence::refusal`).
    pub adopted: bool,
    /// How they do out of fold against the current points.
    pub evidence: Evidence,
    /// Why the new rules keep the current points, when they do.
    pub refused: Option<Refusal>,
}

/// How the points fitted do on contacts they were not fitted on, against the current points:
/// each contact is scored by the points fitted on the folds it is not in.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence {
    /// The mean over the folds of each fold's AUC.
    pub auc: Option<f64>,
    /// The mean over the folds of each fold's AUC gain over the current points, and its
    /// standard error (see `fold_gain`).
    pub gain: Option<f64>,
    pub gain_se: Option<f64>,
    /// The standard error of the mean out-of-fold AUC of points fitted to an outcome they
    /// cannot tell (`stats::chance_se`, corrected by `FOLD_VARIANCE`).
    pub chance_se: f64,
}

/// Why suggested points are not used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refusal {
    /// No fold has both converters and others to measure them on.
    NotMeasured,
    /// Their gain over the current points is within `stats::Z` standard errors of 0.
    WithinNoise { gain: f64, margin: f64 },
    /// Their AUC is within `stats::Z` standard errors of a coin toss.
    Chance { auc: f64, margin: f64 },
}

impl Refusal {
    /// A few words, for the heading of the suggested points.
    pub fn short(&self) -> &'static str {
        match self {
            Refusal::NotMeasured => "they cannot be measured out of fold",
            Refusal::WithinNoise { .. } => "not clearly better than the current points out of fold",
            Refusal::Chance { .. } => "no better than chance out of fold",
        }
    }

    /// Why, with the figures.
    pub fn long(&self) -> String {
        match *self {
            Refusal::NotMeasured => "no fold has converters and others to measure them on".into(),
            Refusal::WithinNoise { gain, .. } if gain <= 0.0 => format!(
                "out of fold they do no better than the current points (a gain of {gain:+.3} in \
                 AUC)"
            ),
            Refusal::WithinNoise { gain, margin } => format!(
                "out of fold they gain {gain:+.3} in AUC over the current points, within the \
                 noise (a gain counts above {margin:.3}, {} standard errors)",
                stats::Z
            ),
            Refusal::Chance { auc, margin } => format!(
                "out of fold their AUC is {auc:.3}, no better than chance could give (it counts \
                 above {:.3}, 0.5 and {} standard errors)",
                0.5 + margin,
                stats::Z
            ),
        }
    }
}

impl Evidence {
    /// Why points with this evidence are not used, if they are not: their gain over the
    /// current points must be above `stats::Z` standard errors of it (a better AUC on five
    /// folds of a few hundred contacts can be luck), and their AUC above 0.5 by as many
    /// standard errors of a score that carries no information.
    pub fn refusal(&self) -> Option<Refusal> {
        let (Some(auc), Some(gain), Some(se)) = (self.auc, self.gain, self.gain_se) else {
            return Some(Refusal::NotMeasured);
        };
        let margin = stats::Z * se;
        if gain <= margin {
            return Some(Refusal::WithinNoise { gain, margin });
        }
        let margin = stats::Z * self.chance_se;
        (auc - 0.5 <= margin).then_some(Refusal::Chance { auc, margin })
    }
}

/// Out-of-fold AUC: the mean over the folds of the AUC on each fold, with points fitted on
/// the other folds.
#[derive(Debug, Clone, Default)]
pub struct OutOfFold {
    pub current: Option<f64>,
    pub suggested: Option<f64>,
    /// With the suggested rules fitted too.
    pub with_rules: Option<f64>,
}

/// The warm threshold suggested for the new file.
#[derive(Debug, Clone)]
pub struct Choice {
    pub cut: Cut,
    /// Why this one: `target precision 80%`, `best F1`.
    pub by: String,
    /// The threshold the reasons gave, when it was refused for one that separates no one
    /// (see `choose`) and the current one kept.
    pub refused: Option<i64>,
}

/// The rules file calibrate writes, and what it does to these contacts.
#[derive(Debug, Clone)]
pub struct NewRules {
    pub text: String,
    pub auc: Option<f64>,
    /// Its warm and hot tiers (group requirements included).
    pub sales: Cut,
    pub warm: f64,
    /// Set when the hot threshold had to rise to the new warm one.
    pub hot_raised: Option<f64>,
    /// `[[test]]`s in the file that fail with the new points.
    pub failing_tests: usize,
    pub added: usize,
}

/// Everything calibrate found.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Contacts with an outcome, and those not disqualified.
    pub all: Tally,
    pub scored: Tally,
    pub tiers: Vec<(Tier, Tally)>,
    pub rules: Vec<RuleStats>,
    pub auc: Option<f64>,
    pub current: Thresholds,
    pub warm_threshold: f64,
    pub fit: Option<Fit>,
    pub out_of_fold: OutOfFold,
    pub search: Search,
    pub suggested: Thresholds,
    pub choice: Choice,
    pub new_rules: NewRules,
    /// Things the reader should know (printed as warnings).
    pub notes: Vec<String>,
}

/// A model feature: a rule's match (or units, for `points_per`), or a suggested rule's match.
#[derive(Debug, Clone, Copy)]
enum Feature {
    Rule {
        index: usize,
        /// Points now: fixed, or per unit.
        now: f64,
        per_unit: bool,
    },
    Suggested(usize),
}

impl Calibration {
    pub fn new(
        rules: &Rules,
        engine: &Engine,
        data: &Dataset,
        settings: &Settings,
    ) -> Result<Calibration> {
        let mut notes = Vec::new();
        let all = tally(data, 0..data.len());
        let rows: Vec<usize> = (0..data.len())
            .filter(|&i| data.tier[i] != Tier::Disqualified)
            .collect();
        let scored = tally(data, rows.iter().copied());
        if scored.converted == 0 || scored.converted == scored.contacts {
            return Err(Error::Data(format!(
                "{}: {} of the {} contacts with an outcome in column `{}` (and not disqualified) \
                 converted: calibrate needs converters and others\n\
                 the values that count as converted are set with --positive (and with \
                 --negative, those that do not)",
                settings.input, scored.converted, scored.contacts, settings.outcome
            )));
        }
        let others = scored.contacts - scored.converted;
        if scored.converted < 30 || others < 30 {
            notes.push(format!(
                "only {} and {}: the figures are rough, and few suggestions can pass the checks",
                crate::ui::plural(scored.converted, "converter"),
                crate::ui::plural(others, "other"),
            ));
        }

        // Tiers and rules, over every contact with an outcome.
        let tiers = engine
            .tiers()
            .into_iter()
            .map(|t| {
                let rows = (0..data.len()).filter(|&i| data.tier[i] == t);
                (t, tally(data, rows))
            })
            .collect();
        let rule_stats = rule_stats(rules, data, all);
        // A rule that reads the outcome column only repeats it: its points are kept and
        // the fit leaves it out (else it would take all the weight, and new contacts,
        // whose outcome is not known yet, would score nothing).
        let leaks = outcome_readers(rules, engine, settings);
        notes.extend(leaks.iter().map(|&r| {
            format!(
                "rule `{}` reads the outcome column `{}`: its figures only repeat the outcome, \
                 and its points are kept as they are",
                rules.rules[r].name, settings.outcome
            )
        }));

        // The score, over the contacts that can reach sales.
        let current_scores: Vec<(i64, bool)> = rows
            .iter()
            .map(|&i| (data.score[i], data.converted[i]))
            .collect();
        let auc_now = auc(&as_f64(&current_scores));
        let cuts = Cuts::new(&current_scores);
        let warm_threshold = rules.tiers.warm.score;
        let warm_now = sales_cut(
            warm_threshold.ceil() as i64,
            rows.iter().map(|&i| (data.tier[i], data.converted[i])),
            scored.converted,
        );
        let current = Thresholds::new(&cuts, warm_now, settings);
        if !rules.tiers.warm.groups.is_empty() {
            notes.push(
                "the warm tier also requires group subtotals: the thresholds count the score \
                 alone, the warm queue rows count the tiers the rules give"
                    .to_string(),
            );
        }

        // Rules the file lacks.
        let rule_masks: Vec<suggest::Mask> = (0..rules.rules.len())
            .map(|r| suggest::Mask::new(rows.iter().map(|&i| data.hits(i).any(|h| h.rule == r))))
            .collect();
        let taken: Vec<&str> = rules.rules.iter().map(|r| r.name.as_str()).collect();
        let scope = Scope {
            data,
            rows: &rows,
            folds: FOLDS,
            rule_masks: &rule_masks,
        };
        let search = suggest::search(&scope, &settings.columns, &taken);
        // A column that tells converters from the others perfectly is most likely filled in
        // after the outcome (a close date, a contract number): a rule on it would score new
        // contacts, whose outcome is not known yet, on nothing.
        let mut split_perfectly: Vec<&str> = (search.suggestions.iter())
            .filter(|s| {
                let all = |t: &Tally| t.contacts >= 30 && t.converted == t.contacts;
                let none = |t: &Tally| t.contacts >= 30 && t.converted == 0;
                (all(&s.matched) && none(&s.rest)) || (none(&s.matched) && all(&s.rest))
            })
            .map(|s| s.header.as_str())
            .collect();
        split_perfectly.sort_unstable();
        split_perfectly.dedup();
        notes.extend(split_perfectly.iter().map(|column| {
            format!(
                "column `{column}` tells converters from the others perfectly: is it filled in \
                 after the outcome? Leave it out with --ignore-columns {}",
                crate::rules::toml_string(column)
            )
        }));

        // Suggested points: for the current rules alone, and with the suggested rules.
        let features = features(rules, &search, &leaks);
        let x = design(data, &rows, &features, &search);
        let base: Vec<usize> = (0..features.len())
            .filter(|&f| matches!(features[f], Feature::Rule { .. }))
            .collect();
        let every: Vec<usize> = (0..features.len()).collect();
        let fitter = Fitter {
            rules,
            data,
            rows: &rows,
            features: &features,
            x: &x,
            search: &search,
        };
        let base_fit = fitter.fit(&base);
        let wide_fit = if search.suggestions.is_empty() {
            None
        } else {
            fitter.fit(&every)
        };
        // The score and outcome of the scored contact at a position: now, and held out.
        let now = |pos: usize| (data.score[rows[pos]] as f64, data.converted[rows[pos]]);
        let held_out = |held: &[f64], pos: usize| (held[pos], data.converted[rows[pos]]);
        let out_of_fold = OutOfFold {
            current: mean_fold_auc(rows.len(), now),
            suggested: (base_fit.as_ref())
                .and_then(|f| mean_fold_auc(rows.len(), |pos| held_out(&f.1, pos))),
            with_rules: (wide_fit.as_ref())
                .and_then(|f| mean_fold_auc(rows.len(), |pos| held_out(&f.1, pos))),
        };
        let (mut fit, fit_held) = match (settings.add_suggested, wide_fit) {
            (true, Some((wide, held))) => (Some(wide), held),
            _ => match base_fit {
                Some((base, held)) => (Some(base), held),
                None => (None, Vec::new()),
            },
        };
        // Points that do no better than the current ones on contacts they were not fitted on,
        // by more than luck would give, are noise: the new file keeps the current points. So
        // are points that do no better than a coin toss there, however they do on the file.
        if let Some(fit) = &mut fit {
            let held = |pos| held_out(&fit_held, pos);
            let gain = fold_gain(rows.len(), now, held);
            fit.evidence = Evidence {
                auc: mean_fold_auc(rows.len(), held),
                gain: gain.map(|g| g.0),
                gain_se: gain.map(|g| g.1),
                chance_se: stats::chance_se(scored.converted, others) * FOLD_VARIANCE.sqrt(),
            };
            fit.refused = fit.evidence.refusal();
            fit.adopted = fit.refused.is_none();
            if let Some(refusal) = &fit.refused {
                notes.push(format!(
                    "the suggested points are not used: {}; the new rules keep the current points",
                    refusal.long()
                ));
            }
        }
        let adopted = fit.as_ref().is_some_and(|f| f.adopted);

        // The new file: points (and rules) first, then scored to pick its warm threshold.
        let mut edits = Edits::default();
        if let Some(fit) = fit.as_ref().filter(|f| f.adopted) {
            edits.changes = changes(rules, fit);
            edits.added = added(fit, &search, settings);
        }
        let header = Header::new(data.header.clone());
        let (_, first) = rescore(data, &header, &edits, settings, rules)?;
        let new_rows: Vec<usize> = (0..data.len())
            .filter(|&i| first[i].1 != Tier::Disqualified)
            .collect();
        let new_scores: Vec<(i64, bool)> = new_rows
            .iter()
            .map(|&i| (first[i].0, data.converted[i]))
            .collect();
        let new_cuts = Cuts::new(&new_scores);
        if let Some(p) = settings.target_precision
            && new_cuts.for_precision(p).is_none()
        {
            notes.push(format!(
                "no threshold of the new score converts at {}% or more (allowing for chance): \
                 the warm threshold is not lowered to chase it",
                fmt_number((p * 1000.0).round() / 10.0)
            ));
        }
        // Points adopted beat chance out of fold; else the new score is the current one, not
        // fitted to these contacts, and its AUC on them is a fair measure. (The AUC of points
        // fitted to these contacts, on them, flatters them: it is not asked.)
        let chance = if adopted {
            None
        } else {
            stats::no_better_than_chance(&as_f64(&new_scores))
        };
        let choice = choose(&new_cuts, settings, warm_threshold.ceil() as i64, chance);
        if let Some(a) = chance {
            // A threshold for a target or a capacity still moves: it is not fitted to noise.
            let kept = if choice.by.starts_with("kept: AUC") {
                ": the warm threshold is kept, as any other would be fitted to noise"
            } else {
                ""
            };
            notes.push(format!(
                "the score tells converters apart no better than chance (AUC {a:.3} over {} \
                 contacts){kept}; is `--outcome` the column meant, and do the rules read what \
                 converts?",
                new_scores.len()
            ));
        }
        if let Some(t) = choice.refused {
            notes.push(format!(
                "the warm threshold the figures point to, {t}, would make warm {}: the warm \
                 threshold {} is kept (set another by hand if it should move)",
                if t <= 0 {
                    "every contact no rule gives points to"
                } else {
                    "every one of these contacts"
                },
                fmt_number(warm_threshold)
            ));
        }
        let warm = choice.cut.threshold as f64;
        edits.warm = Some((
            warm,
            format!("was {}, {}", fmt_number(warm_threshold), choice.by),
        ));
        let mut hot_raised = None;
        if let Some(hot) = &rules.tiers.hot
            && hot.score < warm
        {
            hot_raised = Some(warm);
            edits.hot = Some((
                warm,
                format!(
                    "was {}, raised to the new warm threshold",
                    fmt_number(hot.score)
                ),
            ));
        }
        let (new_rules, second) = rescore(data, &header, &edits, settings, rules)?;
        let new_converters = tally(data, new_rows.iter().copied()).converted;
        let sales = sales_cut(
            choice.cut.threshold,
            new_rows.iter().map(|&i| (second[i].1, data.converted[i])),
            new_converters,
        );
        let suggested = Thresholds::new(&new_cuts, choice.cut, settings);
        let failing_tests = match crate::selftest::run_tests(&new_rules, settings.as_of) {
            Ok(runs) => runs.iter().filter(|r| !r.passed()).count(),
            Err(_) => new_rules.tests.len(),
        };
        // What `check --deny-warnings` would hold against the new file and not the current
        // one (a rule become a penalty in a group that decays, say): said now, not in CI.
        let warnings = |r: &Rules| -> Vec<String> {
            (crate::rules::lint(r, true).into_iter())
                .filter(|d| d.severity == crate::rules::Severity::Warning)
                .map(|d| d.message)
                .collect()
        };
        let before = warnings(rules);
        let new_warnings: Vec<String> = (warnings(&new_rules).into_iter())
            .filter(|w| !before.contains(w))
            .collect();
        if !new_warnings.is_empty() {
            notes.push(format!(
                "the new rules have {} the current ones have not, which `leadsort check` \
                 reports: {}",
                crate::ui::plural(new_warnings.len(), "warning"),
                new_warnings.join("; ")
            ));
        }
        if failing_tests > 0 {
            notes.push(format!(
                "{failing_tests} of the [[test]]s in the rules expect what the old points gave: \
                 update them in the new file (leadsort check --rules NEW.toml shows which)"
            ));
        }
        Ok(Calibration {
            all,
            scored,
            tiers,
            rules: rule_stats,
            auc: auc_now,
            current,
            warm_threshold,
            fit,
            out_of_fold,
            suggested,
            choice,
            new_rules: NewRules {
                text: new_rules.source.text.clone(),
                auc: auc(&as_f64(&new_scores)),
                sales,
                warm,
                hot_raised,
                failing_tests,
                added: edits.added.len(),
            },
            search,
            notes,
        })
    }
}

fn tally(data: &Dataset, rows: impl IntoIterator<Item = usize>) -> Tally {
    let mut t = Tally::default();
    for i in rows {
        t.add(data.converted[i]);
    }
    t
}

fn as_f64(scores: &[(i64, bool)]) -> Vec<(f64, bool)> {
    scores.iter().map(|&(s, y)| (s as f64, y)).collect()
}

/// The contacts a rule set sends to sales by tier: warm and hot.
fn sales_cut(threshold: i64, rows: impl Iterator<Item = (Tier, bool)>, converters: u64) -> Cut {
    let mut sent = Tally::default();
    for (tier, converted) in rows {
        if matches!(tier, Tier::Warm | Tier::Hot) {
            sent.add(converted);
        }
    }
    Cut::new(threshold, sent, converters)
}

/// Points as a person writes them: `20`, `1.5`, `0.00001` (every digit that matters; the
/// points per dollar of a revenue rule are tiny, and `0` would be wrong).
pub fn fmt_points(x: f64) -> String {
    if x.fract() == 0.0 {
        fmt_number(x)
    } else {
        format!("{x}")
    }
}

/// A rule's points as written in the file: `20`, `1 per unit, max 10`, `disqualify`.
pub fn describe_points(rule: &crate::rules::Rule) -> String {
    match (&rule.points, rule.disqualify) {
        (_, true) => "disqualify".to_string(),
        (Some(Points::Fixed(p)), _) => fmt_points(*p),
        (Some(Points::Per { points, max, .. }), _) => match max {
            Some(m) => format!("{} per unit, max {}", fmt_points(*points), fmt_points(*m)),
            None => format!("{} per unit", fmt_points(*points)),
        },
        (None, _) => "none".to_string(),
    }
}

fn rule_stats(rules: &Rules, data: &Dataset, all: Tally) -> Vec<RuleStats> {
    let mut matched = vec![Tally::default(); rules.rules.len()];
    for i in 0..data.len() {
        for h in data.hits(i) {
            matched[h.rule].add(data.converted[i]);
        }
    }
    rules
        .rules
        .iter()
        .zip(matched)
        .map(|(rule, m)| RuleStats {
            name: rule.name.clone(),
            points: describe_points(rule),
            matched: m,
            rest: all.minus(m),
            lift: lift(m, all),
        })
        .collect()
}

/// A rule that reads the outcome column only repeats the outcome: say so.
/// The rules that read the outcome column, by index.
fn outcome_readers(rules: &Rules, engine: &Engine, settings: &Settings) -> Vec<usize> {
    let reads_outcome = |field: &str| {
        engine
            .bindings
            .iter()
            .any(|b| b.field == field && b.column == Some(settings.outcome_column))
    };
    (0..rules.rules.len())
        .filter(|&r| {
            let rule = &rules.rules[r];
            let per = match &rule.points {
                Some(Points::Per { field, .. }) => Some(field.name.as_str()),
                _ => None,
            };
            rule.when
                .iter()
                .flat_map(|w| w.tests())
                .map(|t| t.field.name.as_str())
                .chain(per)
                .any(reads_outcome)
        })
        .collect()
}

/// The features: every rule that gives points to contacts who are not disqualified (but
/// those in `left_out`), then every suggested rule.
fn features(rules: &Rules, search: &Search, left_out: &[usize]) -> Vec<Feature> {
    let mut features = Vec::new();
    for (index, rule) in rules.rules.iter().enumerate() {
        if rule.disqualify || left_out.contains(&index) {
            continue;
        }
        match &rule.points {
            Some(Points::Fixed(p)) => features.push(Feature::Rule {
                index,
                now: *p,
                per_unit: false,
            }),
            Some(Points::Per { points, .. }) if *points != 0.0 => features.push(Feature::Rule {
                index,
                now: *points,
                per_unit: true,
            }),
            _ => {}
        }
    }
    features.extend((0..search.suggestions.len()).map(Feature::Suggested));
    features
}

/// Each scored contact's feature values: 1 if the rule matched (the share of its points left
/// after decay), else 0; for `points_per`, the units it counted (the points it gave over its
/// points per unit, after its cap and decay).
fn design(data: &Dataset, rows: &[usize], features: &[Feature], search: &Search) -> Design {
    let mut of_rule: HashMap<usize, (usize, Option<f64>)> = HashMap::new();
    for (f, feature) in features.iter().enumerate() {
        if let Feature::Rule { index, now, .. } = feature {
            // What one match is worth: the rule's points, or its points per unit.
            of_rule.insert(*index, (f, (*now != 0.0).then_some(*now)));
        }
    }
    let mut x = Design {
        starts: Vec::with_capacity(rows.len() + 1),
        features: Vec::new(),
        values: Vec::new(),
    };
    x.starts.push(0);
    let mut row = Vec::new();
    for (pos, &i) in rows.iter().enumerate() {
        row.clear();
        for h in data.hits(i) {
            // 1 for a match, less when its points decayed; for `points_per`, the units.
            if let Some(&(f, worth)) = of_rule.get(&h.rule) {
                row.push((f as u32, worth.map_or(1.0, |w| h.points / w)));
            }
        }
        for (f, feature) in features.iter().enumerate() {
            if let Feature::Suggested(k) = feature
                && search.suggestions[*k].mask.get(pos)
            {
                row.push((f as u32, 1.0));
            }
        }
        row.sort_by_key(|&(f, _)| f);
        for &(f, v) in row.iter().filter(|(_, v)| *v != 0.0) {
            x.features.push(f);
            x.values.push(v);
        }
        x.starts.push(x.values.len());
    }
    x.features.shrink_to_fit();
    x.values.shrink_to_fit();
    x
}

/// The feature values of every scored contact that are not 0, one row after another (one
/// buffer rather than one per contact: calibrate holds them all at once; and a contact
/// matches few rules).
struct Design {
    /// Row `pos` is at `starts[pos]..starts[pos + 1]` in `features` and `values`.
    starts: Vec<usize>,
    /// The features, in feature order within a row, and their values.
    features: Vec<u32>,
    values: Vec<f64>,
}

impl Design {
    /// The feature values of the scored contact at position `pos` that are not 0, as
    /// (feature, value).
    fn row(&self, pos: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let at = self.starts[pos]..self.starts[pos + 1];
        (self.features[at.clone()].iter())
            .zip(&self.values[at])
            .map(|(&f, &v)| (f as usize, v))
    }
}

/// What the points are fitted on.
struct Fitter<'a> {
    rules: &'a Rules,
    data: &'a Dataset,
    rows: &'a [usize],
    features: &'a [Feature],
    x: &'a Design,
    search: &'a Search,
}

impl Fitter<'_> {
    /// Fit the features `selected`: choose the penalty by cross-validation, fit on every
    /// contact, scale to points. Also each scored contact's score (by position) with the
    /// points fitted the same way on the four folds it is not in. `None` when there is
    /// nothing to fit.
    fn fit(&self, selected: &[usize]) -> Option<(Fit, Vec<f64>)> {
        if selected.is_empty() {
            return None;
        }
        let chosen: Vec<Feature> = selected.iter().map(|&f| self.features[f]).collect();
        // Where each feature is among the chosen (`selected` is in feature order).
        let mut column = vec![None; self.features.len()];
        for (j, &f) in selected.iter().enumerate() {
            column[f] = Some(j);
        }
        let patterns = Patterns::new(chosen.len(), self.rows.len(), |pos| {
            let x = (self.x.row(pos)).filter_map(|(f, v)| Some((column[f]?, v)));
            (pos % FOLDS, x, self.data.converted[self.rows[pos]])
        });
        let choice = logistic::choose_lambda(&patterns, FOLDS);
        let lambda = choice.lambda;
        let model = logistic::fit(&patterns, |_| true, lambda);
        let points_per_log_odds = scale(&model, &chosen);
        let suggested = to_points(&model, points_per_log_odds, &chosen);

        // Contact by contact, not pattern by pattern: the gain over the current points pairs
        // each contact's two scores, and contacts alike in the rules fitted can differ in the
        // current score (a rule that reads the outcome is not fitted).
        let fold_points: Vec<Vec<f64>> = (choice.fold_models.iter())
            .map(|model| to_points(model, scale(model, &chosen), &chosen))
            .collect();
        let held_out = (0..self.rows.len())
            .map(|pos| {
                let x = (self.x.row(pos)).filter_map(|(f, v)| Some((column[f]?, v)));
                score_with(self.rules, &chosen, &fold_points[pos % FOLDS], x) as f64
            })
            .collect();

        let points = chosen
            .iter()
            .enumerate()
            .map(|(j, feature)| {
                let (rule, index, suggestion, now, per_unit) = match *feature {
                    Feature::Rule {
                        index,
                        now,
                        per_unit,
                    } => (
                        self.rules.rules[index].name.clone(),
                        index,
                        false,
                        Some(now),
                        per_unit,
                    ),
                    Feature::Suggested(k) => (
                        self.search.suggestions[k].name.clone(),
                        k,
                        true,
                        None,
                        false,
                    ),
                };
                Fitted {
                    rule,
                    index,
                    suggestion,
                    now,
                    per_unit,
                    suggested: suggested[j],
                    weight: model.weights[j],
                    kept: (!model.varied[j]).then_some(
                        "kept: every scored contact has the same value, so the outcome cannot tell",
                    ),
                }
            })
            .collect();
        Some((
            Fit {
                lambda,
                scale: points_per_log_odds,
                points,
                with_suggestions: chosen.iter().any(|f| matches!(f, Feature::Suggested(_))),
                adopted: false,
                evidence: Evidence::default(),
                refused: None,
            },
            held_out,
        ))
    }
}

/// Points per unit of log-odds: the scale that keeps the sum of the absolute points of the
/// fixed-points rules as it is now (so tier thresholds and group caps keep their meaning).
/// Without such rules, the `points_per` rules' points per unit; else 10.
fn scale(model: &logistic::Model, features: &[Feature]) -> f64 {
    for per in [false, true] {
        let (mut now, mut weight) = (0.0, 0.0);
        for (j, f) in features.iter().enumerate() {
            if let Feature::Rule {
                now: p, per_unit, ..
            } = f
                && *per_unit == per
                && model.varied[j]
            {
                now += p.abs();
                weight += model.weights[j].abs();
            }
        }
        if now > 0.0 && weight > 1e-9 {
            return now / weight;
        }
    }
    10.0
}

/// Whole points for fixed-points rules and suggested rules, points per unit to two
/// significant digits for `points_per` rules (a unit can be small). A feature that did not vary keeps its points.
fn to_points(model: &logistic::Model, scale: f64, features: &[Feature]) -> Vec<f64> {
    features
        .iter()
        .enumerate()
        .map(|(j, f)| match *f {
            Feature::Rule { now, .. } if !model.varied[j] => now,
            Feature::Rule { per_unit: true, .. } => round_significant(scale * model.weights[j]),
            _ => (scale * model.weights[j]).round() + 0.0,
        })
        .collect()
}

/// `x` to two significant digits, or to a whole number when it is 10 or more (1.234 → 1.2,
/// 0.0000123 → 0.000012, 123.4 → 123), without -0: points per unit can be tiny (per dollar
/// of revenue) and must not round to nothing.
fn round_significant(x: f64) -> f64 {
    round_digits(x, 2)
}

/// `x` to `significant` digits (or to a whole number when it has more digits before the
/// point), without -0.
fn round_digits(x: f64, significant: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    let digits = significant - 1 - x.abs().log10().floor() as i32;
    // Parsed back from its decimal text, so 0.30000000000000004 is 0.3.
    format!("{:.*}", digits.max(0) as usize, x)
        .parse::<f64>()
        .map_or(0.0, |r| r + 0.0)
}

/// A contact's score with these points, as the engine adds them: group subtotals capped
/// and floored, the total rounded half away from zero.
fn score_with(
    rules: &Rules,
    features: &[Feature],
    points: &[f64],
    x: impl IntoIterator<Item = (usize, f64)>,
) -> i64 {
    let mut groups = vec![0.0; rules.groups.len()];
    let mut total = 0.0;
    for (j, v) in x {
        let p = points[j] * v;
        let group = match features[j] {
            Feature::Rule { index, .. } => rules.rules[index].group,
            Feature::Suggested(_) => None,
        };
        match group {
            Some(g) => groups[g] += p,
            None => total += p,
        }
    }
    for (g, sum) in rules.groups.iter().zip(groups) {
        total += g.clamp(sum);
    }
    total.round() as i64
}

fn mean_of(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The mean over the folds of each fold's AUC; `score(pos)` gives the score and outcome of
/// the contact at that position.
fn mean_fold_auc(n: usize, score: impl Fn(usize) -> (f64, bool)) -> Option<f64> {
    mean_of((0..FOLDS).filter_map(|k| {
        let fold: Vec<(f64, bool)> = (k..n).step_by(FOLDS).map(&score).collect();
        auc(&fold)
    }))
}

/// The mean over the folds of each fold's AUC gain of the score `new` over `now` (each gives
/// the score and outcome of the contact at a position), and its standard error: the variance
/// of each fold's gain is DeLong's, that of their mean the sum of those over the folds
/// squared, corrected by `FOLD_VARIANCE` (`new` is points fitted on the other folds). `None`
/// when no fold has two converters and two others.
fn fold_gain(
    n: usize,
    now: impl Fn(usize) -> (f64, bool),
    new: impl Fn(usize) -> (f64, bool),
) -> Option<(f64, f64)> {
    let gains: Vec<(f64, f64)> = (0..FOLDS)
        .filter_map(|k| {
            let a: Vec<(f64, bool)> = (k..n).step_by(FOLDS).map(&now).collect();
            let b: Vec<(f64, bool)> = (k..n).step_by(FOLDS).map(&new).collect();
            stats::auc_gain(&a, &b)
        })
        .collect();
    let m = gains.len() as f64;
    (!gains.is_empty()).then(|| {
        let gain = gains.iter().map(|g| g.0).sum::<f64>() / m;
        let variance = gains.iter().map(|g| g.1).sum::<f64>() / (m * m) * FOLD_VARIANCE;
        (gain, variance.sqrt())
    })
}

/// The point changes to write: each rule whose suggested points differ from its points.
fn changes(rules: &Rules, fit: &Fit) -> Vec<Change> {
    fit.points
        .iter()
        .filter(|f| !f.suggestion && f.kept.is_none() && f.now != Some(f.suggested))
        .filter_map(|f| {
            let rule = &rules.rules[f.index];
            let points = match &rule.points {
                Some(Points::Fixed(_)) => NewPoints::Fixed(f.suggested),
                Some(Points::Per { points, max, .. }) => NewPoints::Per {
                    points: f.suggested,
                    // The same cap in units (max / points per unit), to within 0.5%.
                    max: max.map(|m| cap_for(m, *points, f.suggested)),
                },
                None => return None,
            };
            Some(Change {
                rule: rule.name.clone(),
                points,
                was: describe_points(rule),
            })
        })
        .collect()
}

/// The `max` that caps `points_per = suggested` at the units that `max = m` capped at
/// `points` per unit: to three significant digits, so the cap in units moves by 0.5% at most
/// (not to 0.1, which turned a cap of 0.0185 into 0.1, five times the units).
fn cap_for(m: f64, points: f64, suggested: f64) -> f64 {
    if suggested == 0.0 || points == 0.0 {
        return m;
    }
    round_digits(m / points.abs() * suggested.abs(), 3)
}

/// The suggested rules to append, when they were fitted.
fn added(fit: &Fit, search: &Search, settings: &Settings) -> Vec<Added> {
    fit.points
        .iter()
        // A suggested rule the fit gives no points would add nothing to the file but length.
        .filter(|f| f.suggestion && f.suggested != 0.0)
        .map(|f| {
            let s = &search.suggestions[f.index];
            Added {
                name: s.name.clone(),
                field: s.field.clone(),
                key: s.test.key(),
                value: s.test.toml_value(),
                points: f.suggested,
                comment: vec![
                    format!(
                        "Suggested by `leadsort calibrate` from {} (outcome column `{}`):",
                        settings.input, settings.outcome
                    ),
                    format!(
                        "{:.1}% of contacts match; they convert at {:.1}%, the others at {:.1}% (lift {:.2},",
                        s.matched.contacts as f64 * 100.0 / (s.matched.contacts + s.rest.contacts) as f64,
                        s.matched.rate().unwrap_or(0.0) * 100.0,
                        s.rest.rate().unwrap_or(0.0) * 100.0,
                        s.lift,
                    ),
                    format!(
                        "{:.2} on the weakest held-out fold). Check that it makes sense before relying on it.",
                        s.held_out_lift
                    ),
                ],
            }
        })
        .collect()
}

/// Write the edits, load the result as leadsort would, and score every contact with it.
fn rescore(
    data: &Dataset,
    header: &Header,
    edits: &Edits,
    settings: &Settings,
    rules: &Rules,
) -> Result<(Rules, Vec<(i64, Tier)>)> {
    let bug = |what: String| Error::Internal(format!("the rules calibrate wrote {what}"));
    let text = rewrite::apply(&rules.source.text, edits)
        .map_err(|e| bug(format!("could not be made: {e}")))?;
    let new = crate::rules::from_str(&settings.rules_path, &text)
        .map_err(|e| bug(format!("do not load:\n{}", e.render(false))))?;
    let engine = Engine::compile(&new, header, settings.as_of)
        .map_err(|_| bug("do not fit the input".to_string()))?;
    let mut scratch = engine.scratch();
    let mut out = Outcome::default();
    let scores = (0..data.len())
        .map(|i| {
            engine.evaluate(data.row(i).as_slice(), &mut scratch, &mut out);
            (out.score, out.tier())
        })
        .collect();
    Ok((new, scores))
}

/// The warm threshold for the new file: the lowest that meets `--target-precision`, and
/// within the capacity (`--capacity`, else the rules' `sales_capacity`) when both are given; else the best F1, unless the score does no
/// better than chance (`chance`: its AUC), when the best F1 is noise and the threshold is kept.
fn choose(cuts: &Cuts, settings: &Settings, current: i64, chance: Option<f64>) -> Choice {
    let percent = |p: f64| format!("{}%", fmt_number((p * 1000.0).round() / 10.0));
    let target = settings
        .target_precision
        .map(|p| (p, cuts.for_precision(p)));
    let capacity = settings.capacity.map(|c| (c, cuts.for_capacity(c)));
    let name = settings.capacity_name();
    // The best F1 that leaves someone in marketing, if it does better than sending everyone;
    // else (the score does not pick converters out) the threshold there is.
    let everyone = cuts.cuts.last().map_or(0.0, |c| c.f1);
    let best = || {
        cuts.best_f1_short_of_all()
            .filter(|c| c.f1 > everyone)
            .unwrap_or_else(|| cuts.at(current))
    };
    let (cut, by) = match (target, capacity) {
        (Some((p, Some(t))), Some((c, Some(k)))) => {
            if t.threshold >= k.threshold {
                (t, format!("target precision {}", percent(p)))
            } else {
                (
                    k,
                    format!("{name} {c}; target precision {} met", percent(p)),
                )
            }
        }
        (Some((p, Some(t))), _) => (t, format!("target precision {}", percent(p))),
        // No threshold converts that well: a lower bar would only convert worse, so the
        // current one stays, raised to the capacity's when that is higher.
        (Some((p, None)), Some((c, Some(k)))) if k.threshold > current => (
            k,
            format!("{name} {c}; no threshold reaches {}", percent(p)),
        ),
        (Some((p, None)), _) => {
            return Choice {
                cut: cuts.at(current),
                by: format!("kept: no threshold reaches {}", percent(p)),
                refused: None,
            };
        }
        (None, Some((c, Some(k)))) => (k, format!("{name} {c}")),
        (None, Some((c, None))) => (
            best(),
            format!("best F1; the top score alone has more than {c} contacts ({name})"),
        ),
        (None, None) => (best(), "best F1".to_string()),
    };
    // Say so when the best F1 overall would have sent everyone to sales.
    let by = if !by.starts_with("best F1") {
        by
    } else if let Some(auc) = chance {
        return Choice {
            cut: cuts.at(current),
            by: format!("kept: AUC {auc:.3}, no better than chance"),
            refused: None,
        };
    } else if cut.threshold == current && cut.f1 <= everyone {
        by.replacen("best F1", "kept: no threshold beats sending everyone", 1)
    } else if cuts.best_f1().is_some_and(|b| b.threshold != cut.threshold) {
        by.replacen("best F1", "best F1 short of sending everyone", 1)
    } else {
        by
    };
    // A warm threshold of 0 or below makes warm every contact no rule gives points to, and one
    // at or below the lowest score here every one of these contacts: neither separates
    // anyone (a best F1 gets there when few convert and the score barely tells them apart,
    // a capacity when it takes more contacts than there are). It is never written: the
    // current threshold stays, and the reasons say which was refused.
    let lowest = cuts.cuts.last().map_or(i64::MIN, |c| c.threshold);
    if cut.threshold != current && (cut.threshold <= 0 || cut.threshold <= lowest) {
        let why = if cut.threshold <= 0 {
            "not above 0"
        } else {
            "the lowest score here"
        };
        return Choice {
            cut: cuts.at(current),
            by: format!("kept: {} ({by}) is {why}", cut.threshold),
            refused: Some(cut.threshold),
        };
    }
    Choice {
        cut,
        by,
        refused: None,
    }
}

/// Trimmed the way the engine trims a cell: ASCII whitespace, then any Unicode whitespace
/// left when the cell starts or ends with a non-ASCII character.
pub fn trim(s: &str) -> &str {
    let t = s.trim_ascii();
    let b = t.as_bytes();
    if b.first().is_none_or(u8::is_ascii) && b.last().is_none_or(u8::is_ascii) {
        t
    } else {
        t.trim()
    }
}

/// Lower case, as the engine folds text.
pub fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_widen_as_the_distinct_cells_grow() {
        let mut codes = Codes::default();
        let want: Vec<u32> = (0..300).chain([7, 70_000, 3, 65_535]).collect();
        for (i, &code) in want.iter().enumerate() {
            codes.push(code);
            let width = match &codes {
                Codes::Byte(_) => 255,
                Codes::Short(_) => 65_535,
                Codes::Long(_) => u32::MAX,
            };
            assert!(want[..=i].iter().all(|&c| c <= width), "too narrow at {i}");
            let narrower = match &codes {
                Codes::Byte(_) => None,
                Codes::Short(_) => Some(255),
                Codes::Long(_) => Some(65_535),
            };
            if let Some(narrower) = narrower {
                assert!(
                    want[..=i].iter().any(|&c| c > narrower),
                    "wider than needed at {i}"
                );
            }
        }
        assert_eq!(codes.len(), want.len());
        let got: Vec<u32> = (0..codes.len()).map(|i| codes.get(i) as u32).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_column_keeps_each_distinct_cell_once_and_reads_every_contact_back() {
        let mut column = Column::default();
        let mut index = Distinct::default();
        // Empty cells, repeats, a cell that is another's prefix, more than 256 distinct.
        let cells: Vec<String> = ["", "a", "ab", "a", "", "ab", "abc"]
            .into_iter()
            .map(String::from)
            .chain((0..600).map(|i| format!("x{}", i % 300)))
            .collect();
        for cell in &cells {
            column.push(cell, &mut index).unwrap();
        }
        assert_eq!(column.codes.len(), cells.len());
        for (i, cell) in cells.iter().enumerate() {
            assert_eq!(column.cell(column.codes.get(i)), cell, "contact {i}");
        }
        let distinct: Vec<&str> = column.cells().collect();
        assert_eq!(distinct.len(), 4 + 300);
        assert_eq!(distinct[..5], ["", "a", "ab", "abc", "x0"]);
    }

    #[test]
    fn with_negative_values_other_outcomes_are_left_out_and_counted() {
        let csv = "title,outcome\nVP,Won\nIntern,lost\nVP,No decision\nCEO, WON \nCTO,\n\
                   Intern,no decision\nVP,Closed lost\n";
        let rules = crate::rules::from_str(
            std::path::Path::new("r.toml"),
            "version = 1\n[tiers]\nwarm = 10\n[[rule]]\nname = \"VP\"\n\
             when = { field = \"title\", equals = \"vp\" }\npoints = 20\n",
        )
        .unwrap();
        let read = |negative: Option<&[String]>| {
            let options = crate::input::Options::default();
            let source = Box::new(std::io::Cursor::new(csv.as_bytes().to_vec()));
            let mut input = Input::from_reader(source, "c.csv".into(), &options).unwrap();
            let as_of = jiff::civil::date(2026, 11, 27);
            let engine = Engine::compile(&rules, input.header(), as_of).unwrap();
            let positive = ["won".to_string()];
            Dataset::read(&mut input, &engine, 1, &positive, negative, &[true; 2]).unwrap()
        };
        // Without --negative, every other value counts as not converted.
        let all = read(None);
        assert_eq!((all.len(), all.left_out, all.other_outcome), (6, 1, 0));
        assert!(all.outcome_values.iter().all(|v| !v.left_out));
        // With it, "no decision" is neither: those two contacts are left out.
        let negative = ["lost".to_string(), "closed lost".to_string()];
        let some = read(Some(&negative));
        assert_eq!((some.len(), some.left_out, some.other_outcome), (4, 1, 2));
        assert_eq!(some.converted, [true, false, true, false]);
        assert_eq!(some.score, [20, 0, 0, 20]);
        let left_out: Vec<(&str, u64)> = (some.outcome_values.iter())
            .filter(|v| v.left_out)
            .map(|v| (v.value.as_str(), v.contacts))
            .collect();
        assert_eq!(left_out, [("no decision", 2)]);
    }

    #[test]
    fn columns_not_kept_hold_no_cells_and_read_as_empty() {
        let csv =
            "id,title,notes,won\n1,VP Sales,call back,yes\n2,Intern,long note,no\n3,VP Ops,,yes\n";
        let rules = crate::rules::from_str(
            std::path::Path::new("r.toml"),
            "version = 1\n[tiers]\nwarm = 10\n[[rule]]\nname = \"VP\"\n\
             when = { field = \"title\", contains = \"vp\" }\npoints = 20\n",
        )
        .unwrap();
        let read = |keep: &[bool]| {
            let options = crate::input::Options::default();
            let source = Box::new(std::io::Cursor::new(csv.as_bytes().to_vec()));
            let mut input = Input::from_reader(source, "c.csv".into(), &options).unwrap();
            let as_of = jiff::civil::date(2026, 11, 27);
            let engine = Engine::compile(&rules, input.header(), as_of).unwrap();
            Dataset::read(&mut input, &engine, 3, &["yes".to_string()], None, keep).unwrap()
        };
        let all = read(&[true; 4]);
        let some = read(&[false, true, false, true]);
        assert_eq!(some.score, all.score);
        assert_eq!(some.score, [20, 0, 20]);
        assert_eq!(some.converted, all.converted);
        assert!(some.columns[0].cells().len() == 0 && some.columns[2].codes.is_empty());
        fn cells(c: &Column) -> Vec<&str> {
            c.cells().collect()
        }
        assert_eq!(cells(&some.columns[1]), cells(&all.columns[1]));
        assert_eq!(cells(&all.columns[1]), ["VP Sales", "Intern", "VP Ops"]);
        assert_eq!(some.row(1), ["", "Intern", "", "no"]);
        assert_eq!(all.row(1), ["2", "Intern", "long note", "no"]);
    }

    fn no_targets() -> Settings {
        Settings {
            target_precision: None,
            capacity: None,
            capacity_from_rules: false,
            add_suggested: false,
            columns: Vec::new(),
            rules_path: "rules.toml".into(),
            input: "contacts.csv".into(),
            outcome: "converted".into(),
            outcome_column: 0,
            as_of: jiff::civil::date(2026, 11, 27),
        }
    }

    /// `contacts` at each score, `converted` of them converting.
    fn cuts(groups: &[(i64, usize, usize)]) -> Cuts {
        let mut scores = Vec::new();
        for &(score, converted, contacts) in groups {
            scores.extend((0..contacts).map(|i| (score, i < converted)));
        }
        Cuts::new(&scores)
    }

    #[test]
    fn a_score_that_picks_nobody_out_keeps_the_threshold() {
        // Higher scores convert less: every threshold does worse than sending everyone.
        let useless = cuts(&[(30, 1, 10), (20, 2, 10), (10, 4, 10)]);
        let choice = choose(&useless, &no_targets(), 20, None);
        assert_eq!(choice.cut.threshold, 20);
        assert!(choice.by.starts_with("kept"), "{}", choice.by);
        // A score that does pick them out: its best F1, not everyone.
        let useful = cuts(&[(30, 9, 10), (20, 6, 10), (10, 1, 10)]);
        let choice = choose(&useful, &no_targets(), 10, None);
        assert_eq!(choice.cut.threshold, 20);
        assert_eq!(choice.by, "best F1");
    }

    #[test]
    fn points_are_used_only_on_a_gain_above_the_noise_and_above_chance() {
        // The tester's file: 0.533 out of fold against 0.508, a gain of one standard error.
        let noise = Evidence {
            auc: Some(0.533),
            gain: Some(0.025),
            gain_se: Some(0.026),
            chance_se: 0.0255,
        };
        let refusal = noise.refusal();
        assert!(
            matches!(refusal, Some(Refusal::WithinNoise { gain, margin })
                if gain == 0.025 && (margin - 1.645 * 0.026).abs() < 1e-12),
            "{refusal:?}"
        );
        // A sure gain that still leaves the score within chance of a coin toss.
        let near_chance = Evidence {
            gain: Some(0.03),
            gain_se: Some(0.005),
            ..noise
        };
        assert!(matches!(
            near_chance.refusal(),
            Some(Refusal::Chance { .. })
        ));
        // A sure gain to a score that tells converters apart.
        let clear = Evidence {
            auc: Some(0.79),
            gain: Some(0.068),
            gain_se: Some(0.006),
            chance_se: 0.009,
        };
        assert_eq!(clear.refusal(), None);
        assert_eq!(Evidence::default().refusal(), Some(Refusal::NotMeasured));
    }

    #[test]
    fn a_warm_threshold_that_separates_no_one_is_never_suggested() {
        // Few convert, and the score barely tells them apart: the best F1 short of sending
        // everyone is at -5, which would make warm every contact no rule gives points to.
        let weak = cuts(&[(20, 1, 10), (0, 10, 100), (-5, 10, 90), (-10, 1, 30)]);
        assert_eq!(weak.best_f1_short_of_all().unwrap().threshold, -5);
        let choice = choose(&weak, &no_targets(), 20, None);
        assert_eq!(choice.cut.threshold, 20);
        assert_eq!(choice.refused, Some(-5));
        assert_eq!(choice.by, "kept: -5 (best F1) is not above 0");
        // A capacity larger than the file would take the lowest score, every contact.
        let capacity = Settings {
            capacity: Some(1000),
            ..no_targets()
        };
        let useful = cuts(&[(30, 9, 10), (20, 6, 10), (10, 1, 10)]);
        let choice = choose(&useful, &capacity, 20, None);
        assert_eq!((choice.cut.threshold, choice.refused), (20, Some(10)));
        assert_eq!(
            choice.by,
            "kept: 10 (capacity 1000) is the lowest score here"
        );
        // The rules' sales capacity is named as such.
        let sales = Settings {
            capacity: Some(10),
            capacity_from_rules: true,
            ..no_targets()
        };
        let choice = choose(&useful, &sales, 10, None);
        assert_eq!(
            (choice.cut.threshold, choice.by.as_str()),
            (30, "sales_capacity 10")
        );
        // Above 0 and above the lowest score, it is suggested as before.
        let choice = choose(&useful, &no_targets(), 10, None);
        assert_eq!((choice.cut.threshold, choice.refused), (20, None));
    }

    #[test]
    fn rounding_points() {
        assert_eq!(round_digits(0.018_54, 3), 0.0185);
        assert_eq!(round_digits(1234.7, 3), 1235.0);
        assert!(round_digits(-0.000_01, 3) < 0.0);
        assert_eq!(round_significant(1.234), 1.2);
        // A points_per cap keeps its units: 5 at 0.01 a unit is 500 units, and so is the cap
        // at 0.000037 a unit (0.0185, not 0.1).
        let cap = cap_for(5.0, 0.01, 0.000_037);
        assert!((cap / 0.000_037 - 500.0).abs() <= 2.5, "{cap}");
        assert_eq!(cap_for(10.0, 1.0, 1.5), 15.0);
        assert_eq!(cap_for(10.0, 1.0, 0.0), 10.0);
        assert_eq!(round_significant(0.000_012_34), 0.000_012);
        assert_eq!(round_significant(-0.046), -0.046);
        assert_eq!(round_significant(123.4), 123.0);
        assert_eq!(round_significant(0.0), 0.0);
        assert!(round_significant(-0.0).is_sign_positive());
        // Shown with every digit that matters, never as 0.
        assert_eq!(fmt_points(0.000_012), "0.000012");
        assert_eq!(fmt_points(1.5), "1.5");
        assert_eq!(fmt_points(20.0), "20");
    }
}
