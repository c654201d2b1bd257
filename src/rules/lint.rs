//! What is legal in rules.toml but almost certainly not what the author meant: a tier no
//! contact can reach, a rule that can never match, a cap smaller than one rule's points, a
//! route to a queue nothing else mentions (a typo?), a queue in `[queues]` or `overflow_queue`
//! spelt like another, a route only for tiers no contact can reach, two rules with the same
//! condition.

use super::diag::{Diagnostic, did_you_mean};
use super::model::*;

/// Every lint finding, in file order. `complete`: the file had no errors. When it had some,
/// `rules` holds only the items that were valid: a tier out of reach is reported as out of
/// reach of those, and what hangs on every item being there (a queue or a field nothing else
/// mentions, a route for tiers out of reach) is not reported, as it could be the broken
/// item that mentions it.
pub fn lint(rules: &Rules, complete: bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    unreachable_tiers(rules, complete, &mut out);
    never_matching(rules, &mut out);
    caps_below_points(rules, &mut out);
    fading_penalties(rules, &mut out);
    points_per_non_numbers(rules, &mut out);
    identical_conditions(rules, &mut out);
    if complete {
        misspelt_queues(rules, &mut out);
        hot_outside_the_balance(rules, &mut out);
        reps_below_the_balance(rules, &mut out);
        former_owners(rules, &mut out);
        suppression_that_leaks(rules, &mut out);
        lonely_route_queues(rules, &mut out);
        routes_for_unreachable_tiers(rules, &mut out);
        unused_fields(rules, &mut out);
    }
    out.sort_by_key(|d| (d.span.start, d.span.end));
    out
}

/// The most (and least) a rule can add: `points`, or `points_per` up to its `max`.
fn range(rule: &Rule) -> (f64, f64) {
    match &rule.points {
        None => (0.0, 0.0),
        Some(Points::Fixed(p)) => (p.min(0.0), p.max(0.0)),
        Some(Points::Per { points, max, .. }) => {
            let m = max.unwrap_or(MAX_POINTS);
            if *points >= 0.0 { (0.0, m) } else { (-m, 0.0) }
        }
    }
}

/// The highest and lowest score and subtotals the rules allow.
struct Bounds {
    score: (f64, f64),
    groups: Vec<(f64, f64)>,
}

fn bounds(rules: &Rules) -> Bounds {
    let mut groups = vec![(0.0, 0.0); rules.groups.len()];
    let mut ungrouped = (0.0, 0.0);
    for rule in &rules.rules {
        let (lo, hi) = range(rule);
        let slot = match rule.group {
            Some(g) => &mut groups[g],
            None => &mut ungrouped,
        };
        slot.0 += lo;
        slot.1 += hi;
    }
    for (g, group) in rules.groups.iter().enumerate() {
        groups[g] = (group.clamp(groups[g].0), group.clamp(groups[g].1));
    }
    let score = groups
        .iter()
        .fold(ungrouped, |acc, g| (acc.0 + g.0, acc.1 + g.1));
    Bounds { score, groups }
}

fn unreachable_tiers(rules: &Rules, complete: bool, out: &mut Vec<Diagnostic>) {
    let b = bounds(rules);
    let num = crate::engine::fmt_number;
    let these = if complete {
        "these rules"
    } else {
        "the rules without errors"
    };
    let tiers = [
        ("warm", Some(&rules.tiers.warm)),
        ("hot", rules.tiers.hot.as_ref()),
    ];
    for (name, tier) in tiers {
        let Some(t) = tier else { continue };
        if t.score > b.score.1 {
            out.push(
                Diagnostic::warning(t.span.clone(), format!("no contact can be {name}"))
                    .label(format!("needs a score of {}", num(t.score)))
                    .help(format!(
                        "the highest score {these} can give is {} (every positive rule matching, after caps)",
                        num(b.score.1)
                    )),
            );
        }
        for &(g, need) in &t.groups {
            if need > b.groups[g].1 {
                out.push(
                    Diagnostic::warning(t.span.clone(), format!("no contact can be {name}"))
                        .label(format!("needs {} {}", rules.groups[g].name, num(need)))
                        .help(format!(
                            "the most group `{}` can reach is {}",
                            rules.groups[g].name,
                            num(b.groups[g].1)
                        )),
                );
            }
        }
        if name == "warm" && t.groups.is_empty() && t.score <= b.score.0 {
            out.push(
                Diagnostic::warning(t.span.clone(), "every contact is warm")
                    .label(format!("needs a score of {}", num(t.score)))
                    .help(format!(
                        "the lowest score {these} can give is {}",
                        num(b.score.0)
                    )),
            );
        }
    }
}

/// Whether some contact can be of `tier`, as far as the points and caps tell (`bounds`).
fn reachable(rules: &Rules, b: &Bounds, tier: Tier) -> bool {
    let t = &rules.tiers;
    let within = |need: &TierRule| {
        need.score <= b.score.1 && need.groups.iter().all(|&(g, n)| n <= b.groups[g].1)
    };
    match tier {
        Tier::Hot => t.hot.as_ref().is_some_and(within),
        Tier::Warm => within(&t.warm),
        // Below warm: not when the lowest score is warm and warm needs nothing else.
        Tier::Cold => !(t.warm.groups.is_empty() && t.warm.score <= b.score.0),
        Tier::Disqualified => false,
    }
}

/// A route only for tiers no contact can reach never applies.
fn routes_for_unreachable_tiers(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let b = bounds(rules);
    let every = [Tier::Hot, Tier::Warm, Tier::Cold]
        .into_iter()
        .filter(|&t| t != Tier::Hot || rules.tiers.hot.is_some())
        .count();
    for route in &rules.routes {
        let Some(tiers) = &route.tiers else { continue };
        if tiers.len() == every {
            out.push(
                Diagnostic::note(
                    route
                        .tiers_span
                        .clone()
                        .unwrap_or_else(|| route.span.clone()),
                    format!("route \"{}\" lists every tier", route.name),
                )
                .label("`tiers` changes nothing here")
                .help("leave `tiers` out, or list only the tiers the route is for"),
            );
            continue;
        }
        if tiers.iter().any(|&t| reachable(rules, &b, t)) {
            continue;
        }
        let names: Vec<&str> = tiers.iter().map(|t| t.as_str()).collect();
        out.push(
            Diagnostic::warning(
                route.span.clone(),
                format!("route \"{}\" can never apply", route.name),
            )
            .label(format!("only for tier {}", names.join(" or ")))
            .help("no contact can be of these tiers with these rules' points and caps"),
        );
    }
}

