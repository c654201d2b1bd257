//! The balance: which of the contacts bound for sales sales can take this run, and which rep
//! takes each.
//!
//! Contacts the rules send to the sales queue are held to the end of the run when the rules
//! have a `sales_capacity` or `[[rep]]`s. They are then taken highest score first (ties in
//! input order): up to the capacity, each to a rep (the contact's current owner if that rep
//! exists and has room, else a rep whose territory takes it, else a rep without a territory,
//! weighted round-robin among them), and the rest wait in the overflow queue with the reason.
//! Deterministic: the same contacts give the same decisions.

use crate::engine::{Engine, Row, Scratch};
use crate::rules::Rules;

/// A contact bound for sales, as the balance sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Its record number: the tie-break.
    pub record: u64,
    pub score: i64,
    /// The reps whose territory takes it, a bit per rep.
    pub territories: u64,
    /// The rep named in its owner column, if that names a rep.
    pub owner: Option<usize>,
}

impl Candidate {
    /// Contact `record`, scored `score`, as classify holds it: with the reps whose territory
    /// takes it and the rep its owner column names, read from `row`. Call after scoring the
    /// row (this reuses `scratch`).
    pub fn of<R: Row + ?Sized>(
        rules: &Rules,
        engine: &Engine,
        row: &R,
        (record, score): (u64, i64),
        scratch: &mut Scratch,
    ) -> Candidate {
        Candidate {
            record,
            score,
            territories: engine.territories(row, scratch),
            owner: rep_named(rules, engine.owner(row)),
        }
    }
}

/// What happens to one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// To sales, with a rep when the rules have reps.
    Sales { rep: Option<usize> },
    /// To the overflow queue, for this reason.
    Waits(Why),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Beyond `sales_capacity`.
    OverCapacity,
    /// No rep with room takes it.
    NoRep,
}

impl Why {
    /// The reason added to the contact's reasons.
    pub fn text(self) -> &'static str {
        match self {
            Why::OverCapacity => "over sales capacity",
            Why::NoRep => "no sales rep with room",
        }
    }
}

/// The rules' balance settings, as numbers.
#[derive(Debug, Clone)]
pub struct Plan {
    pub capacity: Option<u64>,
    /// Per rep: capacity, weight, and whether it has a territory.
    pub reps: Vec<(u64, f64, bool)>,
}

impl Plan {
    pub fn new(rules: &Rules) -> Plan {
        Plan {
            capacity: rules.balance.as_ref().and_then(|b| b.sales_capacity),
            reps: rules
                .reps
                .iter()
                .map(|r| (r.capacity, r.weight, r.when.is_some()))
                .collect(),
        }
    }
}

/// The rep an owner cell names (ignoring case, as rep names are told apart), if it names one.
pub fn rep_named(rules: &Rules, owner: &str) -> Option<usize> {
    position_of(rules.reps.iter().map(|r| r.name.as_str()), owner)
}

/// Whether an owner cell (trimmed) names one of `[balance] former_owners`, matched as reps
/// are: their contacts are unowned without a warning.
pub fn former_owner(rules: &Rules, owner: &str) -> bool {
    let former = rules.balance.iter().flat_map(|b| &b.former_owners);
    position_of(former.map(String::as_str), owner).is_some()
}

/// Where `owner` is among `names`, ignoring case.
fn position_of<'a>(mut names: impl Iterator<Item = &'a str>, owner: &str) -> Option<usize> {
    if owner.is_empty() {
        return None;
    }
    names.position(|name| same_name(name, owner))
}

