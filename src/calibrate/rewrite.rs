//! A copy of rules.toml with new points, a new warm threshold and, optionally, new rules,
//! everything else (comments, order, spacing) as it was. `toml_edit` keeps the layout; a
//! changed value keeps its spacing and, if it had one, its comment; a value with no comment
//! of its own gets `# calibrate: was ...` so a reviewer sees what changed.

use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, TableLike, Value};

/// The comments calibrate writes start with this, so the next run can replace them.
const MARK: &str = "# calibrate:";

/// A TOML number: an integer when whole.
pub fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

/// New points for one rule.
#[derive(Debug, Clone, PartialEq)]
pub enum NewPoints {
    Fixed(f64),
    /// `points_per`: points per unit, and the cap (`max`) when the rule has one.
    Per {
        points: f64,
        max: Option<f64>,
    },
}

/// One rule's change, found by its name.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub rule: String,
    pub points: NewPoints,
    /// What the comment says the points were: `20`, `1 per unit, max 10`.
    pub was: String,
}

/// A rule to append.
#[derive(Debug, Clone)]
pub struct Added {
    pub name: String,
    pub field: String,
    pub key: &'static str,
    pub value: Value,
    pub points: f64,
    /// Comment lines written above the rule (without `#`).
    pub comment: Vec<String>,
}

/// Everything to change.
#[derive(Debug, Clone, Default)]
pub struct Edits {
    pub changes: Vec<Change>,
    /// The warm score threshold, and the comment to explain it.
    pub warm: Option<(f64, String)>,
    /// The hot score threshold, when it must move (it may not be below warm).
    pub hot: Option<(f64, String)>,
    pub added: Vec<Added>,
}

/// Apply `edits` to the text of a rules file. `Err` says what could not be found (the file
/// was valid, so that is a bug or a layout this does not handle).
pub fn apply(text: &str, edits: &Edits) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    let mut done = vec![false; edits.changes.len()];
    match doc.get_mut("rule") {
        Some(Item::ArrayOfTables(rules)) => {
            for table in rules.iter_mut() {
                edit_rule(table, true, &edits.changes, &mut done)?;
            }
        }
        Some(Item::Value(Value::Array(rules))) => {
            for value in rules.iter_mut() {
                if let Some(table) = value.as_inline_table_mut() {
                    edit_rule(table, false, &edits.changes, &mut done)?;
                }
            }
        }
        _ => {}
    }
    if let Some(i) = done.iter().position(|d| !d) {
        return Err(format!("rule `{}` not found", edits.changes[i].rule));
    }
    for (tier, edit) in [("warm", &edits.warm), ("hot", &edits.hot)] {
        if let Some((score, comment)) = edit {
            let tiers = doc
                .get_mut("tiers")
                .ok_or_else(|| "no [tiers] table".to_string())?;
            let found = with_table(tiers, |t, commentable| {
                set_tier(t, commentable, tier, *score, comment)
            });
            if found != Some(true) {
                return Err(format!("tier `{tier}` not found"));
            }
        }
    }
    append(&mut doc, &edits.added);
    Ok(doc.to_string())
}

/// Run `f` on a table, saying whether values in it can carry comments (an inline table's
/// cannot: it is one line).
fn with_table<R>(item: &mut Item, f: impl FnOnce(&mut dyn TableLike, bool) -> R) -> Option<R> {
    match item {
        Item::Table(t) => Some(f(t, true)),
        Item::Value(Value::InlineTable(t)) => Some(f(t, false)),
        _ => None,
    }
}

fn edit_rule(
    table: &mut dyn TableLike,
    commentable: bool,
    changes: &[Change],
    done: &mut [bool],
) -> Result<(), String> {
    let Some(name) = table
        .get("name")
        .and_then(Item::as_str)
        .map(|n| n.trim().to_string())
    else {
        return Ok(());
    };
    let Some(i) = changes.iter().position(|c| c.rule == name) else {
        return Ok(());
    };
    let change = &changes[i];
    let note = format!("was {}", change.was);
    match &change.points {
        NewPoints::Fixed(p) => {
            let item = table
                .get_mut("points")
                .ok_or_else(|| format!("rule `{name}` has no `points`"))?;
            set_number(item, *p, commentable.then_some(note.as_str()));
        }
        NewPoints::Per { points, max } => {
            let item = table
                .get_mut("points_per")
                .ok_or_else(|| format!("rule `{name}` has no `points_per`"))?;
            let inline = item.is_inline_table();
            let found = with_table(item, |t, inner| {
                let comment = (inner).then_some(note.as_str());
                let Some(p) = t.get_mut("points") else {
                    return false;
                };
                set_number(p, *points, comment);
                if let (Some(max), Some(m)) = (max, t.get_mut("max")) {
                    set_number(m, *max, None);
                }
                true
            });
            if found != Some(true) {
                return Err(format!("rule `{name}` has no `points_per.points`"));
            }
            if inline
                && commentable
                && let Some(v) = item.as_value_mut()
            {
                annotate(v, &note);
            }
        }
    }
    done[i] = true;
    Ok(())
}

