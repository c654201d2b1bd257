//! One module per subcommand: each has its `Args` and a `run` that reads like the story of
//! the command. Helpers several commands share live here.

pub mod calibrate;
pub mod check;
pub mod classify;
pub mod diff;
pub mod explain;
pub mod init;
pub mod report;

use std::path::{Path, PathBuf};

use jiff::civil::Date;

use crate::engine::{Engine, Header, Problem, Unbound};
use crate::error::{Error, Result};
use crate::input::Input;
use crate::rules::Rules;

/// Today in the local time zone (what a cron job means by "today").
pub fn today() -> Date {
    jiff::ZonedDateTime::now().date()
}

/// Compile the rules for this input; a field the input lacks is a data error (exit 65).
pub fn compile(rules: &Rules, input: &Input, as_of: Date) -> Result<Engine> {
    Engine::compile(rules, input.header(), as_of)
        .map_err(|unbound| unbound_error(rules, input.header(), input.name(), &unbound))
}

/// The column that identifies contacts: `--id-column`, else `[input] id`, resolved like any
/// field (a `[fields]` entry or a header). `None` when neither is given.
pub fn id_column(
    rules: &Rules,
    header: &Header,
    input: &str,
    flag: Option<&str>,
) -> Result<Option<usize>> {
    let (name, origin) = match (flag, &rules.input.id) {
        (Some(f), _) => (f.to_string(), "--id-column".to_string()),
        (None, Some(r)) => (
            r.name.clone(),
            format!("[input] id at {}", rules.source.position(&r.span)),
        ),
        (None, None) => return Ok(None),
    };
    match crate::engine::bind::resolve_field(rules, header, &name) {
        Ok(Some(col)) => Ok(Some(col)),
        Ok(None) | Err(_) => {
            let mut msg = format!("{input} has no id column `{name}` (from {origin})");
            msg.push_str(&headers_lines(rules, input, header, Some(&name)));
            Err(Error::Data(msg))
        }
    }
}

/// Writing over a file being read would destroy it mid-read: refuse (exit 2) before
/// anything is opened for writing. An input of `None` is stdin, which may be a file too
/// (`leadsort classify - -o contacts.csv < contacts.csv`).
pub fn refuse_overwriting(inputs: &[Option<&Path>], outputs: &[PathBuf]) -> Result<()> {
    let inputs: Vec<(FileId, bool)> = inputs
        .iter()
        .filter_map(|p| match p {
            Some(p) => FileId::of(p).map(|id| (id, false)),
            None => FileId::of_stdin().map(|id| (id, true)),
        })
        .collect();
    for out in outputs {
        let Some(id) = FileId::of(out) else {
            continue;
        };
        if let Some(&(_, stdin)) = inputs.iter().find(|(input, _)| *input == id) {
            return Err(Error::Usage(format!(
                "{} is both {} and an output; write the output somewhere else",
                out.display(),
                if stdin {
                    "the input on stdin"
                } else {
                    "an input"
                }
            )));
        }
    }
    Ok(())
}

/// Two outputs written to one file would leave only the one renamed last: refuse (exit 2)
/// before anything is opened. `outputs`: each file with the option that names it. The
/// `--split` folder's `summary.json` may also be `--summary`: both get the same text.
pub fn refuse_one_file_twice(outputs: &[(&str, PathBuf)]) -> Result<()> {
    for (i, (first, a)) in outputs.iter().enumerate() {
        for (second, b) in &outputs[i + 1..] {
            let summaries = *first == "--split"
                && *second == "--summary"
                && a.file_name() == Some("summary.json".as_ref());
            if same_file(a, b) && !summaries {
                let options = if first == second {
                    format!("{first} twice")
                } else {
                    format!("{first} and {second}")
                };
                return Err(Error::Usage(format!(
                    "{} is named for two outputs ({options}), and one would overwrite the other; give each output its own file",
                    b.display()
                )));
            }
        }
    }
    Ok(())
}

