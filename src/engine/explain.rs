//! One contact, rule by rule: what each condition read, whether it held, what it added.
//!
//! Explanations re-compile each condition leaf with the same compiler the engine used, so a
//! leaf holds here exactly when it holds in `Engine::evaluate`; the hot path carries no
//! bookkeeping for this.

use super::matcher::{Cond, Value};
use super::{Compiler, Engine, Outcome, Row, RulePoints};
use crate::rules::{Condition, Points, Rules, Tier};

/// Why one contact got its score, tier and queue.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub outcome: Outcome,
    /// Every rule, in file order.
    pub rules: Vec<RuleTrace>,
    /// Every group's subtotal before and after its cap and floor.
    pub groups: Vec<GroupTrace>,
    /// The tiers from the highest down, with what this contact met or missed.
    pub tiers: Vec<TierTrace>,
    /// The routes checked, in order, up to the one that matched.
    pub routes: Vec<RouteTrace>,
}

#[derive(Debug, Clone)]
pub struct RuleTrace {
    pub rule: usize,
    pub matched: bool,
    /// The points this rule added (0 when it did not match).
    pub points: f64,
    /// Those points before decay.
    pub undecayed: f64,
    pub when: Option<Trace>,
    /// For `points_per`: the cell the points were counted from.
    pub per: Option<Read>,
    /// For a rule with decay (its own or its group's): the date read, and the factor its
    /// points were multiplied by (1 without a date to decay from).
    pub decay: Option<(Read, f64)>,
}

/// A condition's result, with each of its tests.
#[derive(Debug, Clone)]
pub enum Trace {
    All {
        holds: bool,
        parts: Vec<Trace>,
    },
    Any {
        holds: bool,
        parts: Vec<Trace>,
    },
    Not {
        holds: bool,
        inner: Box<Trace>,
    },
    Test {
        holds: bool,
        test: String,
        read: Read,
    },
}

impl Trace {
    pub fn holds(&self) -> bool {
        match self {
            Trace::All { holds, .. }
            | Trace::Any { holds, .. }
            | Trace::Not { holds, .. }
            | Trace::Test { holds, .. } => *holds,
        }
    }
}

/// A cell as a test read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub field: String,
    /// The column index, or `None` for an optional field absent from the input.
    pub column: Option<usize>,
    pub cell: String,
    /// The cell is not empty but could not be read as the type the test needs.
    pub unreadable: bool,
    /// What the test read the cell as, when that is not the cell's text: a date in another
    /// form (`03/11/2026` is 2026-03-11 under `%m/%d/%Y`), a number (`1,200`), yes or no
    /// (`Ja`). Shows which way an ambiguous cell was taken.
    pub read_as: Option<String>,
}

#[derive(Debug, Clone)]
pub struct GroupTrace {
    pub group: usize,
    pub raw: f64,
    pub capped: f64,
}

#[derive(Debug, Clone)]
pub struct TierTrace {
    pub tier: Tier,
    pub score_needed: f64,
    /// Group requirements: group, subtotal needed.
    pub groups: Vec<(usize, f64)>,
    pub met: bool,
}

#[derive(Debug, Clone)]
pub struct RouteTrace {
    pub route: usize,
    /// Whether the route is for the contact's tier (`tiers`): if not, it did not match,
    /// whatever its condition says.
    pub for_tier: bool,
    pub when: Trace,
}

impl RouteTrace {
    pub fn matched(&self) -> bool {
        self.for_tier && self.when.holds()
    }
}

