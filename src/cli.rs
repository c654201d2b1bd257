//! The command line: flags parsed by clap, then handed to one subcommand's `run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use jiff::civil::Date;

use crate::cmd;
use crate::error::{Error, Exit, Result};
use crate::rules::{self, Rules};
use crate::ui::Ui;

const ABOUT: &str = "Score, tier and route CRM contacts to sales, marketing or suppression";

const LONG_ABOUT: &str = "\
Score, tier and route CRM contacts to sales, marketing or suppression.

Each contact in a CSV export gets a score from the rules in rules.toml, a tier
(cold, warm, optionally hot) and a queue: warm leads go to sales, cold ones to
marketing, contacts who must not be contacted are suppressed.";

const AFTER_HELP: &str = "\
Examples:
  leadsort classify contacts.csv                   score to stdout (CSV)
  leadsort classify contacts.csv --split out/      one file per queue
  leadsort classify -r rules.toml - < contacts.csv read stdin

Rules are found at --rules PATH, else $LEADSORT_RULES, else ./rules.toml.
Exit codes: 0 ok, 2 usage, 65 bad input data, 66 input missing, 70 bug,
73 output cannot be created, 74 I/O error, 75 another run holds the lock,
78 rules.toml error.";

#[derive(Debug, Parser)]
#[command(name = "leadsort", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Print only errors on stderr, and what must not go unsaid (rows rejected, no contacts,
    /// files removed or put back, warnings that fail a run); the output asked for still goes
    /// to stdout
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also print the run summary when stderr is not a terminal
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score, tier and route every contact
    Classify(cmd::classify::Args),
    /// Validate rules.toml, lint it, run its [[test]]s, and show how it fits a CSV
    Check(cmd::check::Args),
    /// Show one contact's score rule by rule
    Explain(cmd::explain::Args),
    /// Write a commented starter rules.toml, from a CSV's headers if given
    Init(cmd::init::Args),
    /// Show what a rule change would move between tiers and queues
    Diff(cmd::diff::Args),
    /// Show the balance of a run: queues against sales capacity, tiers, the score
    /// distribution, each rule's hits (in the terminal, or as an HTML page)
    Report(cmd::report::Args),
    /// Check the rules against contacts whose outcome is known, and suggest points,
    /// thresholds and rules
    Calibrate(cmd::calibrate::Args),
}

/// Where the rules come from: `--rules`, else `$LEADSORT_RULES`, else `./rules.toml`.
#[derive(Debug, Clone, clap::Args)]
pub struct RulesArg {
    /// The rules file (/dev/stdin when the contacts are in a file) [default:
    /// $LEADSORT_RULES if set and not empty, else ./rules.toml]
    #[arg(short = 'r', long = "rules", value_name = "PATH")]
    pub rules: Option<PathBuf>,
}

/// The environment variable naming the rules file when `--rules` is not given.
const RULES_ENV: &str = "LEADSORT_RULES";

impl RulesArg {
    /// The path given: `--rules`, else a non-empty `$LEADSORT_RULES` (an empty one, as a
    /// crontab's `LEADSORT_RULES=` leaves it, counts as unset).
    fn given(&self) -> Option<PathBuf> {
        self.rules.clone().or_else(|| {
            std::env::var_os(RULES_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }

    /// Whether the path is the assumed `./rules.toml` rather than one the user gave.
    pub fn defaulted(&self) -> bool {
        self.given().is_none()
    }

    pub fn path(&self) -> PathBuf {
        self.given().unwrap_or_else(|| PathBuf::from("rules.toml"))
    }

    /// Read and validate the rules file. One that $LEADSORT_RULES named and that cannot be
    /// read says where its path came from.
    pub fn load(&self) -> Result<Rules> {
        let from_env = self.rules.is_none() && !self.defaulted();
        load_rules(&self.path(), self.defaulted()).map_err(|e| match e {
            Error::NoInput { path, source } if from_env => Error::NoInput {
                path,
                source: std::io::Error::new(
                    source.kind(),
                    format!("{source} (the path is $LEADSORT_RULES's)"),
                ),
            },
            other => other,
        })
    }
}

/// Read and validate a rules file. `defaulted`: the path was not given, only assumed.
pub fn load_rules(path: &std::path::Path, defaulted: bool) -> Result<Rules> {
    let text = read_rules_text(path, defaulted)?;
    Ok(rules::from_str(path, &text)?)
}

/// The rules file's text; a missing file is exit 66 with a hint when the path was assumed.
pub fn read_rules_text(path: &std::path::Path, defaulted: bool) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        let not_found = e.kind() == std::io::ErrorKind::NotFound;
        let hint = match (defaulted, not_found) {
            (true, true) => " (no --rules given and LEADSORT_RULES is not set or empty, so \
                             leadsort looked in the current folder; `leadsort init contacts.csv` \
                             writes a starter)"
                .to_string(),
            (false, true) => format!(
                " (`leadsort init contacts.csv -o {}` writes a starter there)",
                path.display()
            ),
            _ => String::new(),
        };
        Error::NoInput {
            path: path.to_path_buf(),
            source: std::io::Error::new(e.kind(), format!("{}{hint}", crate::error::plain(&e))),
        }
    })?;
    rules::text_of(path, bytes)
}