fn never_matching(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let rules_tests = rules.rules.iter().filter_map(|r| {
        let when = r.when.as_ref()?;
        Some(("rule", r.name.as_str(), when))
    });
    let routes_tests = rules
        .routes
        .iter()
        .map(|r| ("route", r.name.as_str(), &r.when));
    for (kind, name, when) in rules_tests.chain(routes_tests) {
        for (span, why) in empty_ranges(when) {
            out.push(
                Diagnostic::warning(span, format!("{kind} \"{name}\" can never match here"))
                    .label(why),
            );
        }
        for t in when.tests() {
            if let Some(why) = cannot_match(rules, t) {
                out.push(
                    Diagnostic::warning(
                        t.span.clone(),
                        format!("{kind} \"{name}\" can never match here"),
                    )
                    .label(why),
                );
            }
            if let Some((label, help)) = odd_text(t) {
                out.push(
                    Diagnostic::warning(
                        t.span.clone(),
                        format!("{kind} \"{name}\" may not test what was meant"),
                    )
                    .label(label)
                    .help(help),
                );
            }
        }
    }
}

/// `points_per` on a field declared a date or yes/no: each cell is still read as a number, so
/// 20261125 gives twenty million points (capped at `max`), and a yes gives none.
fn points_per_non_numbers(rules: &Rules, out: &mut Vec<Diagnostic>) {
    for rule in &rules.rules {
        let Some(Points::Per { field, .. }) = &rule.points else {
            continue;
        };
        let Some(f) = rules
            .field(&field.name)
            .filter(|f| matches!(f.kind, FieldKind::Date | FieldKind::Bool))
        else {
            continue;
        };
        out.push(
            Diagnostic::warning(
                field.span.clone(),
                format!(
                    "rule \"{}\" gives points per a number its field does not hold",
                    rule.name
                ),
            )
            .label(format!(
                "`points_per` reads each cell as a number, but field `{}` is declared {}",
                f.name,
                FieldKind::NAMES[f.kind as usize]
            ))
            .help(
                "a date such as 20261125 would read as twenty million: give points per a number \
                 field, or test the date with within_days / older_than_days",
            ),
        );
    }
}