/// Set `warm` (or `hot`): a number, or the `score` of a table.
fn set_tier(
    tiers: &mut dyn TableLike,
    commentable: bool,
    tier: &str,
    score: f64,
    comment: &str,
) -> bool {
    let Some(item) = tiers.get_mut(tier) else {
        return false;
    };
    if item
        .as_value()
        .is_some_and(|v| v.is_integer() || v.is_float())
    {
        set_number(item, score, commentable.then_some(comment));
        return true;
    }
    let inline = item.is_inline_table();
    let found = with_table(item, |t, inner| match t.get_mut("score") {
        Some(s) => {
            set_number(s, score, inner.then_some(comment));
            true
        }
        None => false,
    });
    if inline
        && commentable
        && let Some(v) = item.as_value_mut()
    {
        annotate(v, comment);
    }
    found == Some(true)
}

/// Replace a number, keeping the spacing and comment around it.
fn set_number(item: &mut Item, n: f64, comment: Option<&str>) {
    let mut value = number(n);
    if let Some(old) = item.as_value() {
        *value.decor_mut() = old.decor().clone();
    }
    if let Some(c) = comment {
        annotate(&mut value, c);
    }
    *item = Item::Value(value);
}

/// Say what a value was: `# calibrate: <text>` after it, or, when it has a comment of its
/// own, ` (calibrate: <text>)` at the end of that comment. A note from an earlier run is
/// replaced.
fn annotate(value: &mut Value, text: &str) {
    let suffix = value
        .decor()
        .suffix()
        .and_then(|s| s.as_str())
        .unwrap_or("")
        .to_string();
    let new = match suffix.find('#') {
        Some(hash) if !suffix[hash..].starts_with(MARK) => {
            let comment = suffix[hash..].trim_end();
            let comment = match comment.rfind(" (calibrate: ") {
                Some(i) if comment.ends_with(')') => &comment[..i],
                _ => comment,
            };
            format!("{}{comment} (calibrate: {text})", &suffix[..hash])
        }
        _ => format!("   {MARK} {text}"),
    };
    value.decor_mut().set_suffix(new);
}

/// Append rules after the last `[[rule]]` (or as the first ones).
fn append(doc: &mut DocumentMut, added: &[Added]) {
    if added.is_empty() {
        return;
    }
    let tables: Vec<Table> = added.iter().map(rule_table).collect();
    match doc.get_mut("rule") {
        Some(Item::ArrayOfTables(rules)) => {
            for t in tables {
                rules.push(t);
            }
        }
        Some(Item::Value(Value::Array(rules))) => {
            for t in tables {
                rules.push(t.into_inline_table());
            }
        }
        _ => {
            let mut rules = ArrayOfTables::new();
            for t in tables {
                rules.push(t);
            }
            doc.insert("rule", Item::ArrayOfTables(rules));
        }
    }
}