/// Contacts and a rules file both on stdin: the first to read it takes it all (the rules
/// parser would read the contacts). Refused (exit 2) before either is read, as is a rules
/// file of `-` (its path, or `/dev/stdin`, reads stdin).
pub fn refuse_stdin_twice(contacts_on_stdin: bool, rules: &[&Path]) -> Result<()> {
    if let Some(r) = rules.iter().find(|r| r.as_os_str() == "-") {
        return Err(Error::Usage(format!(
            "a rules file of `{}` is not read from stdin: give its path (or /dev/stdin, when the \
             contacts are in a file)",
            r.display()
        )));
    }
    if !contacts_on_stdin {
        return Ok(());
    }
    if let Some(r) = rules.iter().find(|r| FileId::is_stdin(r)) {
        return Err(Error::Usage(format!(
            "the rules file {} is stdin, which carries the contacts; give the rules file's path",
            r.display()
        )));
    }
    Ok(())
}

/// With the output on stdout, a file named for another output that is stdout too
/// (`--summary /dev/stdout`, `/dev/fd/1`) would be written into the rows, or the report:
/// refuse (exit 2) before anything is written, as `--summary -` is.
pub fn refuse_stdout_twice<'a>(
    others: impl IntoIterator<Item = (&'a str, &'a Path)>,
) -> Result<()> {
    let Some(stdout) = FileId::of_stdout() else {
        return Ok(());
    };
    for (option, path) in others {
        if FileId::of(path).is_some_and(|id| id == stdout) {
            return Err(Error::Usage(format!(
                "{option} {} is stdout, which carries the output; give {option} a file",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Whether two output paths name one file: the same file if it exists, or the same name in
/// the same folder (`out.csv`, `./out.csv`).
pub fn same_file(a: &Path, b: &Path) -> bool {
    let folder = |p: &Path| match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => FileId::of(d),
        _ => FileId::of(Path::new(".")),
    };
    a == b
        || FileId::of(a).is_some_and(|id| FileId::of(b) == Some(id))
        || (a.file_name() == b.file_name() && folder(a).is_some_and(|d| folder(b) == Some(d)))
}

/// Whether a header is more likely a contact's row (a file without a header line, or one
/// read in the wrong encoding): an email address in it, a phone number, long number or date
/// (7 digits or more and punctuation, no letters: a year or a month, `2024-01`, can name a
/// column), a number other than a year (`17` in `17,Jane,Doe,CFO`: a count, an id, an age;
/// a sheet whose columns are numbered 1, 2, 3 is taken for data too, which costs only the
/// headers in messages), or a cell too long for a column's name. Messages then show none of
/// its cells, which may be contact data. A header read as one column (the wrong
/// `--delimiter`) is judged by the names it would split into.
pub fn header_looks_like_data(header: &Header) -> bool {
    let year = |n: &str| n.len() == 4 && n.parse::<u16>().is_ok_and(|y| (1900..=2100).contains(&y));
    let a_number = |n: &str| crate::engine::cell::parse_number(n).is_some() && !year(n);
    let data = |n: &&str| {
        let n = n.trim();
        holds_contact_data(n) || n.chars().count() > 100 || a_number(n)
    };
    split_names(header).iter().any(data)
}

/// The header's names; for a header read as one column (the wrong `--delimiter`), the names
/// it would split into, which is how it is judged.
pub fn split_names(header: &Header) -> Vec<&str> {
    match &header.names[..] {
        [one] => one.split([',', ';', '\t', '|']).collect(),
        names => names.iter().map(String::as_str).collect(),
    }
}

/// Whether a header cell holds what only a contact's row does: an email address, or a phone
/// number, long number or date (7 digits or more and punctuation, no letters). Narrower than
/// `header_looks_like_data`, whose long cells and small numbers a real header may have (a
/// form's question as a column name, columns numbered 1, 2, 3): `init` refuses only these.
pub fn holds_contact_data(cell: &str) -> bool {
    let number_like = |n: &str| {
        n.chars().filter(char::is_ascii_digit).count() >= 7
            && n.chars()
                .all(|c| c.is_ascii_digit() || " +-.,/:()".contains(c))
    };
    let n = cell.trim();
    n.contains('@') || number_like(n)
}

/// A warning per field whose cells its rules could not read (a date in a form without
/// `formats`, text where a number is tested): rules on it fail silently for those contacts,
/// which a nightly run should not do unnoticed. Said when more than 1 in 5 contacts have
/// such a cell (a few N/As are common; a fifth is a format the rules do not read), or when any
/// has and a disqualifying rule reads the field: "Yes (by phone)" in
/// an unsubscribe column must not send a contact to sales unsaid. `unreadable` is
/// `Stats::unreadable`, by `Engine::typed_fields`. See `at_risk` for which say
/// a disqualifying rule could not read its field.
pub fn unreadable_warnings(
    rules: &Rules,
    engine: &Engine,
    unreadable: &[u64],
    contacts: u64,
) -> Vec<String> {
    use crate::rules::FieldKind;
    // A test under a `not` is false for an unreadable cell, and so the `not` disqualifies:
    // only the tests that must hold for the rule to disqualify count.
    fn must_hold<'a>(c: &'a crate::rules::Condition, out: &mut Vec<&'a crate::rules::Test>) {
        use crate::rules::Condition;
        match c {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| must_hold(c, out)),
            Condition::Not(_) => {}
            Condition::Test(t) => out.push(t),
        }
    }
    let disqualifier = |field: &str| {
        (rules.rules.iter().filter(|r| r.disqualify)).find(|r| {
            r.when.as_ref().is_some_and(|c| {
                let mut tests = Vec::new();
                must_hold(c, &mut tests);
                tests.iter().any(|t| t.field.name == field)
            })
        })
    };
    (engine.typed_fields.iter().zip(unreadable))
        .filter(|&(_, &n)| n > 0)
        .filter_map(|(field, &n)| {
            let hint = match rules.field(field).map(|f| f.kind) {
                Some(FieldKind::Date) => " (dates in another form need `formats` under [fields])",
                Some(FieldKind::Number) => {
                    " (ranges such as 50-100, text such as N/A, and numbers whose mark could \
                     be a decimal or a thousands one, such as 12,50 or 3.400, are not read as \
                     numbers: `decimal = \",\"` under [fields] reads a decimal comma)"
                }
                Some(FieldKind::Bool) => {
                    " (yes/no, true/false, y/n, 1/0 and x are read, and yes and no in German, \
                     French, Spanish, Italian, Portuguese, Dutch, the Nordic languages, Finnish \
                     and Polish; other words can be listed with `in = [...]` on a text field)"
                }
                _ => "",
            };
            let of = format!("{n} of {}", crate::ui::plural(contacts, "contact"));
            match disqualifier(field) {
                Some(rule) => Some(format!(
                    "field `{field}` could not be read in {of}: the disqualifying rule \
                     \"{}\" could not disqualify them{hint}{AT_RISK}",
                    rule.name
                )),
                None if n * 5 > contacts => Some(format!(
                    "field `{field}` could not be read in {of}: its conditions are false for \
                     them{hint}"
                )),
                None => None,
            }
        })
        .collect()
}

/// How a warning ends when someone who must not be contacted may be in a queue (an opt-out
/// cell a disqualifying rule cannot read, an opt-out column left unread): one constant for
/// the words and the test, so the two cannot drift apart.
const AT_RISK: &str = "; someone who must not be contacted may be in a queue (said even with -q)";

/// Whether a warning is one `-q` must not hide (see `AT_RISK`).
pub fn at_risk(warning: &str) -> bool {
    warning.ends_with(AT_RISK)
}

/// Print a warning: with `-q` too when it is `at_risk`.
pub fn say(ui: &crate::ui::Ui, warning: &str) {
    if at_risk(warning) {
        ui.warn_even_quiet(warning);
    } else {
        ui.warn(warning);
    }
}

/// A run that read not one contact from rows that were meant as ones (another encoding,
/// another delimiter): an error (exit 65) before anything is written, as in `classify`.
pub fn nothing_readable(input: &Input, contacts: u64) -> Result<()> {
    if contacts > 0 || input.unreadable_rows == 0 {
        return Ok(());
    }
    let first = match &input.first_not_utf8 {
        Some((_, line)) => format!(" (the first not UTF-8 is on line {line})"),
        None => String::new(),
    };
    Err(Error::Data(format!(
        "not one of the {} rows of {} could be read{first}: nothing was written \
         (leadsort classify --rejected FILE shows why each was rejected)",
        input.unreadable_rows,
        input.name()
    )))
}

/// A warning per field of a disqualifying rule the input has several of the listed headers
/// for: only the first is read (see `bind::several_columns`).
pub fn several_columns_warnings(rules: &Rules, header: &Header) -> Vec<String> {
    crate::engine::bind::several_columns(rules, header)
        .into_iter()
        .map(|(field, found, read)| {
            format!(
                "field `{field}`, which a disqualifying rule or a route reads, can read the \
                 headers {}, and the input has each of them: only `{}` is read (name the one to \
                 read under [fields], or make a field of each){AT_RISK}",
                quoted(&found),
                crate::ui::printable(read)
            )
        })
        .collect()
}

/// The warning for a run that sends sales fewer contacts than `[balance] min_sales`.
pub fn fewer_than_min_sales(sales_queue: &str, sales: u64, min: u64) -> String {
    format!(
        "{sales_queue} gets {}, fewer than min_sales = {min}",
        crate::ui::plural(sales, "contact")
    )
}

/// The warning for contacts bound for sales whose owner cell names no `[[rep]]`: they are
/// passed over for the territories without a word each, and a CRM's full names ("Sam Jones")
/// against reps named "Sam" would quietly reassign every owned contact.
pub fn owners_not_reps(strangers: u64) -> Option<String> {
    (strangers > 0).then(|| {
        format!(
            "{} bound for sales {} an owner that is no [[rep]] in the rules: {} as if \
             unowned, by territory while sales has room (are the reps named as the owner \
             column names them? list reps who left under [balance] former_owners)",
            crate::ui::plural(strangers, "contact"),
            if strangers == 1 { "names" } else { "name" },
            if strangers == 1 {
                "it is placed"
            } else {
                "they are placed"
            },
        )
    })
}

/// What a header tells every command before any row is read: optional fields it lacks (of
/// every engine that reads it: `diff` has two) and names it repeats.
pub fn header_warnings(engines: &[&Engine], header: &Header) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut missing: Vec<&str> = Vec::new();
    for b in engines.iter().flat_map(|e| &e.bindings) {
        if b.column.is_none() && !missing.contains(&b.field.as_str()) {
            missing.push(&b.field);
        }
    }
    if !missing.is_empty() {
        warnings.push(format!(
            "optional field{} {} not in the input: read as empty for every contact",
            if missing.len() > 1 { "s" } else { "" },
            quoted(&missing)
        ));
    }
    let dups = header.duplicates();
    // As `hidden_header` judges: a header that names no field the rules read may be a row.
    let bindings = || engines.iter().flat_map(|e| &e.bindings);
    let names_no_field = bindings().next().is_some() && bindings().all(|b| b.column.is_none());
    if !dups.is_empty() && (names_no_field || header_looks_like_data(header)) {
        // Its cells may be a contact's: not shown.
        warnings.push(format!(
            "the header repeats {}",
            crate::ui::plural(dups.len(), "name")
        ));
    } else if !dups.is_empty() {
        warnings.push(format!(
            "the header repeats {} (the rules do not use {})",
            quoted(&dups),
            if dups.len() > 1 { "them" } else { "it" }
        ));
    }
    warnings
}

/// Why messages about an input may not show its header's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// It holds what a contact's row does (`header_looks_like_data`).
    LooksLikeData,
    /// The rules read fields and the header names none of them: a file without a header
    /// line whose first row is only words (`Jane,Doe,CFO,Acme`) looks like any header.
    NamesNoField,
}

/// Whether messages may show `header`'s cells, judged with the rules that read it. A header
/// read as one column (the wrong `--delimiter`) is judged by the names it would split into.
pub fn hidden_header(rules: &Rules, header: &Header) -> Option<Hidden> {
    if header_looks_like_data(header) {
        return Some(Hidden::LooksLikeData);
    }
    let names = Header::new(
        split_names(header)
            .into_iter()
            .map(str::to_string)
            .collect(),
    );
    let names = &names;
    let mut fields = rules
        .field_refs()
        .into_iter()
        .chain(&rules.input.id)
        .peekable();
    let reads_any = fields.peek().is_some();
    let names_one = fields.any(|f| {
        !matches!(
            crate::engine::bind::resolve_field(rules, names, &f.name),
            Ok(None)
        )
    });
    (reads_any && !names_one).then_some(Hidden::NamesNoField)
}

/// Why a header is not shown (see `hidden_header`).
pub fn not_a_header(input: &str, why: Hidden) -> String {
    match why {
        Hidden::LooksLikeData => format!(
            "the first line of {input} does not look like a header (it holds an email address, \
             a phone number or date, or a cell too long for a column name), so its cells are \
             not shown: does the file start with a header line?"
        ),
        Hidden::NamesNoField => format!(
            "the first line of {input} names none of the columns the rules read, so its cells \
             are not shown (without a header line they would be a contact's): does the file \
             start with a header line? If it does, look at that line for the names to use"
        ),
    }
}

/// The lines a "no such column" message ends with: the closest header to `wanted`, and the
/// headers; or, for a header that looks like data, why they are not shown.
pub fn headers_lines(rules: &Rules, input: &str, header: &Header, wanted: Option<&str>) -> String {
    let mut lines = String::new();
    let names: Vec<&str> = header.names.iter().map(String::as_str).collect();
    if let Some(why) = hidden_header(rules, header) {
        lines.push_str(&format!("\n{}", not_a_header(input, why)));
    } else {
        if let Some(c) = wanted.and_then(|w| header.closest(w)) {
            lines.push_str(&format!("\nclosest header: `{c}`"));
        }
        lines.push_str(&format!("\nheaders in {input}: {}", quoted(&names)));
    }
    // A title above the table (a merged heading in a spreadsheet): one cell filled, or none.
    // Said even when the cells are not shown: it counts them only.
    let filled = names.iter().filter(|n| !n.trim().is_empty()).count();
    let skip = "pass --skip-rows 1 (or the number of rows above the header)";
    if names.len() > 1 && filled <= 1 {
        lines.push_str(&format!(
            "\nthe first row has {} of {} cells filled: if it is a title above the header, \
             {skip}",
            if filled == 0 { "none" } else { "one" },
            names.len()
        ));
    } else if names.len() == 1 && delimiter_hint(header).is_none() {
        // A title on a line of its own (no trailing delimiters), which no delimiter explains.
        lines.push_str(&format!(
            "\nthe first row is one cell: if it is a title above the header, {skip}"
        ));
    }
    lines
}

/// What makes two names one file: its device and inode on Unix (so hard links and links
/// are the same file), else its canonical path.
#[derive(Debug, PartialEq, Eq)]
pub enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg(not(unix))]
    Path(PathBuf),
}

