//! Conditions as one line of text, for explanations and lints:
//! `title contains_any ["director", "vp"]`, `all(industry in ["saas"], employees at_least 200)`.
//! Spans are not part of the text, so two conditions written alike print alike.

use std::fmt;

use super::model::{Condition, Op, Scalar, Test};

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Text(s) => write!(f, "{s:?}"),
            Scalar::Number(n) => write!(f, "{}", crate::engine::fmt_number(*n)),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Date(d) => write!(f, "{d}"),
        }
    }
}

fn list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    f.write_str("[")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    f.write_str("]")
}

fn texts(f: &mut fmt::Formatter<'_>, items: &[String]) -> fmt::Result {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    list(f, &quoted)
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let num = crate::engine::fmt_number;
        if let Op::Present(_) = self {
            return f.write_str(self.key());
        }
        write!(f, "{} ", self.key())?;
        match self {
            Op::Equals(s) | Op::NotEquals(s) => write!(f, "{s}"),
            Op::In(v) | Op::NotIn(v) => list(f, v),
            Op::Contains(s) | Op::StartsWith(s) | Op::EndsWith(s) | Op::Matches(s) => {
                write!(f, "{s:?}")
            }
            Op::ContainsAny(v) | Op::DomainIn(v) => texts(f, v),
            Op::Is(b) => write!(f, "{b}"),
            Op::Present(_) => Ok(()),
            Op::Gt(n) | Op::AtLeast(n) | Op::Lt(n) | Op::AtMost(n) => f.write_str(&num(*n)),
            Op::Between(lo, hi) => write!(f, "[{}, {}]", num(*lo), num(*hi)),
            Op::DateBetween(lo, hi) => write!(f, "[{lo}, {hi}]"),
            Op::WithinDays(n) | Op::OlderThanDays(n) => write!(f, "{n}"),
            Op::Before(d) | Op::After(d) => write!(f, "{d}"),
        }
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field.name, self.op)?;
        if self.case_sensitive {
            f.write_str(" (case-sensitive)")?;
        }
        Ok(())
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = |f: &mut fmt::Formatter<'_>, name: &str, parts: &[Condition]| {
            write!(f, "{name}(")?;
            for (i, c) in parts.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str(")")
        };
        match self {
            Condition::All(parts) => group(f, "all", parts),
            Condition::Any(parts) => group(f, "any", parts),
            Condition::Not(c) => write!(f, "not({c})"),
            Condition::Test(t) => write!(f, "{t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn conditions_print_as_one_line() {
        let text = r#"version = 1
[tiers]
warm = 1
[[rule]]
name = "A"
when = { all = [ { field = "title", contains_any = ["director", "vp"] },
                 { not = { field = "email", domain_in = ["gmail.com"] } },
                 { field = "n", between = [1, 2.5] },
                 { field = "s", equals = "X", case_sensitive = true },
                 { field = "d", missing = true } ] }
points = 1
"#;
        let rules = crate::rules::from_str(Path::new("t.toml"), text).unwrap();
        assert_eq!(
            rules.rules[0].when.as_ref().unwrap().to_string(),
            r#"all(title contains_any ["director", "vp"], not(email domain_in ["gmail.com"]), n between [1, 2.5], s equals "X" (case-sensitive), d missing)"#
        );
    }
}
