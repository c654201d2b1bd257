//! Binding the fields that rules name to the columns of one CSV header.

use std::collections::HashMap;

use crate::rules::{Rules, Span};

/// The column names of an input, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub names: Vec<String>,
    /// The rows below write every number with a decimal point (a workbook's cells, as
    /// leadsort writes them), whatever the rules' `decimal` says.
    pub decimal_point: bool,
}

impl Header {
    pub fn new(names: Vec<String>) -> Header {
        Header {
            names,
            decimal_point: false,
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Header names that appear more than once (compared exactly), in first-seen order. Blank
    /// names are not counted: a spreadsheet's empty columns have them, and no rule can name
    /// one anyway.
    pub fn duplicates(&self) -> Vec<&str> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for n in &self.names {
            *counts.entry(n.as_str()).or_default() += 1;
        }
        let mut dups: Vec<&str> = Vec::new();
        for n in &self.names {
            if counts[n.as_str()] > 1 && !n.trim().is_empty() && !dups.contains(&n.as_str()) {
                dups.push(n);
            }
        }
        dups
    }

    /// The column a name refers to: exact match first, then ignoring case, spaces, `_` and `-`.
    fn find(&self, name: &str) -> Lookup {
        if let Some(i) = self.names.iter().position(|h| h == name) {
            return Lookup::Found(i);
        }
        let key = loose(name);
        let hits: Vec<usize> = (0..self.names.len())
            .filter(|&i| loose(&self.names[i]) == key)
            .collect();
        match hits.as_slice() {
            [] => Lookup::None,
            [i] => Lookup::Found(*i),
            many => Lookup::Ambiguous(many.to_vec()),
        }
    }

    /// The header most like `name`, for "did you mean": a close spelling (`employes` for
    /// `employees`), or one name inside the other (`demo` in `Demo Requested`).
    pub fn closest(&self, name: &str) -> Option<&str> {
        let key = loose(name);
        let similarity = |h: &str| {
            let h = loose(h);
            let spelling = strsim::normalized_damerau_levenshtein(&key, &h);
            let (short, long) = if key.len() <= h.len() {
                (&key, &h)
            } else {
                (&h, &key)
            };
            let inside = if short.chars().count() >= 4 && long.contains(short.as_str()) {
                0.7
            } else {
                0.0
            };
            spelling.max(inside)
        };
        self.names
            .iter()
            .map(|h| (similarity(h), h))
            .filter(|(score, _)| *score > 0.6)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, h)| h.as_str())
    }
}

/// Lower case, without spaces, underscores or hyphens: `Job Title` ~ `job_title`.
fn loose(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

enum Lookup {
    Found(usize),
    None,
    Ambiguous(Vec<usize>),
}

/// How one field used by the rules was bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The name the rules use (a `[fields]` entry or a header).
    pub field: String,
    /// The column index, or `None` for an optional field that is not in this input.
    pub column: Option<usize>,
}

/// A field the rules need that this input cannot provide.
#[derive(Debug, Clone, PartialEq)]
pub struct Unbound {
    pub field: String,
    /// The header names looked for (a `[fields]` entry's columns, or the field's own name).
    pub tried: Vec<String>,
    /// Where the rules use it first.
    pub span: Span,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// No header matches; the closest header, if any is close, and for a name `[fields]` does
    /// not declare, the closest one it does (`industy` for `industry`).
    Missing {
        closest: Option<String>,
        declared: Option<String>,
    },
    /// Several headers match loosely.
    Ambiguous { columns: Vec<String> },
    /// The matching header name appears more than once.
    Duplicate { column: String },
}

/// Bind every field the rules use. Fields are bound in the order the rules first use them.
pub fn bind(rules: &Rules, header: &Header) -> Result<Vec<Binding>, Vec<Unbound>> {
    let mut bindings: Vec<Binding> = Vec::new();
    let mut unbound: Vec<Unbound> = Vec::new();
    let duplicates = header.duplicates();
    // Fields bound or found unbound already (a set: rule files may use thousands).
    let mut seen = std::collections::HashSet::new();
    for r in rules.field_refs() {
        if !seen.insert(r.name.as_str()) {
            continue;
        }
        let (candidates, optional): (Vec<&str>, bool) = match rules.field(&r.name) {
            Some(f) => (f.columns.iter().map(String::as_str).collect(), f.optional),
            None => (vec![r.name.as_str()], false),
        };
        let problem = match resolve(header, &candidates) {
            Ok(Some(i)) if duplicates.contains(&header.names[i].as_str()) => Problem::Duplicate {
                column: header.names[i].clone(),
            },
            Ok(Some(i)) => {
                bindings.push(Binding {
                    field: r.name.clone(),
                    column: Some(i),
                });
                continue;
            }
            Ok(None) if optional => {
                bindings.push(Binding {
                    field: r.name.clone(),
                    column: None,
                });
                continue;
            }
            Ok(None) => Problem::Missing {
                closest: candidates
                    .iter()
                    .find_map(|c| header.closest(c))
                    .map(str::to_string),
                declared: rules
                    .field(&r.name)
                    .is_none()
                    .then(|| {
                        crate::rules::did_you_mean(
                            &r.name,
                            rules.fields.iter().map(|f| f.name.as_str()),
                        )
                    })
                    .flatten()
                    .map(str::to_string),
            },
            Err(columns) => Problem::Ambiguous {
                columns: columns
                    .into_iter()
                    .map(|i| header.names[i].clone())
                    .collect(),
            },
        };
        unbound.push(Unbound {
            field: r.name.clone(),
            tried: candidates.iter().map(|c| c.to_string()).collect(),
            span: r.span.clone(),
            problem,
        });
    }
    if unbound.is_empty() {
        Ok(bindings)
    } else {
        Err(unbound)
    }
}