impl FileId {
    /// The file at `path`, if there is one.
    pub fn of(path: &Path) -> Option<FileId> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(path)
                .ok()
                .map(|m| FileId::Inode(m.dev(), m.ino()))
        }
        #[cfg(not(unix))]
        {
            path.canonicalize().ok().map(FileId::Path)
        }
    }

    /// The file on stdin, if it is one (not a terminal or a pipe, which no output can be).
    pub fn of_stdin() -> Option<FileId> {
        #[cfg(unix)]
        return Self::of_std(std::io::stdin(), std::fs::Metadata::is_file);
        #[cfg(not(unix))]
        None
    }

    /// What stdout is: a file, a pipe or a terminal; not another device (`/dev/null`, which
    /// a side file may be too, without mixing into anything).
    pub fn of_stdout() -> Option<FileId> {
        #[cfg(unix)]
        return Self::of_std(std::io::stdout(), |meta| {
            use std::io::IsTerminal;
            use std::os::unix::fs::FileTypeExt;
            let kind = meta.file_type();
            let device = kind.is_char_device() || kind.is_block_device();
            !device || std::io::stdout().is_terminal()
        });
        #[cfg(not(unix))]
        None
    }

    /// Whether `path` names what stdin is (`/dev/stdin`, `/dev/fd/0`, or the file it reads).
    pub fn is_stdin(path: &Path) -> bool {
        #[cfg(unix)]
        return Self::of_std(std::io::stdin(), |_| true)
            .is_some_and(|id| Self::of(path) == Some(id));
        #[cfg(not(unix))]
        false
    }

    /// What stdin or stdout is, if `keep` takes it.
    #[cfg(unix)]
    fn of_std(
        stream: impl std::os::fd::AsFd,
        keep: impl Fn(&std::fs::Metadata) -> bool,
    ) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        let fd = stream.as_fd().try_clone_to_owned().ok()?;
        let meta = std::fs::File::from(fd).metadata().ok()?;
        keep(&meta).then(|| FileId::Inode(meta.dev(), meta.ino()))
    }
}

