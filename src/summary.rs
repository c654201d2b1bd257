//! The account of a run: how many contacts went where, what could not be read.
//! Printed on stderr (terminal or `-v`) and written as JSON (`--summary`, `--split`).

use std::fmt::Write as _;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::rules::Rules;

/// Values by name, serialised as a JSON object that keeps this order (serde_json's own
/// maps sort their keys).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ordered<T>(pub Vec<(String, T)>);

/// Counts by name, in a meaningful order (queues as the rules list them, tiers from the top).
pub type Counts = Ordered<u64>;

impl Counts {
    pub fn get(&self, name: &str) -> u64 {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, c)| *c)
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, c)| c).sum()
    }
}

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub leadsort_version: &'static str,
    pub input: String,
    /// SHA-256 of the input as read (before decompression or decoding).
    pub input_sha256: Option<String>,
    pub rules: String,
    pub rules_sha256: String,
    pub as_of: String,
    /// What the contacts were written as: `csv`, `tsv`, `jsonl` or `xlsx`.
    pub format: &'static str,
    /// Records read after the header: `contacts + rejected`.
    pub rows: u64,
    pub contacts: u64,
    pub rejected: u64,
    /// Contacts per queue; adds up to `contacts`.
    pub queues: Counts,
    /// Contacts per tier; adds up to `contacts`.
    pub tiers: Counts,
    /// Per field: contacts whose cell could not be read as the type its conditions need.
    pub unreadable: Counts,
    /// Optional fields not in this input (read as empty).
    pub missing_optional_fields: Vec<String>,
    /// Sales against its capacity, and the share of each queue.
    pub balance: Balance,
    pub warnings: Vec<String>,
}

/// The balance of a run: what the rules sent to sales, what sales took, what waited.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Balance {
    pub sales_queue: String,
    pub sales_capacity: Option<u64>,
    pub min_sales: Option<u64>,
    /// Contacts the rules sent to sales (before capacity and reps).
    pub bound_for_sales: u64,
    /// Contacts in sales after capacity and reps.
    pub sales: u64,
    /// Contacts beyond `sales_capacity`, waiting in `overflow_queue`.
    pub over_capacity: u64,
    /// Contacts no rep with room could take, waiting in `overflow_queue`.
    pub no_rep: u64,
    pub overflow_queue: String,
    /// Each queue's share of the contacts (0 to 1, four decimals).
    pub shares: Ordered<f64>,
    /// Per rep: contacts assigned and capacity.
    pub reps: Ordered<RepLoad>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RepLoad {
    pub assigned: u64,
    pub capacity: u64,
}

/// `n / total` from 0 to 1, rounded to 4 decimals: how every share in a summary, a report
/// or a diff is written.
pub fn share(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (n as f64 / total as f64 * 10_000.0).round() / 10_000.0
    }
}

impl Balance {
    /// The balance of a run whose contacts per queue (after capacity and reps) are `queues`,
    /// in the order of `queue_names`; `loads` holds the contacts assigned to each rep.
    pub fn new(
        rules: &Rules,
        queue_names: &[String],
        queues: &[u64],
        waited: Waited,
        loads: Vec<u64>,
    ) -> Balance {
        let contacts = queues.iter().sum();
        let settings = rules.balance.clone().unwrap_or_default();
        let sales = queue_names
            .iter()
            .position(|q| q == rules.sales_queue())
            .map_or(0, |i| queues[i]);
        Balance {
            sales_queue: rules.sales_queue().to_string(),
            sales_capacity: settings.sales_capacity,
            min_sales: settings.min_sales,
            bound_for_sales: sales + waited.over_capacity + waited.no_rep,
            sales,
            over_capacity: waited.over_capacity,
            no_rep: waited.no_rep,
            overflow_queue: rules.overflow_queue().to_string(),
            shares: Ordered(
                queue_names
                    .iter()
                    .zip(queues)
                    .map(|(q, n)| (q.clone(), share(*n, contacts)))
                    .collect(),
            ),
            reps: Ordered(
                rules
                    .reps
                    .iter()
                    .zip(loads)
                    .map(|(r, assigned)| {
                        let capacity = r.capacity;
                        (r.name.clone(), RepLoad { assigned, capacity })
                    })
                    .collect(),
            ),
        }
    }
}

/// Contacts bound for sales that wait in the overflow queue instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct Waited {
    /// Beyond `sales_capacity`.
    pub over_capacity: u64,
    /// No rep with room could take them.
    pub no_rep: u64,
}

impl Summary {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string());
        s.push('\n');
        s
    }

    /// A few lines for a person at a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} from {} (as of {}), rules {}",
            crate::ui::plural(self.contacts, "contact"),
            self.input,
            self.as_of,
            self.rules
        );
        let width = self
            .queues
            .0
            .iter()
            .map(|(q, _)| q.len())
            .max()
            .unwrap_or(0)
            .max(8);
        for (q, n) in &self.queues.0 {
            let _ = writeln!(
                out,
                "  {q:<width$} {n:>8}  {:>5.1}%",
                percent(*n, self.contacts)
            );
        }
        let _ = writeln!(out, "  {:<width$} {:>8}", "rejected", self.rejected);
        let b = &self.balance;
        if let Some(cap) = b.sales_capacity {
            let _ = writeln!(
                out,
                "  balance: {} of {} to {} (capacity {cap}); {} over capacity wait in {}",
                b.sales, b.bound_for_sales, b.sales_queue, b.over_capacity, b.overflow_queue
            );
        }
        if !b.reps.0.is_empty() {
            let reps: Vec<String> = b
                .reps
                .0
                .iter()
                .map(|(r, l)| format!("{r} {}/{}", l.assigned, l.capacity))
                .collect();
            let _ = writeln!(
                out,
                "  reps: {}{}",
                reps.join(", "),
                if b.no_rep > 0 {
                    format!(
                        "; {} no rep could take wait in {}",
                        b.no_rep, b.overflow_queue
                    )
                } else {
                    String::new()
                }
            );
        }
        let tiers: Vec<String> = self
            .tiers
            .0
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        let _ = writeln!(out, "  tiers: {}", tiers.join(", "));
        let bad: Vec<String> = self
            .unreadable
            .0
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(f, n)| format!("{f} {n}"))
            .collect();
        if !bad.is_empty() {
            let _ = writeln!(out, "  unreadable cells: {}", bad.join(", "));
        }
        out
    }
}

fn percent(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    }
}