/// Number tests that must all hold on one field, and leave no number that can
/// (`at_least = 50, at_most = 10`): the span of the last, and why. Only the tests of one
/// `all` (or one table of operators) are put together, and only along the `all`s the whole
/// condition needs: an empty range under `any` or `not` does not make the rule never match.
fn empty_ranges(when: &Condition) -> Vec<(Span, String)> {
    let mut found = Vec::new();
    let mut visit = vec![when];
    while let Some(c) = visit.pop() {
        match c {
            Condition::All(cs) => {
                let tests: Vec<&Test> = cs
                    .iter()
                    .filter_map(|c| match c {
                        Condition::Test(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                let mut fields: Vec<&str> = tests.iter().map(|t| t.field.name.as_str()).collect();
                fields.sort_unstable();
                fields.dedup();
                for field in fields {
                    let on: Vec<&&Test> = tests.iter().filter(|t| t.field.name == field).collect();
                    // The lowest and highest a number can be, and whether each is allowed.
                    let (mut low, mut high) = ((f64::NEG_INFINITY, true), (f64::INFINITY, true));
                    for t in &on {
                        let (lo, hi) = match t.op {
                            Op::Gt(x) => ((x, false), (f64::INFINITY, true)),
                            Op::AtLeast(x) => ((x, true), (f64::INFINITY, true)),
                            Op::Lt(x) => ((f64::NEG_INFINITY, true), (x, false)),
                            Op::AtMost(x) => ((f64::NEG_INFINITY, true), (x, true)),
                            Op::Between(a, b) => ((a, true), (b, true)),
                            _ => continue,
                        };
                        if lo.0 > low.0 || (lo.0 == low.0 && !lo.1) {
                            low = lo;
                        }
                        if hi.0 < high.0 || (hi.0 == high.0 && !hi.1) {
                            high = hi;
                        }
                    }
                    let empty = low.0 > high.0 || (low.0 == high.0 && !(low.1 && high.1));
                    if let (true, Some(last)) = (empty, on.last()) {
                        let ops: Vec<String> = on
                            .iter()
                            .filter(|t| {
                                matches!(
                                    t.op,
                                    Op::Gt(_)
                                        | Op::AtLeast(_)
                                        | Op::Lt(_)
                                        | Op::AtMost(_)
                                        | Op::Between(..)
                                )
                            })
                            .map(|t| format!("`{}`", t.op))
                            .collect();
                        found.push((
                            last.span.clone(),
                            format!("{} leave no number for `{field}`", ops.join(" and ")),
                        ));
                    }
                }
                visit.extend(cs.iter());
            }
            Condition::Any(_) | Condition::Not(_) | Condition::Test(_) => {}
        }
    }
    found
}

/// Text in a test that is legal but almost surely a slip, with what to write instead.
fn odd_text(t: &Test) -> Option<(String, String)> {
    let key = t.op.key();
    match &t.op {
        Op::Matches(p) if p.is_empty() => Some((
            "`matches = \"\"` matches every cell that is not empty".into(),
            "write `present = true` if that is what you mean".into(),
        )),
        // In a double-quoted TOML string "\b" is a backspace, not a word boundary.
        Op::Matches(p) if p.contains('\u{8}') => Some((
            "the pattern holds a backspace character where `\\b` was probably meant".into(),
            "in double quotes TOML reads \"\\b\" as a backspace: write the pattern in single quotes, \
             matches = '\\bvp\\b', or double each backslash, \"\\\\bvp\\\\b\""
                .into(),
        )),
        Op::ContainsAny(list) | Op::DomainIn(list) if list.iter().any(|w| w.trim().is_empty()) => {
            Some((
                format!("an entry of `{key}` is empty and matches nothing"),
                "remove the empty entry".into(),
            ))
        }
        Op::DomainIn(list) if list.iter().any(|d| d.trim().contains(['@', '*', '/', ':', ' '])) => Some((
            "`domain_in` compares the part after the @ as a whole, so an entry with an @, a \
             *, a / or a : (an address, a pattern, a web address) matches nothing"
                .into(),
            "write the domain alone: domain_in = [\"gmail.com\"] (ends_with = \".gmail.com\" \
             also takes its subdomains)"
                .into(),
        )),
        Op::DomainIn(list) if list.iter().any(|d| !d.contains('.')) => Some((
            "an entry of `domain_in` has no dot, so it matches only an address ending @ that \
             word"
                .into(),
            "write the whole domain, as \"gmail.com\" (ends_with = \".gmail.com\" also takes \
             its subdomains)"
                .into(),
        )),
        _ => None,
    }
}

/// Why a test cannot hold for the cells its field declares, if it cannot.
fn cannot_match(rules: &Rules, t: &Test) -> Option<String> {
    let declared = rules.field(&t.field.name).map(|f| f.kind);
    let op = t.op.key();
    let (needs, kind) = match &t.op {
        Op::In(v) if v.is_empty() => {
            return Some("`in = []` matches no cell".into());
        }
        Op::ContainsAny(v) if v.is_empty() => {
            return Some("`contains_any = []` matches no cell".into());
        }
        Op::DomainIn(v) if v.is_empty() => {
            return Some("`domain_in = []` matches no cell".into());
        }
        Op::Gt(_) | Op::AtLeast(_) | Op::Lt(_) | Op::AtMost(_) | Op::Between(..) => {
            ("a number", FieldKind::Number)
        }
        Op::WithinDays(_)
        | Op::OlderThanDays(_)
        | Op::Before(_)
        | Op::After(_)
        | Op::DateBetween(..) => ("a date", FieldKind::Date),
        Op::Is(_) => ("true or false", FieldKind::Bool),
        _ => return None,
    };
    match declared {
        Some(k) if k != kind && k != FieldKind::Text => {
            let declared = FieldKind::NAMES[k as usize];
            let mut why = format!(
                "`{op}` reads {needs}, but field `{}` is declared {declared}",
                t.field.name
            );
            // 0 and 1 read as numbers and as yes/no, and an empty cell is false: a cell not
            // written as the type declares can still match. Say which.
            match (k, kind) {
                (FieldKind::Number, FieldKind::Bool) => why.push_str(
                    " (only cells 0 and 1, and empty ones for `is = false`, would match)",
                ),
                (FieldKind::Bool, FieldKind::Number) => {
                    why.push_str(" (only cells written as numbers, such as 1 and 0, would match)")
                }
                _ => {}
            }
            Some(why)
        }
        _ => None,
    }
}

/// A rule that takes points away in a group that decays: its penalty fades as the date
/// ages, so "Gone quiet -20" would fade away the quieter a contact goes. A rule's own
/// `decay` is taken as meant.
fn fading_penalties(rules: &Rules, out: &mut Vec<Diagnostic>) {
    for rule in &rules.rules {
        let Some(g) = rule
            .group
            .filter(|_| rule.decay.is_none() && !rule.no_decay)
        else {
            continue;
        };
        let group = &rules.groups[g];
        if group.decay.is_none() || range(rule).0 >= 0.0 {
            continue;
        }
        out.push(
            Diagnostic::warning(
                rule.span.clone(),
                format!(
                    "rule \"{}\" takes points away, and group `{}` makes them fade",
                    rule.name, group.name
                ),
            )
            .label("a penalty that shrinks as its date gets older")
            .help(format!(
                "add `decay = false` to the rule to keep its points whole, or move it out of \
                 group `{}`",
                group.name
            )),
        );
    }
}

fn caps_below_points(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let num = crate::engine::fmt_number;
    // A floor above 0 is points for everyone: the subtotal of a contact no rule of the group
    // matches is 0, floored up to it.
    for group in &rules.groups {
        if let Some(min) = group.min.filter(|m| *m > 0.0) {
            out.push(
                Diagnostic::warning(
                    group.span.clone(),
                    format!(
                        "group `{}` gives every contact at least {} points",
                        group.name,
                        num(min)
                    ),
                )
                .label(format!("min = {} is above 0", num(min)))
                .help(
                    "a floor stops penalties at a level: a contact no rule of the group matches \
                     has 0, floored up to the min; write min = 0 (or a negative floor)",
                ),
            );
        }
    }
    for rule in &rules.rules {
        let Some(g) = rule.group else { continue };
        let group = &rules.groups[g];
        let (lo, hi) = range(rule);
        if let Some(max) = group.max
            && hi > max
        {
            out.push(
                Diagnostic::warning(
                    rule.span.clone(),
                    format!("rule \"{}\" can give more than its group allows", rule.name),
                )
                .label(format!("up to {} points", num(hi)))
                .help(format!(
                    "group `{}` is capped at {}, so the rest never counts",
                    group.name,
                    num(max)
                )),
            );
        }
        if let Some(min) = group.min
            && lo < min.min(0.0)
        {
            out.push(
                Diagnostic::warning(
                    rule.span.clone(),
                    format!("rule \"{}\" can take more than its group allows", rule.name),
                )
                .label(format!("down to {} points", num(lo)))
                .help(format!("group `{}` is floored at {}", group.name, num(min))),
            );
        }
    }
}

/// Hot contacts sent to a queue of their own when a capacity or reps hold sales: the balance
/// covers the warm tier's queue only, so the hottest leads get no rep and no place in the
/// capacity (HubSpot's SQL and MQL as two queues). A note, not a warning: it may be meant
/// (account executives take the hot ones by hand), and CI should not fail on it.
fn hot_outside_the_balance(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let q = &rules.queues;
    if rules.tiers.hot.is_none() || q.hot == q.warm || !rules.holds_sales() {
        return;
    }
    let Some((_, span)) = q.spans.iter().find(|(tier, _)| *tier == "hot") else {
        return;
    };
    let what = match (
        rules
            .balance
            .as_ref()
            .and_then(|b| b.sales_capacity)
            .is_some(),
        rules.reps.is_empty(),
    ) {
        (true, false) => "sales_capacity and the [[rep]]s do",
        (true, true) => "sales_capacity does",
        (false, _) => "the [[rep]]s do",
    };
    out.push(
        Diagnostic::note(
            span.clone(),
            format!("hot contacts go to `{}`, which {what} not cover", q.hot),
        )
        .label(format!("not the warm tier's queue, `{}`", q.warm))
        .help(format!(
            "the balance applies to the warm tier's queue only: hot contacts in `{}` get no \
             owner and count against no capacity; send both tiers to one queue, or leave hot \
             out of [queues]",
            q.hot
        )),
    );
}

/// Reps whose capacities add up to less than `min_sales`: sales can never get that many, so
/// every run warns (a warning, as `min_sales` above `sales_capacity` is an error); or less than
/// `sales_capacity`: the reps, not the capacity, set how many go to sales (a note).
fn reps_below_the_balance(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let Some(balance) = rules.balance.as_ref().filter(|_| !rules.reps.is_empty()) else {
        return;
    };
    let reps: u64 = rules.reps.iter().map(|r| r.capacity).sum();
    let help = format!(
        "the [[rep]]s take at most {} a run together; raise their capacities, or add a rep",
        crate::ui::plural(reps, "contact")
    );
    if let Some(min) = balance.min_sales.filter(|&min| min > reps) {
        out.push(
            Diagnostic::warning(
                balance.span.clone(),
                format!("min_sales = {min}, but the reps can take {reps} together"),
            )
            .label("every run will warn that sales gets too few")
            .help(help),
        );
    } else if let Some(cap) = balance.sales_capacity.filter(|&cap| cap > reps) {
        out.push(
            Diagnostic::note(
                balance.span.clone(),
                format!("sales_capacity = {cap}, but the reps can take {reps} together"),
            )
            .label("the reps, not sales_capacity, set how many go to sales")
            .help(help),
        );
    }
}

/// Where a contact who must not be contacted can still be: the disqualified tier's queue
/// set to one a tier sends contacts to (`disqualified = "sales"`), or a disqualifying rule
/// on an optional field (an export without the column disqualifies nobody, with only a
/// run-time warning that `-q` silences).
fn suppression_that_leaks(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let q = &rules.queues;
    let contactable = [
        rules.tiers.hot.is_some().then_some(&q.hot),
        Some(&q.warm),
        Some(&q.cold),
    ];
    if contactable.contains(&Some(&q.disqualified))
        && let Some((_, span)) = q.spans.iter().find(|(tier, _)| *tier == "disqualified")
    {
        out.push(
            Diagnostic::warning(
                span.clone(),
                format!(
                    "disqualified contacts go to `{}`, with contacts who may be contacted",
                    q.disqualified
                ),
            )
            .label("a queue a tier also goes to")
            .help("give the disqualified their own queue (the default is `suppressed`)"),
        );
    }
    for rule in rules.rules.iter().filter(|r| r.disqualify) {
        let tests = rule.when.as_ref().map(|w| w.tests()).unwrap_or_default();
        for t in tests {
            let Some(f) = rules.field(&t.field.name).filter(|f| f.optional) else {
                continue;
            };
            out.push(
                Diagnostic::warning(
                    t.field.span.clone(),
                    format!(
                        "the disqualifying rule \"{}\" reads `{}`, an optional field",
                        rule.name, f.name
                    ),
                )
                .label("an export without the column disqualifies nobody")
                .help("drop `optional = true`: a missing opt-out column should stop the run"),
            );
        }
    }
}

/// `former_owners` that can do nothing: without `owner` no contact has an owner to match,
/// and a name that is still a `[[rep]]`'s is matched as that rep (its contacts are not
/// unowned).
fn former_owners(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let Some(b) = rules
        .balance
        .as_ref()
        .filter(|b| !b.former_owners.is_empty())
    else {
        return;
    };
    if b.owner.is_none() {
        out.push(
            Diagnostic::warning(
                b.span.clone(),
                "`former_owners` without `owner` matches nothing",
            )
            .label("no column says who owns a contact")
            .help("name the owner column with `owner = \"...\"` under [balance]"),
        );
    }
    for name in &b.former_owners {
        if crate::balance::rep_named(rules, name).is_some() {
            out.push(
                Diagnostic::warning(
                    b.span.clone(),
                    format!("\"{name}\" is under `former_owners` and is a [[rep]]"),
                )
                .label("the rep is matched first: their contacts stay theirs")
                .help("remove the name from one of them"),
            );
        }
    }
}

/// A queue that `[queues]` or `overflow_queue` names once, nothing else names, and that is
/// spelt much like another (`markting`): a new queue, and a new file, by a slip.
fn misspelt_queues(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let q = &rules.queues;
    let overflow = (rules.balance.as_ref())
        .and_then(|b| Some((b.overflow_queue.as_deref()?, b.overflow_span.clone()?)));
    let named: Vec<(&str, &Span)> = (q.spans.iter())
        .map(|(tier, span)| {
            let name = match *tier {
                "hot" => &q.hot,
                "warm" => &q.warm,
                "cold" => &q.cold,
                _ => &q.disqualified,
            };
            (name.as_str(), span)
        })
        .chain(overflow.as_ref().map(|(name, span)| (*name, span)))
        .collect();
    let defaults = TierQueues::default();
    let mentions: Vec<&str> = [&q.hot, &q.warm, &q.cold, &q.disqualified]
        .into_iter()
        .map(String::as_str)
        .chain(rules.routes.iter().map(|r| r.queue.as_str()))
        .chain(overflow.as_ref().map(|(name, _)| *name))
        .collect();
    let known: Vec<&str> = [&defaults.warm, &defaults.cold, &defaults.disqualified]
        .into_iter()
        .map(String::as_str)
        .chain(mentions.iter().copied())
        .collect();
    for (name, span) in named {
        if known.iter().filter(|k| **k == name).count() > 1 {
            continue; // a default's name, or named twice: meant
        }
        if name.chars().count() < 4 {
            continue; // an abbreviation, chosen: `sql` and `mql`, `sdr` and `bdr`
        }
        let others = known.iter().copied().filter(|k| *k != name);
        if let Some(similar) = did_you_mean(name, others) {
            out.push(
                Diagnostic::warning(
                    span.clone(),
                    format!("queue `{name}` is named only here, and is spelt much like `{similar}`"),
                )
                .label("a queue of its own")
                .help(format!(
                    "did you mean `{similar}`? A new name makes a new queue (and, with --split, a new file)"
                )),
            );
        }
    }
}

fn lonely_route_queues(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let q = &rules.queues;
    let mut tier_queues = vec![q.warm.as_str(), q.cold.as_str(), q.disqualified.as_str()];
    if rules.tiers.hot.is_some() {
        tier_queues.push(q.hot.as_str());
    }
    for (i, route) in rules.routes.iter().enumerate() {
        let elsewhere = tier_queues.contains(&route.queue.as_str())
            || rules
                .routes
                .iter()
                .enumerate()
                .any(|(j, r)| j != i && r.queue == route.queue);
        if elsewhere {
            continue;
        }
        let others: Vec<&str> = tier_queues
            .iter()
            .copied()
            .chain(rules.routes.iter().map(|r| r.queue.as_str()))
            .filter(|n| *n != route.queue)
            .collect();
        match did_you_mean(&route.queue, others) {
            Some(similar) => out.push(
                Diagnostic::warning(
                    route.span.clone(),
                    format!(
                        "route \"{}\" sends contacts to `{}`, which nothing else mentions",
                        route.name, route.queue
                    ),
                )
                .label("a queue of its own")
                .help(format!("did you mean `{similar}`?")),
            ),
            None => out.push(
                Diagnostic::note(
                    route.span.clone(),
                    format!(
                        "queue `{}` is used only by route \"{}\"",
                        route.queue, route.name
                    ),
                )
                .label("a queue of its own")
                .help(format!(
                    "contacts routed here get their own file, {}.csv, with --split",
                    route.queue
                )),
            ),
        }
    }
}

fn identical_conditions(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(String, &Rule)> = Vec::new();
    for rule in &rules.rules {
        let Some(when) = &rule.when else { continue };
        let text = when.to_string();
        if let Some((_, first)) = seen.iter().find(|(t, _)| *t == text) {
            let (line, _) = rules.source.line_col(first.span.start);
            out.push(
                Diagnostic::warning(
                    rule.span.clone(),
                    format!(
                        "rules \"{}\" and \"{}\" have the same condition",
                        first.name, rule.name
                    ),
                )
                .label("same `when` as a rule above")
                .help(format!(
                    "\"{}\" is at line {line}; merge them into one rule, or make them differ",
                    first.name
                )),
            );
        } else {
            seen.push((text, rule));
        }
    }
}

fn unused_fields(rules: &Rules, out: &mut Vec<Diagnostic>) {
    let used: Vec<&str> = rules
        .field_refs()
        .into_iter()
        .map(|r| r.name.as_str())
        .chain(rules.input.id.iter().map(|r| r.name.as_str()))
        .collect();
    // `[balance] owner` may name the header rather than the field that reads it.
    let owner = rules.balance.as_ref().and_then(|b| b.owner.as_ref());
    let owner_reads = |f: &crate::rules::Field| {
        owner.is_some_and(|o| f.columns.iter().any(|c| c.eq_ignore_ascii_case(&o.name)))
    };
    for f in &rules.fields {
        if !used.contains(&f.name.as_str()) && !owner_reads(f) {
            out.push(
                Diagnostic::note(
                    f.span.clone(),
                    format!("field `{}` is not used by any rule or route", f.name),
                )
                .label("unused"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::rules::Severity;

    fn findings(body: &str) -> Vec<(Severity, String, String)> {
        let text = format!("version = 1\n{body}");
        let rules =
            crate::rules::from_str(Path::new("t.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
        lint(&rules, true)
            .into_iter()
            .map(|d| {
                let (line, col) = rules.source.line_col(d.span.start);
                (
                    d.severity,
                    format!("{line}:{col} {}", d.message),
                    d.help.unwrap_or_default(),
                )
            })
            .collect()
    }

    fn warnings(body: &str) -> Vec<String> {
        findings(body)
            .into_iter()
            .filter(|(s, _, _)| *s == Severity::Warning)
            .map(|(_, m, _)| m)
            .collect()
    }

    #[test]
    fn addresses_patterns_and_web_addresses_in_domain_in_are_warned_about() {
        for entry in ["bob@aol.com", "*.gmx.de", "https://web.de"] {
            let body = format!(
                "[tiers]\nwarm = 1\n[[rule]]\nname = \"F\"\n\
                 when = {{ field = \"email\", domain_in = [\"{entry}\"] }}\npoints = 2\n"
            );
            assert_eq!(warnings(&body).len(), 1, "{entry}");
        }
    }

    #[test]
    fn points_per_a_date_and_domains_with_an_at_are_warned_about() {
        let body = "[fields]\nlast = { column = \"Last\", type = \"date\" }\n[tiers]\nwarm = 2\n\
                    [[rule]]\nname = \"A\"\npoints_per = { field = \"last\", points = 1, max = 5 }\n\
                    [[rule]]\nname = \"B\"\nwhen = { field = \"email\", domain_in = [\"@gmail.com\"] }\npoints = -1\n\
                    [[rule]]\nname = \"C\"\nwhen = { field = \"email\", domain_in = [\"gmail\"] }\npoints = -1\n\
                    [[rule]]\nname = \"D\"\nwhen = { field = \"email\", domain_in = [\" gmail.com \"] }\npoints = -1\n";
        let found = warnings(body);
        assert_eq!(
            found,
            [
                "8:24 rule \"A\" gives points per a number its field does not hold",
                "11:27 rule \"B\" may not test what was meant",
                "15:27 rule \"C\" may not test what was meant",
            ]
        );
    }

    #[test]
    fn a_clean_file_has_no_warnings() {
        assert!(warnings("[tiers]\nwarm = 20\n[[rule]]\nname = \"A\"\nwhen = { field = \"x\", equals = \"y\" }\npoints = 30\n").is_empty());
    }

    #[test]
    fn unreachable_tiers_use_caps_and_per_maxima() {
        let body = "[groups]\nfit = { max = 30 }\n[tiers]\nwarm = 50\nhot = { score = 60, fit = 40 }\n\
                    [[rule]]\nname = \"A\"\ngroup = \"fit\"\npoints = 45\n\
                    [[rule]]\nname = \"B\"\npoints_per = { field = \"v\", points = 1, max = 15 }\n";
        let found = findings(body);
        let hot: Vec<_> = found
            .iter()
            .filter(|f| f.1.contains("no contact can be hot"))
            .collect();
        assert_eq!(hot.len(), 2, "score 60 > 45 and fit 40 > 30: {found:?}");
        assert!(
            found
                .iter()
                .any(|f| f.1.starts_with("5:8 no contact can be warm") && f.2.contains("is 45")),
            "{found:?}"
        );
    }

    #[test]
    fn an_unbounded_points_per_makes_every_tier_reachable() {
        let body = "[tiers]\nwarm = 500\n[[rule]]\nname = \"B\"\npoints_per = { field = \"v\", points = 1 }\n";
        assert!(warnings(body).is_empty());
    }

    #[test]
    fn a_route_only_for_tiers_no_contact_reaches() {
        let rules = "[tiers]\nwarm = 10\nhot = 100\n[[rule]]\nname = \"A\"\nwhen = { field = \"x\", present = true }\npoints = 20\n";
        let route = |tiers: &str| {
            format!(
                "{rules}[[route]]\nname = \"R\"\nwhen = {{ field = \"x\", present = true }}\ntiers = {tiers}\nqueue = \"marketing\"\n"
            )
        };
        let never = |tiers: &str| {
            warnings(&route(tiers))
                .iter()
                .any(|w| w.ends_with("route \"R\" can never apply"))
        };
        assert!(never("[\"hot\"]"), "the score is at most 20");
        assert!(!never("[\"hot\", \"warm\"]"));
        assert!(!never("[\"cold\"]"));
        let everyone_warm = route("[\"cold\"]").replace("warm = 10", "warm = 0");
        assert!(
            warnings(&everyone_warm)
                .iter()
                .any(|w| w.ends_with("can never apply"))
        );
    }

    #[test]
    fn a_route_for_every_tier_is_noted() {
        let route = |tiers: &str, hot: &str| {
            format!(
                "[tiers]\nwarm = 10\n{hot}[[rule]]\nname = \"A\"\nwhen = {{ field = \"x\", present = true }}\npoints = 20\n\
                 [[route]]\nname = \"R\"\nwhen = {{ field = \"x\", present = true }}\ntiers = {tiers}\nqueue = \"marketing\"\n"
            )
        };
        let noted = |body: String| {
            findings(&body).iter().any(|(s, m, _)| {
                *s == Severity::Note && m.ends_with("route \"R\" lists every tier")
            })
        };
        assert!(noted(route("[\"cold\", \"warm\"]", "")));
        // Underlined where `tiers` is written: line 11, its list at column 9.
        let at: Vec<String> = findings(&route("[\"cold\", \"warm\"]", ""))
            .into_iter()
            .filter(|(s, _, _)| *s == Severity::Note)
            .map(|(_, m, _)| m)
            .collect();
        assert_eq!(at, ["11:9 route \"R\" lists every tier"]);
        assert!(noted(route("[\"cold\", \"warm\", \"hot\"]", "hot = 15\n")));
        assert!(!noted(route("[\"cold\", \"warm\"]", "hot = 15\n")));
        assert!(!noted(route("[\"warm\"]", "")));
    }

    #[test]
    fn everyone_warm() {
        let body = "[tiers]\nwarm = 0\n[[rule]]\nname = \"A\"\nwhen = { field = \"x\", present = true }\npoints = 5\n";
        assert_eq!(warnings(body), ["3:8 every contact is warm"]);
    }

    #[test]
    fn operators_that_cannot_match_the_declared_type_or_an_empty_list() {
        let body = "[fields]\ndemo = { column = \"Demo\", type = \"bool\" }\nn = { column = \"N\", type = \"number\" }\n\
                    [tiers]\nwarm = 1\n\
                    [[rule]]\nname = \"A\"\nwhen = { field = \"demo\", at_least = 1 }\npoints = 1\n\
                    [[rule]]\nname = \"B\"\nwhen = { field = \"n\", within_days = 3 }\npoints = 1\n\
                    [[rule]]\nname = \"C\"\nwhen = { field = \"x\", in = [] }\npoints = 1\n\
                    [[rule]]\nname = \"D\"\nwhen = { field = \"n\", is = true }\npoints = 1\n";
        assert_eq!(
            warnings(body),
            [
                "9:26 rule \"A\" can never match here",
                "13:23 rule \"B\" can never match here",
                "17:23 rule \"C\" can never match here",
                "21:23 rule \"D\" can never match here",
            ]
        );
    }

    #[test]
    fn a_penalty_in_a_decaying_group_fades() {
        let body = "[groups]\neng = { decay = { field = \"seen\", half_life_days = 30 } }\n\
                    [tiers]\nwarm = 1\n\
                    [[rule]]\nname = \"Quiet\"\ngroup = \"eng\"\nwhen = { field = \"x\", present = false }\npoints = -5\n\
                    [[rule]]\nname = \"Kept\"\ngroup = \"eng\"\nwhen = { field = \"y\", present = false }\npoints = -5\ndecay = false\n\
                    [[rule]]\nname = \"Own\"\ngroup = \"eng\"\nwhen = { field = \"z\", present = false }\npoints = -5\n\
                    decay = { field = \"seen\", half_life_days = 9 }\n\
                    [[rule]]\nname = \"Demo\"\ngroup = \"eng\"\nwhen = { field = \"d\", present = true }\npoints = 5\n";
        let fading: Vec<String> = warnings(body)
            .into_iter()
            .filter(|w| w.contains("takes points away"))
            .collect();
        assert_eq!(
            fading,
            ["6:1 rule \"Quiet\" takes points away, and group `eng` makes them fade"]
        );
    }

    #[test]
    fn number_tests_on_one_field_that_leave_no_number() {
        let body = "[tiers]\nwarm = 1\n\
                    [[rule]]\nname = \"A\"\nwhen = { field = \"n\", at_least = 50, at_most = 10 }\npoints = 1\n\
                    [[rule]]\nname = \"B\"\nwhen = { field = \"n\", gt = 10, at_most = 10 }\npoints = 1\n\
                    [[rule]]\nname = \"C\"\nwhen = { field = \"n\", at_least = 10, at_most = 10 }\npoints = 1\n\
                    [[rule]]\nname = \"D\"\nwhen = { any = [{ field = \"n\", gt = 5 }, { field = \"n\", lt = 3 }] }\npoints = 1\n\
                    [[rule]]\nname = \"F\"\nwhen = { not = { field = \"n\", at_least = 50, at_most = 10 } }\npoints = 1\n\
                    [[rule]]\nname = \"G\"\nwhen = { any = [{ field = \"n\", gt = 5, lt = 3 }, { field = \"m\", gt = 1 }] }\npoints = 1\n\
                    [[route]]\nname = \"E\"\nwhen = { all = [{ field = \"n\", gt = 5 }, { field = \"m\", lt = 1 }, \
                    { field = \"n\", between = [1, 5] }] }\nqueue = \"sales\"\n";
        let never: Vec<String> = warnings(body)
            .into_iter()
            .filter(|w| w.contains("can never match"))
            .collect();
        assert_eq!(
            never,
            [
                "6:38 rule \"A\" can never match here",
                "10:32 rule \"B\" can never match here",
                "30:82 route \"E\" can never match here",
            ]
        );
    }

    #[test]
    fn slips_in_text_tests() {
        let body = "[tiers]\nwarm = 1\n\
                    [[rule]]\nname = \"A\"\nwhen = { field = \"x\", matches = \"\" }\npoints = 1\n\
                    [[rule]]\nname = \"B\"\nwhen = { field = \"x\", matches = \"\\b(vp)\\b\" }\npoints = 1\n\
                    [[rule]]\nname = \"C\"\nwhen = { field = \"x\", contains_any = [\"vp\", \" \"] }\npoints = 1\n\
                    [[rule]]\nname = \"D\"\nwhen = { field = \"x\", domain_in = [\"\"] }\npoints = 1\n\
                    [[route]]\nname = \"E\"\nwhen = { field = \"x\", matches = '\\b(vp)\\b' }\nqueue = \"sales\"\n";
        let found = findings(body);
        let odd: Vec<&str> = found
            .iter()
            .filter(|(_, m, _)| m.ends_with("may not test what was meant"))
            .map(|(_, m, _)| m.as_str())
            .collect();
        assert_eq!(
            odd,
            [
                "6:23 rule \"A\" may not test what was meant",
                "10:23 rule \"B\" may not test what was meant",
                "14:23 rule \"C\" may not test what was meant",
                "18:23 rule \"D\" may not test what was meant",
            ],
            "{found:?}"
        );
        let helps: Vec<&str> = found.iter().map(|(_, _, h)| h.as_str()).collect();
        assert!(helps.contains(&"write `present = true` if that is what you mean"));
        assert!(helps.iter().any(|h| h.contains("single quotes")));
    }

    #[test]
    fn a_number_operator_on_a_bool_field_says_which_cells_would_still_match() {
        let text = "version = 1\n[fields]\ndemo = { column = \"Demo\", type = \"bool\" }\n\
                    n = { column = \"N\", type = \"number\" }\n[tiers]\nwarm = 1\n\
                    [[rule]]\nname = \"A\"\nwhen = { field = \"demo\", at_least = 1 }\npoints = 1\n\
                    [[rule]]\nname = \"B\"\nwhen = { field = \"n\", is = false }\npoints = 1\n";
        let rules = crate::rules::from_str(Path::new("t.toml"), text).unwrap();
        let why = |r: usize| cannot_match(&rules, rules.rules[r].when.as_ref().unwrap().tests()[0]);
        assert!(
            why(0)
                .unwrap()
                .contains("only cells written as numbers, such as 1 and 0")
        );
        assert!(
            why(1)
                .unwrap()
                .contains("only cells 0 and 1, and empty ones for `is = false`")
        );
    }

    #[test]
    fn a_floor_above_zero_is_points_for_everyone_not_a_rule_taking_too_much() {
        let body = "[groups]\nfit = { max = 50, min = 10 }\n[tiers]\nwarm = 15\n\
                    [[rule]]\nname = \"Big\"\ngroup = \"fit\"\npoints = 20\n";
        assert_eq!(
            warnings(body),
            ["3:1 group `fit` gives every contact at least 10 points"]
        );
    }

    #[test]
    fn a_hot_queue_of_its_own_is_outside_the_balance() {
        let body = "[tiers]\nwarm = 10\nhot = 20\n[queues]\nhot = \"sql\"\nwarm = \"mql\"\n\
                    [balance]\nsales_capacity = 5\n\
                    [[rule]]\nname = \"A\"\nwhen = { field = \"x\", present = true }\npoints = 30\n";
        let notes = |body: &str| -> Vec<String> {
            findings(body)
                .into_iter()
                .filter(|(s, _, _)| *s == Severity::Note)
                .map(|(_, m, _)| m)
                .collect()
        };
        assert_eq!(
            notes(body),
            ["6:7 hot contacts go to `sql`, which sales_capacity does not cover"]
        );
        assert!(warnings(body).is_empty(), "a note: CI does not fail on it");
        // One queue for both: nothing to say.
        let body = body.replace("hot = \"sql\"\n", "");
        assert!(notes(&body).is_empty(), "{:?}", notes(&body));
    }

    #[test]
    fn reps_that_cannot_take_what_the_balance_asks() {
        let body = |balance: &str| {
            format!(
                "[tiers]\nwarm = 10\n[[rule]]\nname = \"A\"\nwhen = {{ field = \"x\", present = true }}\n\
                 points = 30\n[balance]\n{balance}\n[[rep]]\nname = \"Ann\"\ncapacity = 4\n\
                 [[rep]]\nname = \"Bo\"\ncapacity = 6\n"
            )
        };
        let all = |b: &str| -> Vec<(Severity, String)> {
            findings(&body(b))
                .into_iter()
                .map(|(s, m, _)| (s, m))
                .collect()
        };
        assert_eq!(
            all("sales_capacity = 60\nmin_sales = 20"),
            [(
                Severity::Warning,
                "8:1 min_sales = 20, but the reps can take 10 together".to_string()
            )]
        );
        assert_eq!(
            all("sales_capacity = 60"),
            [(
                Severity::Note,
                "8:1 sales_capacity = 60, but the reps can take 10 together".to_string()
            )]
        );
        assert!(all("sales_capacity = 10\nmin_sales = 10").is_empty());
    }

    #[test]
    fn suppression_that_leaks_into_a_contactable_queue() {
        let base = "[tiers]\nwarm = 10\n[[rule]]\nname = \"Opted out\"\n\
                    when = { field = \"u\", is = true }\ndisqualify = true\n\
                    [[rule]]\nname = \"A\"\nwhen = { field = \"x\", present = true }\npoints = 30\n";
        assert_eq!(
            warnings(&format!("{base}[queues]\ndisqualified = \"marketing\"\n")),
            ["13:16 disqualified contacts go to `marketing`, with contacts who may be contacted"]
        );
        assert!(warnings(&format!("{base}[queues]\ndisqualified = \"dnc\"\n")).is_empty());
        assert_eq!(
            warnings(&format!(
                "[fields]\nu = {{ column = \"U\", optional = true }}\n{base}"
            )),
            ["8:18 the disqualifying rule \"Opted out\" reads `u`, an optional field"]
        );
    }

    #[test]
    fn former_owners_that_do_nothing() {
        let body = |balance: &str| {
            format!(
                "[tiers]\nwarm = 10\n[[rule]]\nname = \"A\"\nwhen = {{ field = \"x\", present = true }}\n\
                 points = 30\n[balance]\n{balance}\n[[rep]]\nname = \"Ann\"\ncapacity = 4\n"
            )
        };
        assert_eq!(
            warnings(&body("former_owners = [\"Dan\"]")),
            ["8:1 `former_owners` without `owner` matches nothing"]
        );
        assert_eq!(
            warnings(&body("owner = \"o\"\nformer_owners = [\" ann \", \"Dan\"]")),
            ["8:1 \"ann\" is under `former_owners` and is a [[rep]]"]
        );
        assert!(warnings(&body("owner = \"o\"\nformer_owners = [\"Dan\"]")).is_empty());
    }

    #[test]
    fn caps_smaller_than_a_rule() {
        let body = "[groups]\nfit = { max = 50, min = -5 }\n[tiers]\nwarm = 10\n\
                    [[rule]]\nname = \"Huge\"\ngroup = \"fit\"\npoints = 60\n\
                    [[rule]]\nname = \"Per\"\ngroup = \"fit\"\npoints_per = { field = \"v\", points = -1, max = 10 }\n";
        assert_eq!(
            warnings(body),
            [
                "6:1 rule \"Huge\" can give more than its group allows",
                "10:1 rule \"Per\" can take more than its group allows",
            ]
        );
    }

    #[test]
    fn route_queues_nothing_else_mentions() {
        let route = |q: &str| {
            format!(
                "[tiers]\nwarm = 1\n[[rule]]\nname = \"A\"\npoints = 1\n[[route]]\nname = \"R\"\nwhen = {{ field = \"s\", present = true }}\nqueue = \"{q}\"\n"
            )
        };
        let typo = findings(&route("marketting"));
        assert_eq!(typo.len(), 1);
        assert_eq!(typo[0].0, Severity::Warning);
        assert_eq!(typo[0].2, "did you mean `marketing`?");
        let own = findings(&route("customers"));
        assert_eq!(own.len(), 1);
        assert_eq!(
            own[0].0,
            Severity::Note,
            "a queue of its own is fine: {own:?}"
        );
        assert!(findings(&route("marketing")).is_empty());
    }

    #[test]
    fn queues_named_once_and_spelt_like_another() {
        let base = "[tiers]\nwarm = 1\n[[rule]]\nname = \"A\"\npoints = 1\n";
        let typo = warnings(&format!("{base}[queues]\ncold = \"markting\"\n"));
        assert_eq!(
            typo,
            ["8:8 queue `markting` is named only here, and is spelt much like `marketing`"]
        );
        let overflow = findings(&format!(
            "{base}[balance]\nsales_capacity = 5\noverflow_queue = \"suppresed\"\n"
        ));
        assert_eq!(overflow.len(), 1, "{overflow:?}");
        assert!(overflow[0].2.starts_with("did you mean `suppressed`?"));
        // New names that are not slips, a default set again, one name used twice: meant.
        for fine in [
            "[queues]\nwarm = \"sdr\"\ncold = \"nurture\"\n",
            "[queues]\nwarm = \"sales\"\n",
            "[queues]\nwarm = \"salse\"\nhot = \"salse\"\n",
            "[balance]\nsales_capacity = 5\noverflow_queue = \"waiting\"\n",
        ] {
            assert_eq!(
                warnings(&format!("{base}{fine}")),
                Vec::<String>::new(),
                "{fine}"
            );
        }
    }

    #[test]
    fn identical_conditions_name_the_first_rule() {
        let body = "[tiers]\nwarm = 1\n\
                    [[rule]]\nname = \"A\"\nwhen = { field = \"t\", contains_any = [\"vp\", \"chief\"] }\npoints = 1\n\
                    [[rule]]\nname = \"B\"\nwhen = { field = \"t\",   contains_any = [\"vp\",\"chief\"] }\npoints = 2\n\
                    [[rule]]\nname = \"C\"\nwhen = { field = \"t\", contains_any = [\"vp\"] }\npoints = 3\n";
        let found = findings(body);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].1,
            "8:1 rules \"A\" and \"B\" have the same condition"
        );
        assert!(found[0].2.contains("line 4"));
    }

    #[test]
    fn unused_fields_are_noted() {
        let body = "[fields]\nx = \"X\"\ny = \"Y\"\n[input]\nid = \"y\"\n[tiers]\nwarm = 1\n[[rule]]\nname = \"A\"\npoints = 1\n";
        let found = findings(body);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].0, found[0].1.as_str()),
            (
                Severity::Note,
                "3:1 field `x` is not used by any rule or route"
            )
        );
        // `[balance] owner` naming the field's header uses it.
        let body =
            format!("{body}[balance]\nowner = \"X\"\n[[rep]]\nname = \"Ann\"\ncapacity = 1\n");
        assert!(findings(&body).is_empty(), "{:?}", findings(&body));
    }
}