/// Columns in which a line break means an unbalanced quote merged rows: the id column and
/// the email fields (read by `domain_in`, or named like an email).
pub fn single_line_columns(rules: &Rules, engine: &Engine, header: &Header) -> Vec<usize> {
    let mut emails: Vec<&str> = Vec::new();
    for rule in &rules.rules {
        for t in rule.when.iter().flat_map(|w| w.tests()) {
            if matches!(t.op, crate::rules::Op::DomainIn(_)) {
                emails.push(&t.field.name);
            }
        }
    }
    let mut cols: Vec<usize> = engine
        .bindings
        .iter()
        .filter(|b| emails.contains(&b.field.as_str()) || b.field.to_lowercase().contains("email"))
        .filter_map(|b| b.column)
        .collect();
    if let Some(id) = &rules.input.id
        && let Ok(Some(col)) = crate::engine::bind::resolve_field(rules, header, &id.name)
    {
        cols.push(col);
    }
    cols.sort_unstable();
    cols.dedup();
    cols
}

/// A progress bar on stderr for long inputs, only on a terminal and never with `-q`.
#[derive(Debug)]
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// Inputs smaller than this finish before a bar would help.
    const MIN_BYTES: u64 = 32 << 20;

    pub fn new(ui: &crate::ui::Ui, source: &crate::input::Source) -> Progress {
        if !ui.stderr_is_terminal || ui.verbosity == crate::ui::Verbosity::Quiet {
            return Progress(None);
        }
        let size = source
            .path()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.len());
        let bar = match size {
            Some(n) if n >= Self::MIN_BYTES => indicatif::ProgressBar::new(n),
            Some(_) => return Progress(None),
            None => indicatif::ProgressBar::new_spinner(),
        };
        let style = indicatif::ProgressStyle::with_template(
            "leadsort: {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
        );
        if let Ok(style) = style {
            bar.set_style(style);
        }
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
        Progress(Some(bar))
    }

    pub fn set(&self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(bytes);
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// A header read as one column that holds another delimiter: the file was read with the
/// wrong one.
pub fn delimiter_hint(header: &Header) -> Option<String> {
    let [only] = header.names.as_slice() else {
        return None;
    };
    let (sep, flag) = [(';', "';'"), ('\t', "tab"), ('|', "'|'"), (',', "','")]
        .into_iter()
        .find(|(c, _)| only.contains(*c))?;
    Some(format!(
        "the header was read as one column containing `{}`: is the file `{}`-separated? pass --delimiter {flag}",
        sep.escape_default(),
        sep.escape_default()
    ))
}

pub fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", crate::ui::printable(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The input cannot feed the rules: name each field, where the rules use it, the closest
/// header, and the headers there are.
pub fn unbound_error(rules: &Rules, header: &Header, input: &str, unbound: &[Unbound]) -> Error {
    let hidden = hidden_header(rules, header);
    let mut msg = String::new();
    for (i, u) in unbound.iter().enumerate() {
        if i > 0 {
            msg.push('\n');
        }
        let at = rules.source.position(&u.span);
        match &u.problem {
            Problem::Missing { closest, declared } => {
                msg.push_str(&format!("{input} has no column for field `{}` (used at {at})", u.field));
                if u.tried.len() > 1 || u.tried.first() != Some(&u.field) {
                    let tried: Vec<&str> = u.tried.iter().map(String::as_str).collect();
                    msg.push_str(&format!("\nlooked for {}", quoted(&tried)));
                }
                if let Some(d) = declared {
                    msg.push_str(&format!("\ndid you mean field `{d}`? ([fields] declares it)"));
                }
                if let Some(c) = closest.as_ref().filter(|_| hidden.is_none()) {
                    msg.push_str(&format!("\nclosest header: `{c}`"));
                }
            }
            Problem::Ambiguous { columns } => msg.push_str(&format!(
                "field `{}` (used at {at}) matches several columns of {input}: {}; name one exactly under [fields]",
                u.field,
                quoted(&columns.iter().map(String::as_str).collect::<Vec<_>>())
            )),
            Problem::Duplicate { column } => msg.push_str(&format!(
                "field `{}` (used at {at}) reads column `{column}`, which appears more than once in {input}'s header",
                u.field
            )),
        }
    }
    msg.push_str(&headers_lines(rules, input, header, None));
    if let Some(hint) = delimiter_hint(header) {
        msg.push_str(&format!("\n{hint}"));
    }
    if unbound
        .iter()
        .any(|u| matches!(u.problem, Problem::Missing { .. }))
    {
        msg.push_str("\nfix the name in the rules, list the header under [fields], or mark the field `optional = true`");
    }
    Error::Data(msg)
}