/// `--as-of DATE`: the day day-based rules count from (reproducible runs).
#[derive(Debug, Clone, clap::Args)]
pub struct AsOfArg {
    /// Count day-based rules (within_days, older_than_days) and decay from this date
    /// (YYYY-MM-DD)
    /// instead of today
    #[arg(long = "as-of", value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
}

impl AsOfArg {
    /// The date given, else today in the local time zone.
    pub fn date(&self) -> Date {
        self.as_of.unwrap_or_else(crate::cmd::today)
    }
}

/// How to read the input: CSV, or a workbook.
#[derive(Debug, Clone, clap::Args)]
pub struct CsvArgs {
    /// The input's field delimiter: one character, or `tab` [default: Excel's `sep=` line,
    /// tab for .tsv, else sniffed from the header: `,` `;` tab `|`]. A workbook has none: the
    /// flag does not apply to it
    #[arg(short = 'd', long, value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,

    /// The sheet to read when the input is a workbook (XLSX, XLSM, XLS, ODS), by its name
    /// (case ignored if only one sheet matches) [default: the first that is not hidden]
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,

    /// The input's text encoding, e.g. windows-1252 for older Excel exports, or utf-16le
    /// [default: UTF-8, or UTF-16 when the file starts with its byte order mark]
    #[arg(long, value_name = "LABEL", value_parser = parse_encoding)]
    pub encoding: Option<&'static encoding_rs::Encoding>,

    /// Skip N rows above the header: a title, notes, a merged heading (blank rows are not
    /// counted)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip_rows: usize,

    /// Reject any record larger than SIZE bytes (suffixes K, M; at most 1024M), keeping memory
    /// bounded
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "1M")]
    pub max_record_size: usize,
}

impl CsvArgs {
    pub fn options(&self) -> crate::input::Options {
        crate::input::Options {
            delimiter: self.delimiter,
            encoding: self.encoding,
            max_record: self.max_record_size,
            hash: false,
            skip_rows: self.skip_rows,
            sheet: self.sheet.clone(),
        }
    }
}

/// An encoding label as browsers know them: utf-8, windows-1252, latin1, utf-16le, ...
fn parse_encoding(s: &str) -> std::result::Result<&'static encoding_rs::Encoding, String> {
    encoding_rs::Encoding::for_label(s.trim().as_bytes())
        .or_else(|| {
            s.eq_ignore_ascii_case("utf16")
                .then_some(encoding_rs::UTF_16LE)
        })
        .ok_or_else(|| {
            "expected an encoding such as utf-8, windows-1252, latin1, utf-16le".to_string()
        })
}

/// The largest record size: 1 GiB. Far above any real contact; sizes near `usize::MAX`
/// would overflow the reader's arithmetic.
const MAX_RECORD_SIZE: usize = 1 << 30;

/// `4096`, `64K`, `1M`, up to `1024M`.
fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().last() {
        Some((i, c)) if c.eq_ignore_ascii_case(&'k') => (&s[..i], 1 << 10),
        Some((i, c)) if c.eq_ignore_ascii_case(&'m') => (&s[..i], 1 << 20),
        _ => (s, 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|n| (1..=MAX_RECORD_SIZE).contains(n))
        .ok_or_else(|| {
            "expected a size in bytes from 1 to 1024M, such as 65536, 64K or 1M".to_string()
        })
}