/// Whether two names of a rep are one, ignoring case (Unicode's, as owner cells are matched).
pub fn same_name(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Whether a test's `expect.owner` asks for no rep: `none` (any reason), or the text a
/// contact without one shows, `none (queue marketing)`.
pub fn means_no_rep(name: &str) -> bool {
    name.eq_ignore_ascii_case("none") || name.starts_with("none (")
}

/// The decision for each candidate (in the order given), and the order in which they were
/// taken: highest score first, ties in input order.
pub fn decide(plan: &Plan, candidates: &[Candidate]) -> (Vec<Decision>, Vec<usize>) {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(candidates[i].score), candidates[i].record));
    let mut decisions = vec![Decision::Waits(Why::OverCapacity); candidates.len()];
    let mut taken: u64 = 0;
    let mut load = vec![0u64; plan.reps.len()];
    for &i in &order {
        if plan.capacity.is_some_and(|cap| taken >= cap) {
            decisions[i] = Decision::Waits(Why::OverCapacity);
            continue;
        }
        if plan.reps.is_empty() {
            decisions[i] = Decision::Sales { rep: None };
            taken += 1;
            continue;
        }
        let c = &candidates[i];
        let has_room = |r: usize| load[r] < plan.reps[r].0;
        let rep = c.owner.filter(|&r| has_room(r)).or_else(|| {
            // Its territory first, then the reps without one; among them, the one furthest
            // below its weighted share (ties: the first in the file).
            let territory = (0..plan.reps.len()).filter(|&r| c.territories & (1 << r) != 0);
            let anywhere = (0..plan.reps.len()).filter(|&r| !plan.reps[r].2);
            let pick = |reps: &mut dyn Iterator<Item = usize>| {
                reps.filter(|&r| has_room(r)).min_by(|&a, &b| {
                    let share = |r: usize| (load[r] as f64 + 1.0) / plan.reps[r].1;
                    share(a).total_cmp(&share(b)).then(a.cmp(&b))
                })
            };
            pick(&mut { territory }).or_else(|| pick(&mut { anywhere }))
        });
        decisions[i] = match rep {
            Some(r) => {
                load[r] += 1;
                taken += 1;
                Decision::Sales { rep: Some(r) }
            }
            None => Decision::Waits(Why::NoRep),
        };
    }
    (decisions, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(record: u64, score: i64, territories: u64, owner: Option<usize>) -> Candidate {
        Candidate {
            record,
            score,
            territories,
            owner,
        }
    }

    #[test]
    fn capacity_takes_the_highest_scores_ties_in_input_order() {
        let plan = Plan {
            capacity: Some(2),
            reps: Vec::new(),
        };
        let c = [
            candidate(1, 50, 0, None),
            candidate(2, 70, 0, None),
            candidate(3, 50, 0, None),
            candidate(4, 60, 0, None),
        ];
        let (d, order) = decide(&plan, &c);
        assert_eq!(order, [1, 3, 0, 2]);
        let sales = Decision::Sales { rep: None };
        let waits = Decision::Waits(Why::OverCapacity);
        assert_eq!(d, [waits, sales, waits, sales]);
    }

    #[test]
    fn reps_owner_then_territory_then_weighted_round_robin() {
        // Ann: US only, room 2. Bo: anywhere, room 3, weight 2. Cy: anywhere, room 1.
        let plan = Plan {
            capacity: None,
            reps: vec![(2, 1.0, true), (3, 2.0, false), (1, 1.0, false)],
        };
        let us = 0b001;
        let c = [
            candidate(1, 90, us, None),   // Ann (territory)
            candidate(2, 80, us, None),   // Ann (territory, now full)
            candidate(3, 70, us, None),   // Ann full: round-robin, Bo (weight 2) first
            candidate(4, 60, 0, Some(2)), // its owner Cy has room
            candidate(5, 50, 0, None),    // Bo
            candidate(6, 40, 0, Some(0)), // owner Ann is full: Bo
            candidate(7, 30, 0, None),    // everyone full
        ];
        let (d, _) = decide(&plan, &c);
        let rep = |r| Decision::Sales { rep: Some(r) };
        assert_eq!(
            d,
            [
                rep(0),
                rep(0),
                rep(1),
                rep(2),
                rep(1),
                rep(1),
                Decision::Waits(Why::NoRep)
            ]
        );
    }

    proptest::proptest! {
        /// Nobody gets more than their capacity, sales never more than its own, and every
        /// contact gets exactly one decision.
        #[test]
        fn capacities_hold_and_nobody_is_dropped(
            capacity in proptest::option::of(0u64..20),
            reps in proptest::collection::vec((0u64..6, 1u32..4, proptest::bool::ANY), 0..5),
            cands in proptest::collection::vec((-20i64..20, 0u64..32, proptest::option::of(0usize..6)), 0..60),
        ) {
            let plan = Plan {
                capacity,
                reps: reps.iter().map(|&(c, w, t)| (c, f64::from(w), t)).collect(),
            };
            let n = plan.reps.len();
            let candidates: Vec<Candidate> = cands
                .iter()
                .enumerate()
                .map(|(i, &(score, t, owner))| candidate(i as u64, score, t, owner.filter(|&o| o < n)))
                .collect();
            let (d, order) = decide(&plan, &candidates);
            proptest::prop_assert_eq!(d.len(), candidates.len());
            let mut seen = order.clone();
            seen.sort_unstable();
            proptest::prop_assert_eq!(seen, (0..candidates.len()).collect::<Vec<_>>());
            let sales = d.iter().filter(|x| matches!(x, Decision::Sales { .. })).count() as u64;
            if let Some(cap) = capacity {
                proptest::prop_assert!(sales <= cap);
            }
            for r in 0..n {
                let load = d.iter().filter(|x| **x == Decision::Sales { rep: Some(r) }).count() as u64;
                proptest::prop_assert!(load <= plan.reps[r].0);
            }
            // With reps, every contact in sales has one.
            let unassigned = Decision::Sales { rep: None };
            if n > 0 {
                proptest::prop_assert!(!d.contains(&unassigned), "a contact in sales without a rep");
            }
        }
    }
}