/// The column of one field name: its `[fields]` entry's headers, or the name as a header.
/// `Err` lists the columns when several match loosely.
pub fn resolve_field(
    rules: &Rules,
    header: &Header,
    name: &str,
) -> Result<Option<usize>, Vec<usize>> {
    match rules.field(name) {
        Some(f) => {
            let candidates: Vec<&str> = f.columns.iter().map(String::as_str).collect();
            resolve(header, &candidates)
        }
        None => resolve(header, &[name]),
    }
}

/// Fields a disqualifying rule reads whose `[fields]` entry lists several headers, two or
/// more of which this input has: the field reads the first (`bind`), and the others go
/// unread. With the headers found, in the order listed. Lists of names exist so one rules
/// file fits several exports; one export with two opt-out columns (`Unsubscribed` and
/// `opted_out`) may say different things, and the second's yes must not go unseen. (Other
/// fields' lists are often meant to pass over a column: Mautic's `title` is Mr or Ms.)
/// Each with the headers found (as the input spells them) and the one read. The fields of
/// routes away from the sales queue count too (a do-not-call flag keeps contacts from sales
/// by a route); a route to sales guards no one.
pub fn several_columns<'r>(
    rules: &'r Rules,
    header: &'r Header,
) -> Vec<(&'r str, Vec<&'r str>, &'r str)> {
    let disqualifying = (rules.rules.iter())
        .filter(|r| r.disqualify)
        .filter_map(|r| r.when.as_ref());
    let guarding: std::collections::HashSet<&str> = disqualifying
        .chain(
            (rules.routes.iter())
                .filter(|r| r.queue != rules.sales_queue())
                .map(|r| &r.when),
        )
        .flat_map(|w| w.tests())
        .map(|t| t.field.name.as_str())
        .collect();
    rules
        .fields
        .iter()
        .filter(|f| f.columns.len() > 1 && guarding.contains(f.name.as_str()))
        .filter_map(|f| {
            let mut found: Vec<usize> = Vec::new();
            for c in &f.columns {
                if let Ok(Some(i)) = resolve(header, &[c.as_str()])
                    && !found.contains(&i)
                {
                    found.push(i);
                }
            }
            let all: Vec<&str> = f.columns.iter().map(String::as_str).collect();
            let read = resolve(header, &all).ok().flatten()?;
            let names = found.iter().map(|&i| header.names[i].as_str()).collect();
            (found.len() > 1).then_some((f.name.as_str(), names, header.names[read].as_str()))
        })
        .collect()
}

/// The first candidate present exactly, else the first present loosely.
fn resolve(header: &Header, candidates: &[&str]) -> Result<Option<usize>, Vec<usize>> {
    if let Some(i) = candidates
        .iter()
        .find_map(|c| header.names.iter().position(|h| h == c))
    {
        return Ok(Some(i));
    }
    for c in candidates {
        match header.find(c) {
            Lookup::Found(i) => return Ok(Some(i)),
            Lookup::Ambiguous(many) => return Err(many),
            Lookup::None => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Header {
        Header::new(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn exact_then_loose() {
        let h = header(&["Job Title", "job_title", "Company Size"]);
        assert_eq!(resolve(&h, &["job_title"]), Ok(Some(1)));
        assert_eq!(resolve(&h, &["company_size"]), Ok(Some(2)));
        assert_eq!(resolve(&h, &["COMPANY-SIZE"]), Ok(Some(2)));
        assert_eq!(resolve(&h, &["jobtitle"]), Err(vec![0, 1]));
        assert_eq!(resolve(&h, &["nope", "Company Size"]), Ok(Some(2)));
        assert_eq!(resolve(&h, &["nope"]), Ok(None));
    }

    #[test]
    fn closest_header() {
        let h = header(&["email", "employees", "industry"]);
        assert_eq!(h.closest("employes"), Some("employees"));
        assert_eq!(h.closest("zzz"), None);
        let h = header(&["Country", "Demo Requested", "Job Title"]);
        assert_eq!(h.closest("industry"), None, "not Country");
        assert_eq!(h.closest("demo"), Some("Demo Requested"));
        assert_eq!(h.closest("job_titel"), Some("Job Title"));
    }

    #[test]
    fn duplicates_listed_once() {
        let h = header(&["a", "b", "a", "c", "a", "b"]);
        assert_eq!(h.duplicates(), vec!["a", "b"]);
        let blank = header(&["a", "", " ", "", " "]);
        assert!(blank.duplicates().is_empty());
    }
}