fn rule_table(rule: &Added) -> Table {
    let mut when = InlineTable::new();
    when.insert("field", rule.field.as_str().into());
    when.insert(rule.key, rule.value.clone());
    when.fmt();
    let mut t = Table::new();
    t.insert("name", toml_edit::value(rule.name.as_str()));
    t.insert("when", Item::Value(Value::InlineTable(when)));
    t.insert("points", Item::Value(number(rule.points)));
    let mut prefix = String::from("\n");
    for line in &rule.comment {
        // A line break in a header or value would end the comment and start TOML.
        let line = line.replace(['\n', '\r'], " ");
        prefix.push_str("# ");
        prefix.push_str(&line);
        prefix.push('\n');
    }
    t.decor_mut().set_prefix(prefix);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"version = 1

[tiers]
warm = { score = 50, engagement = 15 }   # needs engagement too
hot = 80

[groups]
engagement = { max = 60 }

# The fit rules.
[[rule]]
name = "Decision maker"
when = { field = "title", contains = "director" }
points = 20   # a strong sign

[[rule]]
name = "Large company"
when = { field = "employees", at_least = 200 }
points = 15

[[rule]]
name = "Page views"
group = "engagement"
points_per = { field = "page_views", points = 1, max = 10 }

# ---- routes ----
[[route]]
name = "Back to nurture"
when = { field = "status", equals = "not now" }
queue = "marketing"
"#;

    fn edits() -> Edits {
        Edits {
            changes: vec![
                Change {
                    rule: "Decision maker".into(),
                    points: NewPoints::Fixed(25.0),
                    was: "20".into(),
                },
                Change {
                    rule: "Large company".into(),
                    points: NewPoints::Fixed(7.0),
                    was: "15".into(),
                },
                Change {
                    rule: "Page views".into(),
                    points: NewPoints::Per {
                        points: 1.5,
                        max: Some(15.0),
                    },
                    was: "1 per unit, max 10".into(),
                },
            ],
            warm: Some((45.0, "was 50".into())),
            hot: None,
            added: vec![Added {
                name: "Region: North".into(),
                field: "Region".into(),
                key: "equals",
                value: "North".into(),
                points: 12.0,
                comment: vec!["Suggested by leadsort calibrate.".into()],
            }],
        }
    }

    #[test]
    fn changes_only_the_numbers_and_keeps_the_rest() {
        let out = apply(RULES, &edits()).unwrap();
        assert!(
            out.contains("points = 25   # a strong sign (calibrate: was 20)\n"),
            "{out}"
        );
        assert!(out.contains("points = 7   # calibrate: was 15\n"), "{out}");
        assert!(
            out.contains(
                "points_per = { field = \"page_views\", points = 1.5, max = 15 }   # calibrate: was 1 per unit, max 10"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "warm = { score = 45, engagement = 15 }   # needs engagement too (calibrate: was 50)\n"
            ),
            "{out}"
        );
        assert!(out.contains("# The fit rules.\n[[rule]]"));
        assert!(out.contains("hot = 80\n"));
        // The new rule comes after the last rule, before the routes and their comment.
        let added = out.find("# Suggested by leadsort calibrate.\n[[rule]]\nname = \"Region: North\"\nwhen = { field = \"Region\", equals = \"North\" }\npoints = 12\n").unwrap();
        assert!(added > out.find("name = \"Page views\"").unwrap());
        assert!(added < out.find("# ---- routes ----").unwrap());
        crate::rules::from_str(std::path::Path::new("new.toml"), &out).unwrap();
    }

    #[test]
    fn a_second_run_replaces_its_own_comments() {
        let once = apply(RULES, &edits()).unwrap();
        let mut again = edits();
        again.added.clear();
        again.changes[1].points = NewPoints::Fixed(9.0);
        again.changes[1].was = "7".into();
        let twice = apply(&once, &again).unwrap();
        assert!(
            twice.contains("points = 9   # calibrate: was 7\n"),
            "{twice}"
        );
        assert!(!twice.contains("was 15"));
    }

    #[test]
    fn a_plain_warm_threshold_gets_a_comment() {
        let text = "version = 1\n[tiers]\nwarm = 50\n";
        let e = Edits {
            warm: Some((40.0, "was 50, best F1".into())),
            ..Edits::default()
        };
        assert_eq!(
            apply(text, &e).unwrap(),
            "version = 1\n[tiers]\nwarm = 40   # calibrate: was 50, best F1\n"
        );
    }

    #[test]
    fn a_rule_that_is_not_there_is_an_error() {
        let e = Edits {
            changes: vec![Change {
                rule: "Nope".into(),
                points: NewPoints::Fixed(1.0),
                was: "2".into(),
            }],
            ..Edits::default()
        };
        assert!(apply(RULES, &e).unwrap_err().contains("Nope"));
    }

    #[test]
    fn whole_numbers_are_integers() {
        assert_eq!(number(3.0).to_string(), "3");
        assert_eq!(number(-2.5).to_string(), "-2.5");
    }
}