fn parse_delimiter(s: &str) -> std::result::Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" && s != "\r" => {
            Ok(s.as_bytes()[0])
        }
        _ => Err("expected one ASCII character (e.g. ';' or '|'), or `tab`".to_string()),
    }
}

/// The delimiter CSV output is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputDelimiter {
    Char(u8),
    /// Whatever the input's is.
    Input,
}

/// `--output-delimiter`: a delimiter as for `-d`, or `input`.
pub fn parse_output_delimiter(s: &str) -> std::result::Result<OutputDelimiter, String> {
    if s == "input" {
        return Ok(OutputDelimiter::Input);
    }
    parse_delimiter(s)
        .map(OutputDelimiter::Char)
        .map_err(|e| format!("{e}, or `input` (the input's)"))
}

/// Permission bits in octal: `600`, `0644`.
pub fn parse_mode(s: &str) -> std::result::Result<u32, String> {
    u32::from_str_radix(s.trim().trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| "expected permission bits in octal, such as 600 or 644".to_string())
}

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> std::result::Result<Date, String> {
    crate::engine::cell::parse_iso_date(s.trim())
        .filter(|_| s.trim().len() == 10)
        .ok_or_else(|| "expected a date like 2026-11-27".to_string())
}

/// Run leadsort with the process's arguments; the exit code follows DESIGN.md.
pub fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        if crate::error::library_panicking() {
            // Caught where it happens and reported there as the fault it is.
            return;
        }
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()));
        crate::ui::to_stderr(&format!(
            "leadsort: error: internal error (a bug in leadsort, please report it){}\n",
            location.unwrap_or_default()
        ));
        std::process::exit(Exit::Internal as i32);
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if !e.use_stderr() {
                // --help and --version: not errors, printed on stdout.
                let _ = e.print();
                return Exit::Success.into();
            }
            // Every line prefixed, blank lines dropped: cron mails one line per problem.
            for line in e
                .render()
                .to_string()
                .lines()
                .filter(|l| !l.trim().is_empty())
            {
                crate::ui::to_stderr(&format!("leadsort: {line}\n"));
            }
            return Exit::Usage.into();
        }
    };
    let ui = Ui::new(cli.quiet, cli.verbose);
    match run(cli.command, &ui) {
        Ok(()) => Exit::Success.into(),
        Err(e) => {
            crate::ui::to_stderr(&e.render(ui.color));
            ExitCode::from(e.code())
        }
    }
}