impl Engine {
    /// Explain one contact. `rules` must be the rules this engine was compiled from.
    pub fn explain<R: Row + ?Sized>(&self, rules: &Rules, row: &R) -> Explanation {
        let mut scratch = self.scratch();
        let mut outcome = Outcome::default();
        self.evaluate(row, &mut scratch, &mut outcome);
        let values = &scratch.values;
        let mut cx = Compiler {
            rules,
            bindings: &self.bindings,
            slots: self.slots.clone(),
            typed_fields: self.typed_fields.clone(),
            as_of: self.as_of,
            decimal_point: self.decimal_point,
        };
        let mut memo = super::probe::Memo::default();
        memo.next_row();
        let rule_traces = rules
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let hit = outcome.hits.iter().find(|h| h.rule == i);
                let per = match (&rule.points, &self.rules[i].points) {
                    (Some(Points::Per { field, .. }), RulePoints::Per { slot, .. }) => {
                        Some(cx.read(&field.name, row, values.get(*slot).copied()))
                    }
                    _ => None,
                };
                let decay = self.rules[i].decay.map(|(slot, _)| {
                    let field = rules.decay_of(rule).map_or("", |d| d.field.name.as_str());
                    let read = cx.read(field, row, values.get(slot).copied());
                    (read, hit.map_or(1.0, |h| h.decay))
                });
                RuleTrace {
                    rule: i,
                    matched: hit.is_some(),
                    points: hit.map_or(0.0, |h| h.points),
                    undecayed: hit.map_or(0.0, |h| h.undecayed),
                    decay,
                    when: rule
                        .when
                        .as_ref()
                        .map(|c| cx.trace(c, row, values, &mut memo)),
                    per,
                }
            })
            .collect();
        let mut raw = vec![0.0; rules.groups.len()];
        for hit in &outcome.hits {
            if let Some(g) = rules.rules[hit.rule].group {
                raw[g] += hit.points;
            }
        }
        let groups = rules
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| GroupTrace {
                group: g,
                raw: raw[g],
                capped: group.clamp(raw[g]),
            })
            .collect();
        let tier_rules = rules
            .tiers
            .hot
            .as_ref()
            .map(|h| (Tier::Hot, h))
            .into_iter()
            .chain([(Tier::Warm, &rules.tiers.warm)]);
        let tiers = tier_rules
            .map(|(tier, t)| TierTrace {
                tier,
                score_needed: t.score,
                groups: t.groups.clone(),
                met: t.met_by(outcome.score, |g| outcome.groups[g]),
            })
            .collect();
        let mut routes = Vec::new();
        if !outcome.disqualified {
            for (i, route) in rules.routes.iter().enumerate() {
                let when = cx.trace(&route.when, row, values, &mut memo);
                let trace = RouteTrace {
                    route: i,
                    for_tier: route.for_tier(outcome.tier()),
                    when,
                };
                let matched = trace.matched();
                routes.push(trace);
                if matched {
                    break;
                }
            }
        }
        Explanation {
            outcome,
            rules: rule_traces,
            groups,
            tiers,
            routes,
        }
    }
}

/// A typed value as explain shows it, when that differs from the cell's text.
fn read_as(value: Value, cell: &str) -> Option<String> {
    let shown = match value {
        Value::Number(n) => super::fmt_number(n),
        Value::Day(d) => {
            let epoch = jiff::civil::date(1970, 1, 1);
            epoch
                .checked_add(jiff::Span::new().days(i64::from(d)))
                .ok()?
                .to_string()
        }
        Value::Bool(b) => (if b { "yes" } else { "no" }).to_string(),
        Value::Empty | Value::Unreadable => return None,
    };
    (shown != cell).then_some(shown)
}

impl Compiler<'_> {
    fn read<R: Row + ?Sized>(&self, field: &str, row: &R, value: Option<Value>) -> Read {
        let column = self.column(field);
        Read {
            field: field.to_string(),
            column,
            cell: super::matcher::cell(row, column).to_string(),
            unreadable: value == Some(Value::Unreadable),
            read_as: value
                .and_then(|v| read_as(v, super::matcher::trim(super::matcher::cell(row, column)))),
        }
    }

    fn trace<R: Row + ?Sized>(
        &mut self,
        c: &Condition,
        row: &R,
        values: &[Value],
        memo: &mut super::probe::Memo,
    ) -> Trace {
        match c {
            Condition::All(parts) => {
                let parts: Vec<Trace> = parts
                    .iter()
                    .map(|p| self.trace(p, row, values, memo))
                    .collect();
                Trace::All {
                    holds: parts.iter().all(Trace::holds),
                    parts,
                }
            }
            Condition::Any(parts) => {
                let parts: Vec<Trace> = parts
                    .iter()
                    .map(|p| self.trace(p, row, values, memo))
                    .collect();
                Trace::Any {
                    holds: parts.iter().any(Trace::holds),
                    parts,
                }
            }
            Condition::Not(inner) => {
                let inner = self.trace(inner, row, values, memo);
                Trace::Not {
                    holds: !inner.holds(),
                    inner: Box::new(inner),
                }
            }
            Condition::Test(t) => {
                let cond = self.test(t);
                let holds = cond.eval(row, values, memo);
                // The value its typed slots read (a text test has none): what the cell was
                // read as by one that could (`in = [5, true]` reads a number and a yes/no),
                // else unreadable.
                let read: Vec<Value> = slots_of(&cond)
                    .filter_map(|s| values.get(s).copied())
                    .collect();
                let value = (read.iter().copied())
                    .find(|v| *v != Value::Unreadable)
                    .or(read.first().copied());
                let read = self.read(&t.field.name, row, value);
                Trace::Test {
                    holds,
                    test: t.to_string(),
                    read,
                }
            }
        }
    }
}

/// The typed slots a compiled condition reads.
fn slots_of(c: &Cond) -> Box<dyn Iterator<Item = usize> + '_> {
    match c {
        Cond::All(cs) | Cond::Any(cs) => Box::new(cs.iter().flat_map(slots_of)),
        Cond::Not(c) => slots_of(c),
        Cond::Text(_) => Box::new(std::iter::empty()),
        Cond::Typed { slot, .. } => Box::new(std::iter::once(*slot)),
    }
}