pub fn run(command: Command, ui: &Ui) -> Result<()> {
    // `-o -` is stdout, as `-` is stdin for an input (and as init takes it).
    let stdout = |o: &mut Option<PathBuf>| {
        if o.as_deref() == Some(Path::new("-")) {
            *o = None;
        }
    };
    // Files that must be files: stdout carries the rows (or the report).
    let not_stdout = |option: &str, o: &Option<PathBuf>| match o.as_deref() == Some(Path::new("-"))
    {
        true => Err(Error::Usage(format!(
            "{option} -: stdout carries the output; give {option} a file"
        ))),
        false => Ok(()),
    };
    // `None`, `-` or a name of stdin (`/dev/stdin`): the contacts are on stdin.
    let on_stdin = |input: Option<&Path>| {
        input.is_none_or(|p| p == Path::new("-") || cmd::FileId::is_stdin(p))
    };
    let stdin_once = |input: Option<&Path>, rules: &RulesArg| {
        cmd::refuse_stdin_twice(on_stdin(input), &[&rules.path()])
    };
    // A compressed file's name: writing plain text under it would fool whoever reads it.
    let uncompressed = |option: &str, o: &Option<PathBuf>| {
        let Some((path, ext)) = o.as_deref().and_then(|p| Some((p, compression(p)?))) else {
            return Ok(());
        };
        Err(Error::Usage(format!(
            "{option} {path}: leadsort does not compress what it writes; name the file \
             without .{ext} and compress it afterwards, or pipe stdout through a compressor \
             (`| {tool} > {path}`)",
            path = path.display(),
            tool = match ext.as_str() {
                "gz" | "gzip" | "tgz" => "gzip",
                "zst" => "zstd",
                "bz2" => "bzip2",
                "xz" => "xz",
                _ => "your compressor",
            },
        )))
    };
    match command {
        Command::Classify(mut args) => {
            stdin_once(args.input.as_deref(), &args.rules)?;
            uncompressed("-o", &args.output)?;
            uncompressed("--rejected", &args.rejected)?;
            uncompressed("--summary", &args.summary)?;
            stdout(&mut args.output);
            not_stdout("--summary", &args.summary)?;
            not_stdout("--rejected", &args.rejected)?;
            not_stdout("--lock", &args.lock)?;
            cmd::classify::run(&args, ui)
        }
        Command::Check(args) => {
            // Without a CSV, check reads no stdin.
            let csv_on_stdin = args.input.as_deref().is_some_and(|p| on_stdin(Some(p)));
            cmd::refuse_stdin_twice(csv_on_stdin, &[&args.rules.path()])?;
            cmd::check::run(&args, ui)
        }
        Command::Explain(args) => {
            stdin_once(Some(&args.input), &args.rules)?;
            cmd::explain::run(&args, ui)
        }
        Command::Init(args) => cmd::init::run(&args, ui),
        Command::Diff(mut args) => {
            cmd::refuse_stdin_twice(on_stdin(args.input.as_deref()), &[&args.old, &args.new])?;
            uncompressed("-o", &args.output)?;
            stdout(&mut args.output);
            cmd::diff::run(&args, ui)
        }
        Command::Report(mut args) => {
            stdin_once(args.input.as_deref(), &args.rules)?;
            uncompressed("-o", &args.output)?;
            uncompressed("--html", &args.html)?;
            stdout(&mut args.output);
            cmd::report::run(&args, ui)
        }
        Command::Calibrate(mut args) => {
            stdin_once(args.input.as_deref(), &args.rules)?;
            uncompressed("-o", &args.output)?;
            uncompressed("--write-rules", &args.write_rules)?;
            stdout(&mut args.output);
            not_stdout("--write-rules", &args.write_rules)?;
            cmd::calibrate::run(&args, ui)
        }
    }
}

/// The compression a file name asks for (`gz` of `out.csv.gz`), if any.
fn compression(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    [
        "gz", "gzip", "tgz", "zst", "bz2", "xz", "zip", "7z", "lz4", "br",
    ]
    .contains(&ext.as_str())
    .then_some(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter(";"), Ok(b';'));
        assert_eq!(parse_delimiter("tab"), Ok(b'\t'));
        assert_eq!(parse_delimiter("\\t"), Ok(b'\t'));
        assert!(parse_delimiter(";;").is_err());
        assert_eq!(parse_output_delimiter(";"), Ok(OutputDelimiter::Char(b';')));
        assert_eq!(parse_output_delimiter("input"), Ok(OutputDelimiter::Input));
        assert!(parse_output_delimiter("\"\"").is_err());
        assert!(parse_delimiter("\"").is_err());
        assert!(parse_delimiter("é").is_err());
    }

    #[test]
    fn encodings_and_sizes() {
        assert_eq!(
            parse_encoding("windows-1252"),
            Ok(encoding_rs::WINDOWS_1252)
        );
        assert_eq!(parse_encoding("latin1"), Ok(encoding_rs::WINDOWS_1252));
        assert_eq!(parse_encoding("UTF-16LE"), Ok(encoding_rs::UTF_16LE));
        assert!(parse_encoding("klingon").is_err());
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("1m"), Ok(1 << 20));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("0").is_err());
        assert_eq!(parse_size("1024M"), Ok(1 << 30));
        assert!(parse_size("1025M").is_err());
        assert!(parse_size("18446744073709551615").is_err());
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn as_of_dates() {
        assert_eq!(
            parse_date("2026-11-27"),
            Ok(Date::new(2026, 11, 27).unwrap())
        );
        assert!(parse_date("2026-11-27T10:00").is_err());
        assert!(parse_date("27.11.2026").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
