//! `leadsort init`: write a commented starter rules.toml, for a generic B2B CSV or from the
//! header (and first rows) of a CRM export.
//!
//! The story: refuse to overwrite, survey the CSV's columns against a catalogue of the headers
//! CRM exports use, pick the starter rules for what was found, render them as commented TOML,
//! make sure leadsort itself accepts the result, then write it atomically.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use jiff::civil::{Date, DateTime};

use crate::cli::CsvArgs;
use crate::engine::cell::{parse_bool, parse_date, parse_iso_date, parse_number};
use crate::engine::{Binding, Engine, Header, Outcome};
use crate::error::{Error, Result};
use crate::input::{self, Input, Next, Record, Source};
use crate::output::{AtomicFile, Target};
use crate::rules::toml_string;
use crate::rules::{self, FieldKind, Rules};
use crate::ui::plural;
use crate::ui::{Ui, Verbosity};

const EXAMPLES: &str = "\
Examples:
  # Starter rules for your CRM export: reads the header and the first rows
  leadsort init contacts.csv

  # Then check them against the export, and run them
  leadsort check --rules rules.toml contacts.csv
  leadsort classify --rules rules.toml contacts.csv > scored.csv

  # A generic commented starter, printed instead of written
  leadsort init -o -

  # A semicolon-separated export; replace an earlier file
  leadsort init -d ';' --force -o rules/hubspot.toml export.csv

init knows the column names of HubSpot, Salesforce, Pipedrive, Mautic and Zoho
exports and of plain spreadsheets (job_title, company_size, page_views, ...),
and writes a commented starter rule or two for each one it finds. It never
replaces an existing file unless --force.";

/// Write a commented starter rules.toml, from a CSV's headers if given.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// A CRM export or spreadsheet (CSV) to write rules for; `-` reads stdin. Without it,
    /// init writes a starter for a generic B2B CSV
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Where to write the rules; `-` prints them on stdout
    #[arg(short, long, value_name = "PATH", default_value = "rules.toml")]
    pub output: PathBuf,

    /// Replace PATH if it already exists
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub csv: CsvArgs,
}

/// How many data rows init reads to see how a column's cells are written: enough for a day
/// past the 12th to tell a date's order, in an export sorted by date too.
const SAMPLE_ROWS: usize = 500;

/// The date the example `[[test]]`s are computed for, so the file init writes does not depend
/// on the day it runs.
const TEST_AS_OF: Date = jiff::civil::date(2026, 11, 27);

pub fn run(args: &Args, ui: &Ui) -> Result<()> {
    let output = Output::from_arg(&args.output);
    let source = args.input.as_deref().map(|p| Source::from_arg(Some(p)));
    if source == Some(Source::Stdin) && io::stdin().is_terminal() {
        return Err(Error::Usage(
            "no input: give a CSV file (leadsort init contacts.csv) or pipe one into stdin".into(),
        ));
    }
    refuse_to_overwrite(&output, source.as_ref(), args.force)?;

    let survey = match &source {
        Some(source) => Survey::of_csv(source, &args.csv.options())?,
        None => Survey::generic(),
    };
    let starter = Starter::for_survey(&survey);
    let text = rules_file(&survey, &starter, &output)?;
    write(&output, &text, args.force)?;

    report(ui, &survey, &starter, &output);
    Ok(())
}

// ---- where the rules go ---------------------------------------------------------------------

/// `-o PATH`, or `-o -` for stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    fn from_arg(arg: &Path) -> Output {
        if arg.as_os_str() == "-" {
            Output::Stdout
        } else {
            Output::File(arg.to_path_buf())
        }
    }

    /// The rules path to show in comments and hints: stdout output is meant to become a file.
    fn rules_path(&self) -> String {
        match self {
            Output::Stdout => "rules.toml".to_string(),
            Output::File(p) => p.display().to_string(),
        }
    }
}

/// A rules file someone wrote is never replaced without `--force`; nor is the CSV being read.
fn refuse_to_overwrite(output: &Output, input: Option<&Source>, force: bool) -> Result<()> {
    let Output::File(path) = output else {
        return Ok(());
    };
    let csv = match input {
        Some(Source::File(csv)) => super::FileId::of(csv),
        Some(Source::Stdin) => super::FileId::of_stdin(),
        None => None,
    };
    if csv.is_some() && csv == super::FileId::of(path) {
        return Err(Error::Usage(format!(
            "{} is both the CSV to read and the rules file to write; give another -o PATH",
            path.display()
        )));
    }
    // Only a regular file holds someone's work; /dev/null and the like are written in place.
    if !force && std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Err(Error::CantCreate {
            path: path.clone(),
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                "it already exists, and init does not replace files\n\
                 use --force to replace it, or -o PATH to write the rules elsewhere (-o - prints them)",
            ),
        });
    }
    Ok(())
}

/// Write the whole text at once: a file appears complete or not at all. A rules file is
/// readable by all (it holds no contact data: a cron job running as another user may read
/// it), and without `--force` it never replaces a file, even one that appeared meanwhile.
fn write(output: &Output, text: &str, force: bool) -> Result<()> {
    let path = match output {
        Output::File(path) if !crate::output::is_special(path) => path,
        _ => {
            let mut target = match output {
                Output::File(path) => Target::file(path)?,
                Output::Stdout => Target::stdout(),
            };
            target
                .write_all(text.as_bytes())
                .map_err(|e| Error::io(format!("cannot write {}", target.name()), e))?;
            return target.commit();
        }
    };
    let mut file = AtomicFile::create(path)?;
    file.set_mode(crate::output::shared_mode())?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::writing(path, e))?;
    if force {
        file.commit()
    } else {
        file.commit_new()
    }
}

/// What was written, and what to do next (stderr, unless `-q`).
fn report(ui: &Ui, survey: &Survey, starter: &Starter, output: &Output) {
    if let (Some(input), Some(first)) = (&survey.input, survey.not_utf8) {
        ui.warn(&crate::input::not_utf8_warning(input, first));
    }
    for found in survey.found.iter().filter(|f| !f.typed()) {
        ui.warn(&format!(
            "column `{}` looks like {}, but fewer than 4 in 5 of its first cells are {}: {}",
            found.header,
            found.known.about,
            kind_plural(found.known.kind),
            if found.rules().is_empty() {
                "no rule reads it yet (see the comment in the rules)"
            } else {
                "read as text, and matched against words instead (see the comment in the rules)"
            }
        ));
    }
    for found in &survey.found {
        if let Reading::AsExpected {
            formats,
            assumed_month_first: true,
            ..
        } = &found.reading
        {
            let swapped = formats[0].replacen("%m/%d", "%d/%m", 1);
            ui.warn(&format!(
                "every date of column `{}` in the rows read could be month first or day first: \
                 init took month first (\"{}\"); if the export writes the day first, change it \
                 to \"{swapped}\" under [fields]",
                found.header, formats[0]
            ));
        }
    }
    // A fail-closed rule that would keep most contacts away: the column's "no" is a word
    // the list lacks (`Not opted out`), and the first run would suppress nearly everyone.
    for found in &survey.found {
        let fails_closed = found.known.field == "do_not_call"
            || (found.known.field == "unsubscribed" && !found.typed());
        if fails_closed && survey.sampled > 0 && found.kept_away * 2 > survey.sampled {
            ui.warn(&format!(
                "the rule on column `{}` keeps {} of the {} sampled contacts away (any value but \
                 an empty cell or a clear no does): if the column's word for \"may be \
                 contacted\" is not in its list, add it there (see the comment in the rules)",
                crate::ui::printable(&found.header),
                found.kept_away,
                survey.sampled
            ));
        }
    }
    let repeated = survey.header.duplicates();
    if let Some(input) = &survey.input
        && !repeated.is_empty()
    {
        ui.warn(&format!(
            "the header of {input} repeats {}: repeated columns are left out (a rule could not \
             tell them apart); rename them to use them",
            super::quoted(&repeated)
        ));
    }
    if let Some(input) = &survey.input
        && starter.rules.is_empty()
        && starter.routes.is_empty()
    {
        // A title above the table (a merged heading): one cell of the first row filled.
        let names = &survey.header.names;
        let filled = names.iter().filter(|n| !n.trim().is_empty()).count();
        ui.warn(&format!(
            "none of the columns of {input}{} is one leadsort knows: the rules file has no rules \
             yet; add your own (it shows how){}",
            if repeated.is_empty() {
                ""
            } else {
                " that appear once"
            },
            if names.len() > 1 && filled <= 1 {
                "; the first row has at most one cell filled: if it is a title above the \
                 header, pass --skip-rows 1"
            } else {
                ""
            }
        ));
    }
    if ui.verbosity == Verbosity::Quiet {
        return;
    }
    let whereto = match output {
        Output::Stdout => "the rules to stdout".to_string(),
        Output::File(p) => p.display().to_string(),
    };
    let counts = format!(
        "{} and {}",
        plural(starter.rules.len(), "rule"),
        plural(starter.routes.len(), "route")
    );
    let rules = shell_word(&output.rules_path());
    let csv = &survey.csv;
    let lines = match &survey.input {
        Some(input) => {
            format!(
                "wrote {whereto} ({counts} from {} recognised {} of {input})\n\
                 next: leadsort check --rules {rules} {csv}\n\
                 then: leadsort classify --rules {rules} {csv} > scored.csv",
                survey.recognised(),
                if survey.recognised() == 1 {
                    "column"
                } else {
                    "columns"
                },
            )
        }
        None => format!(
            "wrote {whereto} ({counts}: a starter for a generic B2B contacts CSV)\n\
             next: edit it for your CSV's columns, or run `leadsort init contacts.csv` to start from your export\n\
             then: leadsort check --rules {rules} contacts.csv"
        ),
    };
    ui.block(&lines);
}

// ---- the catalogue of known columns ----------------------------------------------------------

/// A column that CRM exports and spreadsheets have, the `[fields]` name the rules give it, and
/// the starter rules written when an export has it.
#[derive(Debug)]
struct Known {
    /// The `[fields]` name the rules use.
    field: &'static str,
    /// What the column holds, for comments and messages.
    about: &'static str,
    /// How its cells read; a number, date or bool column is checked against the first rows.
    kind: FieldKind,
    /// The headers exports give it, in order of preference; matched ignoring case, spaces and
    /// punctuation. `plain` is one of them.
    headers: &'static [&'static str],
    /// The spreadsheet name, for the generic starter (`None`: not in the generic starter).
    plain: Option<&'static str>,
    /// The ideal lead's value, for the example `[[test]]` ("": none).
    ideal: &'static str,
    /// Rules when the cells read as `kind`.
    rules: &'static [Rule],
    /// Rules when most cells do not read as `kind` (the field is then plain text).
    text_rules: &'static [Rule],
    routes: &'static [Route],
    /// The column identifies contacts: `[input] id`, not a field.
    is_id: bool,
    /// The column can say a contact must not be contacted: a value saying so, when the cells
    /// read as `kind` and when they are text (for the example `[[test]]`).
    disqualifying: Option<(&'static str, &'static str)>,
}

impl Known {
    const TEXT: Known = Known {
        field: "",
        about: "",
        kind: FieldKind::Text,
        headers: &[],
        plain: None,
        ideal: "",
        rules: &[],
        text_rules: &[],
        routes: &[],
        is_id: false,
        disqualifying: None,
    };
}

/// Every column init knows, in the order fields are written. Header names are unique across
/// the catalogue (a unit test checks).
const CATALOGUE: &[Known] = &[
    Known {
        field: "id",
        about: "the contact's id",
        headers: &["id", "Record ID", "Contact ID", "Lead ID", "Person - ID"],
        plain: Some("id"),
        is_id: true,
        ..Known::TEXT
    },
    Known {
        field: "email",
        about: "the email address",
        headers: &[
            "email",
            "Email Address",
            "Person - Email",
            "Person - Email - Work",
            "Work Email",
            "Primary Email",
        ],
        plain: Some("email"),
        ideal: "ada@example.com",
        rules: EMAIL_RULES,
        ..Known::TEXT
    },
    Known {
        field: "title",
        about: "the job title",
        headers: &[
            "job_title",
            "Person - Job title",
            "Designation",
            "position",
            "Job Position",
            "Title",
        ],
        plain: Some("job_title"),
        ideal: "VP of Marketing",
        rules: TITLE_RULES,
        ..Known::TEXT
    },
    Known {
        field: "company",
        about: "the company name",
        headers: &[
            "Company Name",
            "company",
            "Account Name",
            "Organization - Name",
            "Person - Organization",
            "Organization",
        ],
        ideal: "Example Ltd",
        rules: COMPANY_RULES,
        ..Known::TEXT
    },
    Known {
        field: "employees",
        about: "the company size",
        kind: FieldKind::Number,
        headers: &[
            "Number of Employees",
            "No. of Employees",
            "Employees",
            "Organization - Number of employees",
            "Organization - Employees",
            "company_size",
            "employee_count",
        ],
        plain: Some("company_size"),
        ideal: "250",
        rules: EMPLOYEES_RULES,
        ..Known::TEXT
    },
    Known {
        field: "revenue",
        about: "the annual revenue",
        kind: FieldKind::Number,
        headers: &["Annual Revenue", "Organization - Annual revenue", "Revenue"],
        ideal: "5,000,000",
        rules: REVENUE_RULES,
        ..Known::TEXT
    },
    Known {
        field: "industry",
        about: "the industry",
        headers: &["industry", "Organization - Industry", "Sector"],
        plain: Some("industry"),
        ideal: "Software",
        rules: INDUSTRY_RULES,
        ..Known::TEXT
    },
    Known {
        field: "country",
        about: "the country",
        headers: &[
            "Country/Region",
            "country",
            "MailingCountry",
            "Billing Country",
            "Person - Country",
            "Organization - Country",
        ],
        plain: Some("country"),
        ideal: "United States",
        rules: COUNTRY_RULES,
        ..Known::TEXT
    },
    Known {
        field: "source",
        about: "the lead source",
        headers: &[
            "lead_source",
            "Original Source",
            "Source",
            "Person - Source",
        ],
        plain: Some("lead_source"),
        ideal: "Partner referral",
        rules: SOURCE_RULES,
        ..Known::TEXT
    },
    Known {
        field: "lifecycle_stage",
        about: "the lifecycle stage",
        headers: &["lifecycle_stage", "stage", "Person - Label", "Lifecycle"],
        plain: Some("lifecycle_stage"),
        routes: LIFECYCLE_ROUTES,
        ..Known::TEXT
    },
    Known {
        field: "lead_status",
        about: "the lead status",
        headers: &["lead_status", "Status", "Sales Status", "hs_lead_status"],
        plain: Some("lead_status"),
        routes: LEAD_STATUS_ROUTES,
        ..Known::TEXT
    },
    Known {
        field: "page_views",
        about: "the number of page views",
        kind: FieldKind::Number,
        headers: &["page_views", "Number of Pageviews"],
        plain: Some("page_views"),
        ideal: "12",
        rules: PAGE_VIEWS_RULES,
        ..Known::TEXT
    },
    Known {
        field: "visits",
        about: "the number of visits to the website",
        kind: FieldKind::Number,
        headers: &["visits", "Number of Sessions", "TotalVisits", "Sessions"],
        ideal: "5",
        rules: VISITS_RULES,
        ..Known::TEXT
    },
    Known {
        field: "time_on_site",
        about: "the time spent on the website, in seconds",
        kind: FieldKind::Number,
        headers: &[
            "time_on_site",
            "Total Time Spent on Website",
            "Time Spent on Website",
        ],
        ideal: "900",
        rules: TIME_ON_SITE_RULES,
        ..Known::TEXT
    },
    Known {
        field: "email_clicks",
        about: "the number of email clicks",
        kind: FieldKind::Number,
        headers: &[
            "email_clicks",
            "Marketing emails clicked",
            "Emails Clicked",
            "clicks",
        ],
        plain: Some("email_clicks"),
        ideal: "3",
        rules: EMAIL_CLICKS_RULES,
        ..Known::TEXT
    },
    Known {
        field: "email_opens",
        about: "the number of email opens",
        kind: FieldKind::Number,
        headers: &[
            "email_opens",
            "Marketing emails opened",
            "Emails Opened",
            "opens",
        ],
        ideal: "8",
        rules: EMAIL_OPENS_RULES,
        ..Known::TEXT
    },
    Known {
        field: "crm_score",
        about: "the CRM's own lead score",
        kind: FieldKind::Number,
        headers: &["lead_score", "points", "HubSpot Score"],
        ideal: "60",
        rules: CRM_SCORE_RULES,
        ..Known::TEXT
    },
    Known {
        field: "demo",
        about: "a demo request",
        kind: FieldKind::Bool,
        headers: &["demo_requested", "Requested Demo", "Demo Request", "demo"],
        plain: Some("demo_requested"),
        ideal: "yes",
        rules: DEMO_RULES,
        ..Known::TEXT
    },
    Known {
        field: "webinar",
        about: "webinar attendance",
        kind: FieldKind::Bool,
        headers: &["webinar_attended", "Attended Webinar", "webinar"],
        plain: Some("webinar_attended"),
        ideal: "yes",
        rules: WEBINAR_RULES,
        ..Known::TEXT
    },
    Known {
        field: "pricing_visits",
        about: "the number of pricing page visits",
        kind: FieldKind::Number,
        headers: &[
            "pricing_page_visits",
            "Pricing Page Views",
            "pricing_visits",
        ],
        ideal: "2",
        rules: PRICING_RULES,
        ..Known::TEXT
    },
    Known {
        field: "last_activity",
        about: "the last activity date",
        kind: FieldKind::Date,
        headers: &[
            "last_activity_date",
            "Last Activity Time",
            "Person - Last activity date",
            "last_active",
            "Last Engagement Date",
            "Last Activity",
        ],
        plain: Some("last_activity_date"),
        ideal: "2026-11-20",
        rules: LAST_ACTIVITY_RULES,
        ..Known::TEXT
    },
    Known {
        field: "created",
        about: "the date the contact was created",
        kind: FieldKind::Date,
        headers: &[
            "Create Date",
            "created_date",
            "Created Time",
            "Created At",
            "date_added",
            "Person - Person created",
            "Created",
        ],
        ideal: "2026-10-02",
        rules: CREATED_RULES,
        ..Known::TEXT
    },
    Known {
        field: "unsubscribed",
        about: "an email opt-out",
        kind: FieldKind::Bool,
        headers: &[
            "unsubscribed",
            "Unsubscribed from all email",
            "HasOptedOutOfEmail",
            "Email Opt Out",
            "opted_out",
            "doNotContact",
            "dnc",
            "Do Not Email",
            "Global Unsubscribe",
            "Opted out of email",
            "Opt Out",
            "Person - Marketing status",
        ],
        plain: Some("unsubscribed"),
        ideal: "no",
        rules: OPT_OUT_RULES,
        text_rules: OPT_OUT_TEXT_RULES,
        disqualifying: Some(("yes", "unsubscribed")),
        ..Known::TEXT
    },
    Known {
        field: "do_not_call",
        about: "a do-not-call flag",
        // Read as text: its route lists the words of a no, so any other value counts.
        kind: FieldKind::Text,
        // Matched ignoring case, spaces and punctuation: `DoNotCall`, `do_not_call` too.
        headers: &["Do Not Call", "DNC Phone", "Phone Opt Out"],
        ideal: "no",
        routes: DO_NOT_CALL_ROUTES,
        ..Known::TEXT
    },
];

/// What a starter rule scores: who they are, what they did, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Fit,
    Engagement,
    /// Added to the score as it is (and every disqualifier).
    Neither,
}

/// What a matching starter rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gives {
    Points(i64),
    /// `points_per` on the rule's own field.
    PerUnit {
        points: i64,
        max: i64,
    },
    Disqualify,
}

/// A rule init writes. `when` is TOML text that names the catalogue entry's field.
#[derive(Debug)]
struct Rule {
    name: &'static str,
    side: Side,
    /// The comment above the condition: why the rule is there, and what to EDIT.
    why: &'static str,
    /// `None`: every contact (with `PerUnit`).
    when: Option<&'static str>,
    gives: Gives,
}

/// A route init writes; routes are written in `order`, then catalogue order.
#[derive(Debug)]
struct Route {
    name: &'static str,
    why: &'static str,
    when: &'static str,
    queue: &'static str,
    order: u8,
}

// The starter rules, one list per catalogue entry. Conditions continue on lines indented for
// a `when   = ` prefix.

const EMAIL_RULES: &[Rule] = &[
    Rule {
        name: "Free mail address",
        side: Side::Neither,
        why: "`domain_in` compares the part after the @: \"JANE@GMAIL.COM\" matches \"gmail.com\".\n\
              A private address on a business list is a weaker lead.",
        when: Some(
            r#"{ field = "email", domain_in = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com"] }"#,
        ),
        gives: Gives::Points(-10),
    },
    Rule {
        name: "Works for a competitor",
        side: Side::Neither,
        why: "EDIT: your competitors' email domains (this one is a placeholder).",
        when: Some(r#"{ field = "email", domain_in = ["competitor.example"] }"#),
        gives: Gives::Disqualify,
    },
];

const TITLE_RULES: &[Rule] = &[
    Rule {
        name: "Decision maker",
        side: Side::Fit,
        why: "`contains_any` looks for any of the words inside the title (\"Head of Sales\",\n\
              \"Director, Engineering\"). `matches` is a regular expression: \\b marks a word\n\
              boundary, so \"CTO\" and \"VP Sales\" match but \"Director\" (which contains\n\
              \"cto\") and \"MVP Engineer\" do not. The `not` keeps out assistants (\"Assistant\n\
              to the CEO\" mentions a CEO but is not one) and product or process owners.",
        when: Some(
            r#"{ all = [
           { any = [
               { field = "title", contains_any = ["director", "vice president", "head of", "chief", "founder"] },
               { field = "title", matches = '\b(ceo|cto|cfo|coo|cmo|cro|cio|vp|svp|evp|owner)\b' },
           ] },
           { not = { field = "title", contains_any = ["assistant", "product owner", "process owner"] } },
         ] }"#,
        ),
        gives: Gives::Points(20),
    },
    Rule {
        name: "Manager or team lead",
        side: Side::Fit,
        why: "They do not sign, but they pick what their team uses.",
        when: Some(r#"{ field = "title", contains_any = ["manager", "team lead", "supervisor"] }"#),
        gives: Gives::Points(10),
    },
    Rule {
        name: "Student or intern",
        side: Side::Fit,
        why: "Not buyers (yet). \\b keeps \"International Sales\" from counting as \"intern\".",
        when: Some(r#"{ field = "title", matches = '\b(student|intern|trainee)\b' }"#),
        gives: Gives::Points(-15),
    },
];

const COMPANY_RULES: &[Rule] = &[Rule {
    name: "No company given",
    side: Side::Fit,
    why: "An empty company name often means a private person or a student.",
    when: Some(r#"{ field = "company", missing = true }"#),
    gives: Gives::Points(-5),
}];

const EMPLOYEES_RULES: &[Rule] = &[Rule {
    name: "Company size we sell to",
    side: Side::Fit,
    why: "EDIT: the company sizes you sell to. `between` includes both ends. \"1,200\" reads as\n\
          1200; \"50-100\" or \"N/A\" cannot be read as a number, so they do not match.",
    when: Some(r#"{ field = "employees", between = [50, 5000] }"#),
    gives: Gives::Points(15),
}];

const REVENUE_RULES: &[Rule] = &[Rule {
    name: "Revenue we sell to",
    side: Side::Fit,
    why: "EDIT: the smallest annual revenue worth a sales call, in the export's currency.",
    when: Some(r#"{ field = "revenue", at_least = 1000000 }"#),
    gives: Gives::Points(10),
}];

const INDUSTRY_RULES: &[Rule] = &[Rule {
    name: "Target industry",
    side: Side::Fit,
    why: "EDIT: the industries you sell to, as your CRM writes them. `in` compares the whole\n\
          cell (case and surrounding spaces ignored): \"Computer Software\" matches\n\
          \"computer software\", \"Software Consulting\" does not (`contains_any` would).",
    when: Some(
        r#"{ field = "industry", in = ["software", "computer software", "saas", "technology", "information technology", "financial services"] }"#,
    ),
    gives: Gives::Points(10),
}];

const COUNTRY_RULES: &[Rule] = &[Rule {
    name: "Outside our sales regions",
    side: Side::Fit,
    why: "EDIT: the countries you sell in. The `present` check matters: an empty country would\n\
          otherwise satisfy the `not`, and a missing value should not cost points.",
    when: Some(
        r#"{ all = [
           { field = "country", present = true },
           { not = { field = "country", in = ["united states", "usa", "us", "canada", "united kingdom", "uk", "ireland"] } },
         ] }"#,
    ),
    gives: Gives::Points(-10),
}];

const SOURCE_RULES: &[Rule] = &[Rule {
    name: "Referred to us",
    side: Side::Neither,
    why: "\"Partner Referral\", \"Employee Referral\", \"Reference\": people someone recommended\n\
          you to buy more often. \"Referral Sites\" (web pages linking to you) is not a person's\n\
          recommendation, so sources with \"site\" in them are left out.",
    when: Some(
        r#"{ all = [{ field = "source", contains_any = ["referral", "reference", "partner", "word of mouth"] }, { not = { field = "source", contains = "site" } }] }"#,
    ),
    gives: Gives::Points(10),
}];

const PAGE_VIEWS_RULES: &[Rule] = &[Rule {
    name: "Page views",
    side: Side::Engagement,
    why: "No `when`: applies to everyone. 1 point per page view, at most 10 points, so a bot\n\
          with 1,200 views gets 10, not 1,200. An empty or unreadable cell gives 0.",
    when: None,
    gives: Gives::PerUnit { points: 1, max: 10 },
}];

const VISITS_RULES: &[Rule] = &[Rule {
    name: "Visits",
    side: Side::Engagement,
    why: "2 points per visit to the website, at most 10: coming back is a stronger sign than\n\
          one long look.",
    when: None,
    gives: Gives::PerUnit { points: 2, max: 10 },
}];

const TIME_ON_SITE_RULES: &[Rule] = &[Rule {
    name: "Time on the website",
    side: Side::Engagement,
    why: "Ten minutes or more on the website (600 seconds; EDIT if the column counts minutes).",
    when: Some(r#"{ field = "time_on_site", at_least = 600 }"#),
    gives: Gives::Points(10),
}];

const EMAIL_CLICKS_RULES: &[Rule] = &[Rule {
    name: "Email clicks",
    side: Side::Engagement,
    why: "2 points per click in a marketing email, at most 10.",
    when: None,
    gives: Gives::PerUnit { points: 2, max: 10 },
}];

const EMAIL_OPENS_RULES: &[Rule] = &[Rule {
    name: "Email opens",
    side: Side::Engagement,
    why: "Opens count less than clicks: some mail programs open every email on their own.",
    when: None,
    gives: Gives::PerUnit { points: 1, max: 5 },
}];

const CRM_SCORE_RULES: &[Rule] = &[Rule {
    name: "High score in the CRM",
    side: Side::Engagement,
    why: "EDIT: the score (Mautic points, HubSpot score) from which your CRM thinks a lead is\n\
          worth a call.",
    when: Some(r#"{ field = "crm_score", at_least = 50 }"#),
    gives: Gives::Points(10),
}];

const DEMO_RULES: &[Rule] = &[Rule {
    name: "Asked for a demo",
    side: Side::Engagement,
    why: "The strongest signal there is. `is = true` reads true, yes, 1, x (any case).",
    when: Some(r#"{ field = "demo", is = true }"#),
    gives: Gives::Points(30),
}];

const WEBINAR_RULES: &[Rule] = &[Rule {
    name: "Attended a webinar",
    side: Side::Engagement,
    why: "They gave you an hour of their time.",
    when: Some(r#"{ field = "webinar", is = true }"#),
    gives: Gives::Points(10),
}];

const PRICING_RULES: &[Rule] = &[Rule {
    name: "Looked at pricing",
    side: Side::Engagement,
    why: "Two visits or more: once can be curiosity.",
    when: Some(r#"{ field = "pricing_visits", at_least = 2 }"#),
    gives: Gives::Points(15),
}];

const LAST_ACTIVITY_RULES: &[Rule] = &[
    Rule {
        name: "Recently active",
        side: Side::Engagement,
        why: "At most 30 days before the run date (or --as-of DATE); a date in the future counts\n\
              as recent. An empty or unreadable date matches neither this rule nor the next.",
        when: Some(r#"{ field = "last_activity", within_days = 30 }"#),
        gives: Gives::Points(10),
    },
    Rule {
        name: "Gone quiet",
        side: Side::Engagement,
        why: "Nothing for more than 180 days: whatever they did back then counts for less now.",
        when: Some(r#"{ field = "last_activity", older_than_days = 180 }"#),
        gives: Gives::Points(-20),
    },
];

const CREATED_RULES: &[Rule] = &[Rule {
    name: "New lead",
    side: Side::Engagement,
    why: "Created in the last two weeks: they signed up recently and still remember you.",
    when: Some(r#"{ field = "created", within_days = 14 }"#),
    gives: Gives::Points(5),
}];

const OPT_OUT_RULES: &[Rule] = &[Rule {
    name: "Unsubscribed",
    side: Side::Neither,
    why: "Never contact them. `disqualify = true` makes the tier \"disqualified\" and the queue\n\
          \"suppressed\", whatever the score and whatever the routes say; the score is still\n\
          computed and written.",
    when: Some(r#"{ field = "unsubscribed", is = true }"#),
    gives: Gives::Disqualify,
}];

/// The words of a cell that says a contact may be contacted, for the rules that fail closed
/// (any other value keeps them away): no in the languages `parse_bool` reads, and the
/// statuses CRMs write for a subscribed contact.
macro_rules! no_words {
    () => {
        concat!(
            "[",
            no_plain!(),
            r#", "subscribed", "not subscribed", "opted in", "opted-in", "opt in", "opt-in", "double opt-in", "not opted out", "active"]"#
        )
    };
}

/// The plain no of `no_words!`, for a flag whose yes means "keep away" (do-not-call), where
/// `active` or `subscribed` may well mean the flag is on.
macro_rules! no_plain {
    () => {
        r#""no", "n", "false", "0", "nein", "falsch", "non", "faux", "falso", "não", "nao", "nee", "onwaar", "nej", "nei", "usant", "falskt", "ei", "epätosi", "nie", "fałsz""#
    };
}

const OPT_OUT_TEXT_RULES: &[Rule] = &[Rule {
    name: "Asked not to be contacted",
    side: Side::Neither,
    why: "Never contact them. Fewer than 4 in 5 of this column's cells are yes/no values, so\n\
          this rule fails closed: any value that is not a clear no disqualifies (\"Opted out\",\n\
          \"unsubscribed 2024-03-01\", \"Hard bounce\", a date...), and only an empty cell or one\n\
          of the words listed lets the contact through. EDIT: the values your CRM writes for\n\
          contacts who may be contacted. `disqualify = true` makes the queue \"suppressed\",\n\
          whatever the score.",
    when: Some(concat!(
        r#"{ all = [{ field = "unsubscribed", present = true }, { not = { field = "unsubscribed", in = "#,
        no_words!(),
        r#" } }] }"#
    )),
    gives: Gives::Disqualify,
}];

const LIFECYCLE_ROUTES: &[Route] = &[
    Route {
        name: "Customer: hand to account management",
        why: "Customers are not leads. A route may name a queue of its own: with --split\n\
              this writes customers.csv.",
        when: r#"{ field = "lifecycle_stage", in = ["customer", "evangelist"] }"#,
        queue: "customers",
        order: 1,
    },
    Route {
        name: "Open opportunity: stays with sales",
        why: "A deal is open: keep them with sales even if their score dips this week.",
        when: r#"{ field = "lifecycle_stage", in = ["opportunity", "sales qualified lead", "salesqualifiedlead"] }"#,
        queue: "sales",
        order: 3,
    },
];

const DO_NOT_CALL_ROUTES: &[Route] = &[Route {
    name: "Do not call: marketing only",
    why: "Sales calls; these contacts asked not to be called. They stay with marketing, whatever\n\
          their score and whatever the other routes say (it comes first, and the first route\n\
          that matches decides). It fails closed: any value but an empty cell or a clear no\n\
          (\"DNC\", \"Yes - asked on call\") keeps them from sales. To keep them from email\n\
          too, make it a rule with `disqualify = true` instead.",
    when: concat!(
        r#"{ all = [{ field = "do_not_call", present = true }, { not = { field = "do_not_call", in = ["#,
        no_plain!(),
        "]",
        r#" } }] }"#
    ),
    queue: "marketing",
    order: 0,
}];

const LEAD_STATUS_ROUTES: &[Route] = &[
    Route {
        name: "Sales got no answer: back to nurture",
        why: "The cycle: a lead sales worked without result goes back to marketing to be warmed\n\
              up again; when sales changes the status, the tier decides again.\n\
              EDIT: the statuses your sales team uses for that.",
        when: r#"{ field = "lead_status", in = ["unqualified", "bad timing", "not qualified", "contact in future", "lost lead", "lost", "closed lost", "closed - lost", "closed - not converted", "no decision", "no response", "not now"] }"#,
        queue: "marketing",
        order: 2,
    },
    Route {
        name: "Owned by a rep: stays with sales",
        why: "A rep is talking to them: do not pull them into a mass mailing because their\n\
              score dipped. EDIT: the statuses that mean a rep is on it.",
        when: r#"{ field = "lead_status", in = ["in progress", "open deal", "connected", "working", "working - contacted", "attempting to contact", "contacted", "meeting booked", "pre-qualified"] }"#,
        queue: "sales",
        order: 3,
    },
];

// ---- surveying the CSV -----------------------------------------------------------------------

/// What init learnt from the CSV, or assumes for the generic starter.
#[derive(Debug)]
struct Survey {
    /// The CSV's name; `None` for the generic starter.
    input: Option<String>,
    /// The CSV as the commands in hints name it (`contacts.csv` for stdin or none).
    csv: String,
    /// The CSV's header (for the generic starter, the plain names of the columns it reads).
    header: Header,
    /// The catalogue's columns found in the header, in catalogue order; not the id.
    found: Vec<Found>,
    /// The header of the column that identifies contacts.
    id: Option<String>,
    /// Headers the catalogue does not know (or that repeat), in header order.
    unknown: Vec<String>,
    /// Record and line of the first sample row that is not UTF-8 (it is left out).
    not_utf8: Option<(u64, u64)>,
    /// The rows read to judge the columns.
    sampled: usize,
}

/// A known column found in the header.
#[derive(Debug)]
struct Found {
    known: &'static Known,
    header: String,
    reading: Reading,
    /// Of the sampled rows, how many a fail-closed rule on this column (opt-out as text,
    /// do-not-call) would keep away: their cell is neither empty nor a word of `no_words!`.
    kept_away: usize,
}

/// How a found column's cells read, judged on the first rows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reading {
    /// As the catalogue expects. Dates may need extra `formats`; `note` says why.
    AsExpected {
        formats: Vec<&'static str>,
        note: Option<String>,
        /// Every date could be month or day first, and init took month first.
        assumed_month_first: bool,
    },
    /// Most cells are not of the catalogue's type (a company size of "51-200"): plain text.
    AsText,
}

impl Found {
    fn typed(&self) -> bool {
        matches!(self.reading, Reading::AsExpected { .. })
    }

    /// The field's type as written in `[fields]`.
    fn kind(&self) -> FieldKind {
        if self.typed() {
            self.known.kind
        } else {
            FieldKind::Text
        }
    }

    fn rules(&self) -> &'static [Rule] {
        if self.typed() {
            self.known.rules
        } else {
            self.known.text_rules
        }
    }

    /// Read by some rule or route, so worth a `[fields]` entry.
    fn used(&self) -> bool {
        !self.rules().is_empty() || !self.known.routes.is_empty()
    }

    /// The headers written under `[fields]`: the one found first, then the other names that
    /// exports use, so the rules read those too.
    fn columns(&self) -> Vec<&str> {
        let mut columns = vec![self.header.as_str()];
        for h in self.known.headers {
            if !columns.iter().any(|c| squash(c) == squash(h)) {
                columns.push(h);
            }
        }
        columns
    }
}

impl Survey {
    /// Read the header and the first rows of the CSV, and recognise its columns.
    fn of_csv(source: &Source, options: &input::Options) -> Result<Survey> {
        let mut input = Input::open(source, options)?;
        // A contact's row as the header would name columns after its cells, in a rules file
        // readable by others: refused, as the other commands refuse to show it. Only an
        // address, a phone number or a date gives it away here: a form's long question or a
        // numbered column is a header init must take.
        let cells = super::split_names(input.header());
        if cells.iter().any(|c| super::holds_contact_data(c)) {
            return Err(Error::Data(format!(
                "{}; init writes no rules from it",
                super::not_a_header(input.name(), super::Hidden::LooksLikeData)
            )));
        }
        let mut samples = Vec::new();
        let mut record = Record::default();
        while samples.len() < SAMPLE_ROWS {
            match input.next(&mut record)? {
                Some(Next::Contact { .. }) => samples.push(record.clone()),
                Some(Next::Rejected) => {}
                None => break,
            }
        }
        let mut survey = Survey::recognise(
            Some(input.name().to_string()),
            input.header().clone(),
            &samples,
        );
        if let Some(path) = source.path() {
            // The next commands read the file as init did: its input flags go with it.
            let mut words = Vec::new();
            if options.skip_rows > 0 {
                words.push(format!("--skip-rows {}", options.skip_rows));
            }
            if let Some(sheet) = &options.sheet {
                words.push(format!("--sheet {}", shell_word(sheet)));
            }
            if let Some(d) = options.delimiter {
                let d = if d == b'\t' {
                    "tab".to_string()
                } else {
                    (d as char).to_string()
                };
                words.push(format!("-d {}", shell_word(&d)));
            }
            if let Some(e) = options.encoding {
                words.push(format!("--encoding {}", e.name().to_lowercase()));
            }
            words.push(shell_word(&path.display().to_string()));
            survey.csv = words.join(" ");
        }
        survey.not_utf8 = input.first_not_utf8;
        Ok(survey)
    }

    /// The generic starter: the columns of a plain spreadsheet, as if a CSV had them.
    fn generic() -> Survey {
        let names = CATALOGUE.iter().filter_map(|k| k.plain).map(String::from);
        Survey::recognise(None, Header::new(names.collect()), &[])
    }

    /// Match each catalogue entry to the first of its headers present, each column at most
    /// once. A header that repeats is left out: the rules could not tell the columns apart.
    fn recognise(input: Option<String>, header: Header, samples: &[Record]) -> Survey {
        let repeated = header.duplicates();
        let mut claimed = vec![false; header.len()];
        let mut found = Vec::new();
        let mut id = None;
        for known in CATALOGUE {
            let column = known.headers.iter().find_map(|alias| {
                (0..header.len()).find(|&i| {
                    !claimed[i]
                        && !repeated.contains(&header.names[i].as_str())
                        && squash(&header.names[i]) == squash(alias)
                })
            });
            let Some(i) = column else { continue };
            claimed[i] = true;
            let name = header.names[i].clone();
            if known.is_id {
                id = Some(name);
                continue;
            }
            let cells: Vec<&str> = samples
                .iter()
                .map(|r| r.get(i).unwrap_or("").trim())
                .filter(|c| !c.is_empty())
                .collect();
            let words = match known.field {
                "do_not_call" => no_plain!(),
                _ => no_words!(),
            };
            let no: Vec<&str> = (words.trim_matches(['[', ']']).split(','))
                .map(|w| w.trim().trim_matches('"'))
                .collect();
            let kept_away = (cells.iter())
                .filter(|c| !no.contains(&c.to_lowercase().as_str()))
                .count();
            found.push(Found {
                known,
                header: name,
                reading: Reading::of(known.kind, &cells),
                kept_away,
            });
        }
        let mut unknown: Vec<String> = Vec::new();
        for (i, name) in header.names.iter().enumerate() {
            if !claimed[i] && !unknown.contains(name) {
                unknown.push(name.clone());
            }
        }
        Survey {
            input,
            csv: "contacts.csv".to_string(),
            header,
            found,
            id,
            unknown,
            not_utf8: None,
            sampled: samples.len(),
        }
    }

    /// Columns recognised, the id included.
    fn recognised(&self) -> usize {
        self.found.len() + usize::from(self.id.is_some())
    }

    fn field(&self, name: &str) -> Option<&Found> {
        self.found.iter().find(|f| f.known.field == name)
    }
}

/// Lower case letters and digits only: `Country/Region` ~ `country region`, `No. of
/// Employees` ~ `no_of_employees`. Looser than the engine's matching, which is why the header
/// found is always written first, exactly.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Most (4 in 5) of the non-empty cells `read`.
fn mostly(cells: &[&str], read: impl Fn(&str) -> bool) -> bool {
    cells.iter().filter(|c| read(c)).count() * 5 >= cells.len() * 4
}

impl Reading {
    /// How the first rows' non-empty `cells` read as `kind`. No cells: as expected.
    fn of(kind: FieldKind, cells: &[&str]) -> Reading {
        let expected = Reading::AsExpected {
            formats: Vec::new(),
            note: None,
            assumed_month_first: false,
        };
        let fits = match kind {
            FieldKind::Text => true,
            _ if cells.is_empty() => true,
            FieldKind::Number => mostly(cells, |c| parse_number(c).is_some()),
            FieldKind::Bool => mostly(cells, |c| parse_bool(c).is_some()),
            FieldKind::Date => return date_reading(cells),
        };
        if fits { expected } else { Reading::AsText }
    }
}

/// Date patterns CRM exports and spreadsheets write, tried after ISO 8601. On a tie the
/// earlier wins: month first before day first, as US exports are the most common.
const DATE_FORMATS: &[&str] = &[
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%d/%m/%Y %I:%M %p",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%b %d, %Y",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y %H:%M",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
];

/// The fewest extra formats that read the cells ISO 8601 does not: repeatedly the format that
/// reads most of the cells still unread. Only formats that read a cell are kept, so every
/// format written was seen to work.
fn date_reading(cells: &[&str]) -> Reading {
    let reads = |cell: &str, format: &str| parse_date(cell, &[format.to_string()]).is_some();
    let mut unread: Vec<&str> = cells
        .iter()
        .copied()
        .filter(|c| parse_iso_date(c).is_none())
        .collect();
    let mut formats: Vec<&'static str> = Vec::new();
    while !unread.is_empty() {
        let mut best: Option<(&'static str, usize)> = None;
        for &format in DATE_FORMATS.iter().filter(|f| !formats.contains(f)) {
            let n = unread.iter().filter(|c| reads(c, format)).count();
            if n > best.map_or(0, |(_, m)| m) {
                best = Some((format, n));
            }
        }
        let Some((format, _)) = best else { break };
        formats.push(format);
        unread.retain(|c| !reads(c, format));
    }
    if unread.len() * 5 > cells.len() {
        return Reading::AsText;
    }
    let mut assumed_month_first = false;
    let note = formats.first().map(|&first| {
        let example = example_date(first);
        let swapped = first.replacen("%m/%d", "%d/%m", 1);
        let by_first: Vec<&str> = cells
            .iter()
            .copied()
            .filter(|c| parse_iso_date(c).is_none() && reads(c, first))
            .collect();
        if swapped != first && by_first.iter().all(|c| reads(c, &swapped)) {
            assumed_month_first = true;
            format!(
                "Every date in the first rows could be month first or day first (like {example}); \
                 init assumed month first, as US exports write them. If your CRM writes the day \
                 first, use \"{swapped}\" instead."
            )
        } else {
            format!(
                "Dates in the first rows look like {example}: `formats` lists the pattern{} to \
                 read them (ISO dates such as 2026-11-27 are always read).",
                if formats.len() > 1 { "s" } else { "" }
            )
        }
    });
    Reading::AsExpected {
        formats,
        note,
        assumed_month_first,
    }
}

/// 2026-11-27 14:30 written in `format`, to show what a pattern means.
fn example_date(format: &str) -> String {
    let at = DateTime::from_parts(TEST_AS_OF, jiff::civil::time(14, 30, 0, 0));
    jiff::fmt::strtime::format(format, at).unwrap_or_else(|_| format.to_string())
}

// ---- the starter rules -----------------------------------------------------------------------

/// The rules, routes and tiers init writes for a survey.
#[derive(Debug)]
struct Starter {
    /// Each rule with the field it reads.
    rules: Vec<(&'static Rule, &'static str)>,
    routes: Vec<&'static Route>,
    /// Fit and engagement rules both exist: they go in capped groups, and there is a hot tier.
    grouped: bool,
    tiers: TierPlan,
}

/// `[tiers]`, worked out from the most the rules can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TierPlan {
    /// The highest score the rules can give, after group caps.
    best: i64,
    warm: i64,
    /// The engagement subtotal warm also needs (grouped rules only).
    warm_engagement: Option<i64>,
    /// Hot's score and the fit subtotal it needs (grouped rules only).
    hot: Option<(i64, i64)>,
}

const FIT_CAP: i64 = 50;
const ENGAGEMENT_CAP: i64 = 60;

impl Starter {
    fn for_survey(survey: &Survey) -> Starter {
        let mut rules = Vec::new();
        let mut routes: Vec<&'static Route> = Vec::new();
        for found in &survey.found {
            rules.extend(found.rules().iter().map(|r| (r, found.known.field)));
            routes.extend(found.known.routes);
        }
        routes.sort_by_key(|r| r.order);
        let has = |side| rules.iter().any(|(r, _)| r.side == side);
        let grouped = has(Side::Fit) && has(Side::Engagement);
        let tiers = TierPlan::for_rules(rules.iter().map(|(r, _)| *r), grouped);
        Starter {
            rules,
            routes,
            grouped,
            tiers,
        }
    }

    fn rules_on(&self, side: Side, disqualify: bool) -> impl Iterator<Item = &(&Rule, &str)> {
        self.rules
            .iter()
            .filter(move |(r, _)| r.side == side && (r.gives == Gives::Disqualify) == disqualify)
    }
}

impl TierPlan {
    /// Warm at half the best score (at most 50), hot at four fifths (at most 80), both in
    /// steps of 5, so every tier can be reached and needs more than one good sign.
    fn for_rules<'a>(rules: impl Iterator<Item = &'a Rule>, grouped: bool) -> TierPlan {
        let (mut fit, mut engagement, mut neither) = (0, 0, 0);
        for rule in rules {
            let most = match rule.gives {
                Gives::Points(p) => p.max(0),
                Gives::PerUnit { points, max } => max * points.signum().max(0),
                Gives::Disqualify => 0,
            };
            match rule.side {
                Side::Fit => fit += most,
                Side::Engagement => engagement += most,
                Side::Neither => neither += most,
            }
        }
        if grouped {
            fit = fit.min(FIT_CAP);
            engagement = engagement.min(ENGAGEMENT_CAP);
        }
        let best = fit + engagement + neither;
        let step5 = |x: i64| x / 5 * 5;
        let warm = if best == 0 {
            50
        } else {
            step5(best / 2).clamp(5, 50)
        };
        let hot_score = step5(best * 4 / 5).min(80);
        TierPlan {
            best,
            warm,
            warm_engagement: grouped.then(|| engagement.min(10)),
            hot: (grouped && hot_score >= warm + 10).then(|| (hot_score, fit.min(20))),
        }
    }
}

// ---- the example tests -----------------------------------------------------------------------

/// A `[[test]]` init writes, with the outcome the rules give its contact.
#[derive(Debug)]
struct Example {
    name: &'static str,
    why: &'static str,
    contact: Vec<(&'static str, &'static str)>,
    as_of: Option<Date>,
    /// Write the score and the rules that match, not just tier and queue.
    in_full: bool,
    outcome: Option<Expected>,
}

/// What the engine makes of an example's contact.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    tier: String,
    queue: String,
    score: i64,
    rules: Vec<String>,
}

/// The examples that fit the survey: an ideal lead, an unsubscribed one, a customer.
fn examples(survey: &Survey, starter: &Starter) -> Vec<Example> {
    let read_by_rules = |f: &Found| f.used() && !f.known.ideal.is_empty();
    let ideal: Vec<(&str, &str)> = survey
        .found
        .iter()
        .filter(|f| f.typed() && read_by_rules(f))
        .map(|f| (f.known.field, f.known.ideal))
        .collect();
    let mut out = Vec::new();
    let positive = starter.tiers.best > 0;
    if positive && !ideal.is_empty() {
        let dated = survey
            .found
            .iter()
            .any(|f| f.typed() && f.known.kind == FieldKind::Date && read_by_rules(f));
        out.push(Example {
            name: "Ideal lead",
            why: "A contact who fits and engages. Day rules count back from `as_of`.",
            contact: ideal,
            as_of: dated.then_some(TEST_AS_OF),
            in_full: true,
            outcome: None,
        });
    }
    if let Some(f) = survey
        .found
        .iter()
        .find(|f| f.known.disqualifying.is_some() && f.used())
        && let Some((typed, text)) = f.known.disqualifying
    {
        out.push(Example {
            name: "Opted out: never contacted",
            why: "Disqualified whatever else they did.",
            contact: vec![(f.known.field, if f.typed() { typed } else { text })],
            as_of: None,
            in_full: false,
            outcome: None,
        });
    }
    if let Some(f) = survey.field("lifecycle_stage") {
        out.push(Example {
            name: "Customer: account management",
            why: "The first route that matches decides the queue.",
            contact: vec![(f.known.field, "Customer")],
            as_of: None,
            in_full: false,
            outcome: None,
        });
    }
    out
}

/// Score an example's contact the way `leadsort check` runs a `[[test]]`: every field the rules
/// read gets a column of its own, empty unless the contact sets it.
fn expected(rules: &Rules, example: &Example) -> Expected {
    let mut fields: Vec<&str> = Vec::new();
    for r in rules.field_refs() {
        if !fields.contains(&r.name.as_str()) {
            fields.push(&r.name);
        }
    }
    let bindings = (0..fields.len())
        .map(|i| Binding {
            field: fields[i].to_string(),
            column: Some(i),
        })
        .collect();
    let row: Vec<String> = fields
        .iter()
        .map(|f| {
            let value = example.contact.iter().find(|(k, _)| k == f);
            value.map_or_else(String::new, |(_, v)| v.to_string())
        })
        .collect();
    let engine = Engine::compile_bound(rules, bindings, example.as_of.unwrap_or(TEST_AS_OF));
    let mut scratch = engine.scratch();
    let mut outcome = Outcome::default();
    engine.evaluate(&row, &mut scratch, &mut outcome);
    Expected {
        tier: outcome.tier().as_str().to_string(),
        queue: engine.queue_name(&outcome).to_string(),
        score: outcome.score,
        rules: outcome
            .hits
            .iter()
            .map(|h| engine.rule_names()[h.rule].clone())
            .collect(),
    }
}

// ---- the rules file --------------------------------------------------------------------------

/// Render the rules, fill in the examples' expectations from what the rules give, and make
/// sure leadsort reads the result and binds it to the CSV's header. A failure is a bug in init.
fn rules_file(survey: &Survey, starter: &Starter, output: &Output) -> Result<String> {
    let path = PathBuf::from(output.rules_path());
    let parse = |text: &str| {
        rules::from_str(&path, text)
            .map_err(|e| Error::Internal(format!("the rules init generated do not parse:\n{e}")))
    };
    let mut examples = examples(survey, starter);
    let draft = parse(&render(survey, starter, &[], output))?;
    for example in &mut examples {
        example.outcome = Some(expected(&draft, example));
    }
    let text = render(survey, starter, &examples, output);
    let rules = parse(&text)?;
    if let Err(unbound) = Engine::compile(&rules, &survey.header, TEST_AS_OF) {
        let fields: Vec<&str> = unbound.iter().map(|u| u.field.as_str()).collect();
        return Err(Error::Internal(format!(
            "the rules init generated do not fit the header: fields {}",
            super::quoted(&fields)
        )));
    }
    Ok(text)
}

/// Comments are wrapped to this width, like the shipped rules.toml.
const WIDTH: usize = 95;

/// The rules file being written, line by line.
#[derive(Debug, Default)]
struct Doc {
    text: String,
}

impl Doc {
    fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }

    /// Each line of `text` as a comment; a line too long is wrapped, keeping its indent.
    fn comment(&mut self, text: &str) {
        for line in text.lines() {
            if line.is_empty() {
                self.line("#");
            } else if line.chars().count() + 2 <= WIDTH {
                self.line(format!("# {line}"));
            } else {
                let indent = &line[..line.len() - line.trim_start().len()];
                let prefix = format!("# {indent}");
                let words = line.split_whitespace().map(String::from);
                for wrapped in wrap(words, &prefix, &prefix) {
                    self.line(wrapped);
                }
            }
        }
    }

    /// A paragraph as a comment, wrapped.
    fn prose(&mut self, text: &str) {
        let words = text.split_whitespace().map(String::from);
        for line in wrap(words, "# ", "# ") {
            self.line(line);
        }
    }

    /// A section's opening: the comment between two dashed lines.
    fn banner(&mut self, text: &str) {
        let rule = format!("# {}", "-".repeat(WIDTH - 2));
        self.blank();
        self.blank();
        self.line(&rule);
        self.comment(text);
        self.line(&rule);
    }

    /// `# ---- title ------...`
    fn heading(&mut self, title: &str) {
        let head = format!("# ---- {title} ");
        let fill = WIDTH.saturating_sub(head.chars().count());
        self.blank();
        self.line(format!("{head}{}", "-".repeat(fill)));
    }
}

/// `words` in lines of at most `WIDTH` characters (a longer word gets a line of its own).
fn wrap(words: impl Iterator<Item = String>, first: &str, next: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in words {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            lines.push(std::mem::replace(&mut line, next.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&word);
        empty = false;
    }
    lines.push(line);
    lines
}

/// `["a", "b", ...]` after `prefix`, wrapped inside the brackets, then `suffix`. TOML allows
/// line breaks inside an array only, so the suffix stays on the line of the last item.
fn toml_list(prefix: &str, items: &[&str], suffix: &str) -> Vec<String> {
    let n = items.len();
    let words = items.iter().enumerate().map(|(i, item)| {
        let mut word = toml_string(item);
        if i + 1 < n {
            word.push(',');
        } else {
            word.push(']');
            word.push_str(suffix);
        }
        word
    });
    let indent = " ".repeat(prefix.chars().count() + 1);
    wrap(words, &format!("{prefix}["), &indent)
}

fn render(survey: &Survey, starter: &Starter, examples: &[Example], output: &Output) -> String {
    let mut doc = Doc::default();
    introduction(&mut doc, survey, starter, output);
    doc.blank();
    doc.line("version = 1   # the rules format version; always 1 for now");
    if let Some(id) = &survey.id {
        doc.blank();
        let csv = &survey.csv;
        doc.comment(&format!(
            "[input]: `id` names the column that identifies a contact, for\n\
             `leadsort explain {csv} --id <value>`."
        ));
        doc.line("[input]");
        doc.line(format!("id = {}", toml_string(id)));
    }
    fields(&mut doc, survey);
    groups_and_tiers(&mut doc, starter);
    rules_section(&mut doc, starter);
    routes(&mut doc, starter);
    tests(&mut doc, examples);
    closing(&mut doc, survey, starter);
    doc.text
}

fn introduction(doc: &mut Doc, survey: &Survey, starter: &Starter, output: &Output) {
    let rules = shell_word(&output.rules_path());
    let csv = &survey.csv;
    match &survey.input {
        Some(input) => {
            doc.comment(&format!(
                "leadsort rules for {}, written by `leadsort init` from its header.",
                one_line(input)
            ));
            doc.line("#");
            if starter.rules.is_empty() && starter.routes.is_empty() {
                doc.prose(&format!(
                    "None of the {} columns of {} is one init knows, so there are no rules yet: \
                     every contact is cold and goes to marketing until you add rules that give \
                     points. The example at the end shows how.",
                    survey.header.len(),
                    one_line(input)
                ));
            } else {
                doc.prose(&format!(
                    "init recognised {} of its {} columns and wrote starter rules for them. The \
                     points, word lists and thresholds are a starting point, not advice: read the \
                     file top to bottom, change what does not fit your business (look for EDIT), \
                     then check the rules against your contacts and run them:",
                    survey.recognised(),
                    survey.header.len()
                ));
            }
        }
        None => {
            doc.comment(
                "leadsort starter rules for a B2B contacts CSV, written by `leadsort init`.\n\
                 \n\
                 They read a CSV with these columns (a CRM export works too: each field under\n\
                 [fields] also lists the names HubSpot, Salesforce, Pipedrive, Mautic and Zoho use):",
            );
            let names = survey.header.names.iter().map(String::as_str);
            let words = comma_separated(names.map(String::from));
            for line in wrap(words, "#     ", "#     ") {
                doc.line(line);
            }
            doc.line("#");
            doc.prose(
                "To start from your own export instead, run `leadsort init contacts.csv`: it \
                 reads the header and writes rules for the columns it finds. The points, word \
                 lists and thresholds here are a starting point, not advice: read the file top to \
                 bottom, change what does not fit your business (look for EDIT), then check the \
                 rules against your contacts and run them:",
            );
        }
    }
    doc.line("#");
    doc.line(format!("#     leadsort check --rules {rules} {csv}"));
    doc.line(format!(
        "#     leadsort classify --rules {rules} {csv} > scored.csv"
    ));
    doc.comment(
        "\n\
         Every contact gets:\n\
         \x20 score    the sum of the points of the rules that match it\n\
         \x20 tier     hot, warm or cold from the score (see [tiers]), or disqualified\n\
         \x20 queue    sales for hot and warm, marketing for cold, suppressed for disqualified,\n\
         \x20          unless a route (near the end) says otherwise\n\
         \x20 reasons  the rules that matched, with their points\n\
         \n\
         Text comparisons ignore upper/lower case and spaces around the cell. A cell that cannot\n\
         be read as the number or date a condition needs makes that condition false for that\n\
         contact; it never stops the run, and the run summary counts such cells per field.",
    );
}

fn fields(doc: &mut Doc, survey: &Survey) {
    let written: Vec<&Found> = survey.found.iter().filter(|f| f.used()).collect();
    let unread: Vec<&Found> = survey.found.iter().filter(|f| !f.used()).collect();
    if written.is_empty() && unread.is_empty() {
        return;
    }
    let source = survey.input.as_deref().map_or("your CSV".into(), one_line);
    doc.banner(&format!(
        "[fields]: short names for the columns the rules read.\n\
         \n\
         Rules say `field = \"title\"` instead of naming a header. Each field lists the header \
         it has in {source} first, then the names other exports give it, so these rules read \
         those exports too; the first header present wins, and matching ignores case, spaces, \
         `_` and `-`.\n\
         \n\
         A `type` says how to read the cells:\n\
         \x20 number  \"1200\", \"1,200\", \"1200.5\", \"$1,200\" (\"50-100\" and \"N/A\" are unreadable)\n\
         \x20 date    ISO 8601 (\"2026-11-03\" or \"2026-11-03T14:22:00Z\"), then each pattern in\n\
         \x20         `formats` (strftime: %m month, %d day, %Y four-digit year)\n\
         \x20 bool    true/false, yes/no, y/n, 1/0, x, in any case; an empty cell is false\n\
         Without a type, a field is text.\n\
         \n\
         If a CSV lacks a column the rules read, the run stops before reading any contact and\n\
         names the closest header, unless the field says `optional = true`: then every contact\n\
         reads it as empty."
    ));
    doc.line("[fields]");
    let width = written
        .iter()
        .map(|f| f.known.field.len())
        .max()
        .unwrap_or(0);
    for found in &written {
        if let Reading::AsExpected {
            note: Some(note), ..
        } = &found.reading
        {
            doc.prose(note);
        }
        if !found.typed() {
            doc.prose(&format!(
                "{} looks like {}, but fewer than 4 in 5 of its first cells are {}: it is read as \
                 text, and its rule looks for words.",
                toml_string(&found.header),
                found.known.about,
                kind_plural(found.known.kind)
            ));
        }
        for line in field_entry(found, width) {
            doc.line(line);
        }
    }
    for found in &unread {
        doc.prose(&format!(
            "{} looks like {}, but fewer than 4 in 5 of its first cells are {}, so no rule reads it \
             yet. To use it as text:",
            toml_string(&found.header),
            found.known.about,
            kind_plural(found.known.kind)
        ));
        doc.line(format!(
            "# {} = {}",
            found.known.field,
            toml_string(&found.header)
        ));
    }
}

/// `title = ["Job Title", ...]`, or `employees = { column = [...], type = "number" }`.
fn field_entry(found: &Found, width: usize) -> Vec<String> {
    let key = format!("{:<width$} = ", found.known.field);
    let columns = found.columns();
    let Reading::AsExpected { formats, .. } = &found.reading else {
        return toml_list(&key, &columns, "");
    };
    let kind = found.kind();
    if kind == FieldKind::Text {
        return toml_list(&key, &columns, "");
    }
    let mut suffix = format!(", type = {}", toml_string(FieldKind::NAMES[kind as usize]));
    if !formats.is_empty() {
        let list: Vec<String> = formats.iter().map(|f| toml_string(f)).collect();
        suffix.push_str(&format!(", formats = [{}]", list.join(", ")));
    }
    suffix.push_str(" }");
    toml_list(&format!("{key}{{ column = "), &columns, &suffix)
}

fn groups_and_tiers(doc: &mut Doc, starter: &Starter) {
    let t = starter.tiers;
    if starter.grouped {
        doc.banner(&format!(
            "[groups]: rules that belong together add up to a subtotal with a cap.\n\
             \n\
             fit        who they are: title, company, industry, region\n\
             engagement what they did: visits, clicks, demo requests, recent activity\n\
             \n\
             The caps stop one side from carrying a contact alone: a perfect fit who never opened\n\
             an email gets at most {FIT_CAP}. Each subtotal, after its cap, is written as its own\n\
             output column (score_fit, score_engagement). Rules without a `group` add to the score\n\
             directly."
        ));
        doc.line("[groups]");
        doc.line(format!("fit        = {{ max = {FIT_CAP} }}"));
        doc.line(format!("engagement = {{ max = {ENGAGEMENT_CAP} }}"));
    }

    let mut text = String::from("[tiers]: from score to tier, checked from the highest down.\n\n");
    let best = t.best;
    if best == 0 {
        text.push_str(
            "No rule gives points yet, so no contact can be warm: every contact stays cold (or is\n\
             disqualified) until you add rules that give points.",
        );
    } else {
        text.push_str(&format!(
            "The rules below can give at most {best} points{}. init set warm at half of that",
            if starter.grouped {
                " (after the caps)"
            } else {
                ""
            }
        ));
        match t.hot {
            Some(_) => text.push_str(" and hot near four fifths;"),
            None => text.push(';'),
        }
        text.push_str(" move them once you see how your contacts score.\n");
        if let Some(e) = t.warm_engagement {
            text.push_str(&format!(
                "\nwarm: a score of at least {} AND at least {e} engagement points. The second\n\
                 \x20     condition keeps a perfect fit who has never engaged out of sales: sales\n\
                 \x20     should only spend time on leads that are already warm.",
                t.warm
            ));
        } else {
            text.push_str(&format!("\nwarm: a score of at least {}.", t.warm));
        }
        if let Some((score, fit)) = t.hot {
            text.push_str(&format!(
                "\nhot:  a score of at least {score} AND at least {fit} fit points AND the engagement\n\
                 \x20     warm needs: very engaged, and the kind of company you sell to."
            ));
        }
        text.push_str("\ncold: everything below warm; it has no threshold of its own.");
    }
    doc.banner(&text);
    doc.line("[tiers]");
    match t.warm_engagement {
        Some(e) => doc.line(format!("warm = {{ score = {}, engagement = {e} }}", t.warm)),
        None => doc.line(format!("warm = {}", t.warm)),
    }
    // Hot is decided first: without warm's engagement, fit alone could make a contact
    // who never engaged hot, and send it to sales.
    match (t.hot, t.warm_engagement) {
        (Some((score, fit)), Some(e)) => doc.line(format!(
            "hot  = {{ score = {score}, fit = {fit}, engagement = {e} }}"
        )),
        (Some((score, fit)), None) => {
            doc.line(format!("hot  = {{ score = {score}, fit = {fit} }}"))
        }
        (None, _) => {}
    }

    doc.banner(
        "[queues]: which queue each tier goes to. These are the defaults, written out so you can\n\
         see them. With --split DIR each queue is one file (sales.csv, marketing.csv, ...).",
    );
    doc.line("[queues]");
    if t.hot.is_some() {
        doc.line("hot          = \"sales\"");
    }
    doc.line("warm         = \"sales\"");
    doc.line("cold         = \"marketing\"    # newsletters and nurture until they warm up");
    doc.line("disqualified = \"suppressed\"   # never contact");
}

fn rules_section(doc: &mut Doc, starter: &Starter) {
    let mut banner = String::from(
        "Rules. Each matching rule adds its points (or subtracts negative ones). Conditions:\n\
         \x20 when = { field = \"...\", <operator> = <value> }\n\
         several operators in one { } must all hold; `all`, `any` and `not` combine conditions.",
    );
    if starter.rules.is_empty() {
        banner.push_str("\n\nThere are none yet: see the example at the end of the file.");
    }
    doc.blank();
    doc.blank();
    let rule = format!("# {}", "=".repeat(WIDTH - 2));
    doc.line(&rule);
    doc.comment(&banner);
    doc.line(&rule);

    let grouped = starter.grouped;
    let sections = [
        (Side::Fit, false, "fit: who they are", "who they are"),
        (
            Side::Engagement,
            false,
            "engagement: what they did",
            "what they did",
        ),
        (
            Side::Neither,
            false,
            "outside the groups: added to the score as they are",
            "other signs",
        ),
        (
            Side::Neither,
            true,
            "disqualifiers: never contact",
            "disqualifiers: never contact",
        ),
    ];
    for (side, disqualify, grouped_title, title) in sections {
        let mut rules = starter.rules_on(side, disqualify).peekable();
        if rules.peek().is_none() {
            continue;
        }
        doc.heading(if grouped { grouped_title } else { title });
        for (rule, field) in rules {
            rule_entry(doc, rule, field, grouped);
        }
    }
}

fn rule_entry(doc: &mut Doc, rule: &Rule, field: &str, grouped: bool) {
    let group = match rule.side {
        Side::Fit if grouped => Some("fit"),
        Side::Engagement if grouped => Some("engagement"),
        _ => None,
    };
    let (key, value) = match rule.gives {
        Gives::Points(p) => ("points", p.to_string()),
        Gives::PerUnit { points, max } => (
            "points_per",
            format!(
                "{{ field = {}, points = {points}, max = {max} }}",
                toml_string(field)
            ),
        ),
        Gives::Disqualify => ("disqualify", "true".to_string()),
    };
    let w = key.len();
    doc.blank();
    doc.line("[[rule]]");
    doc.line(format!("{:<w$} = {}", "name", toml_string(rule.name)));
    if let Some(group) = group {
        doc.line(format!("{:<w$} = {}", "group", toml_string(group)));
    }
    doc.comment(rule.why);
    if let Some(when) = rule.when {
        doc.line(format!("{:<w$} = {when}", "when"));
    }
    doc.line(format!("{key} = {value}"));
}

fn routes(doc: &mut Doc, starter: &Starter) {
    if starter.routes.is_empty() {
        return;
    }
    doc.blank();
    doc.blank();
    let rule = format!("# {}", "=".repeat(WIDTH - 2));
    doc.line(&rule);
    doc.comment(
        "Routes: exceptions to \"the tier decides the queue\".\n\
         \n\
         Routes are checked in order for every contact that is not disqualified; the first that\n\
         matches decides the queue, and the reasons end with \"route: <name>\". A contact no route\n\
         matches goes to its tier's queue. Routes change the queue only, never the score or tier.",
    );
    doc.line(&rule);
    for route in &starter.routes {
        doc.blank();
        doc.line("[[route]]");
        doc.line(format!("name  = {}", toml_string(route.name)));
        doc.comment(route.why);
        doc.line(format!("when  = {}", route.when));
        doc.line(format!("queue = {}", toml_string(route.queue)));
    }
}

fn tests(doc: &mut Doc, examples: &[Example]) {
    let examples: Vec<(&Example, &Expected)> = examples
        .iter()
        .filter_map(|e| e.outcome.as_ref().map(|o| (e, o)))
        .collect();
    if examples.is_empty() {
        return;
    }
    doc.blank();
    doc.blank();
    let rule = format!("# {}", "=".repeat(WIDTH - 2));
    doc.line(&rule);
    doc.comment(
        "Tests: contacts and the outcome the rules must give them. `leadsort check` runs them, so\n\
         a rule change that moves one of these contacts shows before it goes live.\n\
         \n\
         `contact` sets a few fields (the others are empty), inline as `contact = { ... }` or as a\n\
         [test.contact] table. `expect` may give `tier`, `queue`, `score`, and `rules` (exactly the\n\
         rules that match, in any order). init wrote these from the rules as they are now: when\n\
         you change the rules on purpose, change the expectations with them.",
    );
    doc.line(&rule);
    for (example, outcome) in examples {
        doc.blank();
        doc.line("[[test]]");
        doc.line(format!("name    = {}", toml_string(example.name)));
        doc.comment(example.why);
        if let Some(d) = example.as_of {
            doc.line(format!("as_of   = {d}"));
        }
        let expect = format!(
            "expect  = {{ tier = {}, queue = {}",
            toml_string(&outcome.tier),
            toml_string(&outcome.queue)
        );
        if example.in_full {
            doc.line(format!("{expect}, score = {}, rules = [", outcome.score));
            let names = outcome.rules.iter().map(|r| format!("{},", toml_string(r)));
            for line in wrap(names, "    ", "    ") {
                doc.line(line);
            }
            doc.line("] }");
        } else {
            doc.line(format!("{expect} }}"));
        }
        let cells: Vec<String> = example
            .contact
            .iter()
            .map(|(field, value)| format!("{field} = {}", toml_string(value)))
            .collect();
        let inline = format!("contact = {{ {} }}", cells.join(", "));
        if inline.chars().count() <= WIDTH {
            doc.line(inline);
        } else {
            doc.line("[test.contact]");
            let width = example
                .contact
                .iter()
                .map(|(f, _)| f.len())
                .max()
                .unwrap_or(0);
            for (field, value) in &example.contact {
                doc.line(format!("{field:<width$} = {}", toml_string(value)));
            }
        }
    }
}

fn closing(doc: &mut Doc, survey: &Survey, starter: &Starter) {
    let Some(input) = &survey.input else {
        return;
    };
    doc.blank();
    doc.blank();
    doc.line(format!("# {}", "-".repeat(WIDTH - 2)));
    if starter.rules.is_empty() {
        let column = survey.unknown.first().map_or("Column", String::as_str);
        doc.comment(&format!(
            "An example rule: remove the # in front of each line and put in a column of {} and a\n\
             value that makes a contact worth calling.\n\
             \n\
             [[rule]]\n\
             name   = \"Example: a sign that matters\"\n\
             when   = {{ field = {}, equals = \"some value\" }}\n\
             points = 50",
            one_line(input),
            toml_string(column),
        ));
        doc.line("#");
    }
    if survey.unknown.is_empty() {
        doc.prose(&format!(
            "Every column of {} is read by the rules above.",
            one_line(input)
        ));
        return;
    }
    let names = survey.unknown.iter().map(|n| toml_string(n));
    let words = std::iter::once(format!(
        "Columns of {} not used by any rule:",
        one_line(input)
    ))
    .chain(comma_separated(names));
    for line in wrap(words.flat_map(split_words), "# ", "#   ") {
        doc.line(line);
    }
    doc.prose(
        "To use one, name it in a rule (`field = \"Header\"`), or give it a short name under \
         [fields].",
    );
}

// ---- small helpers ---------------------------------------------------------------------------

/// The items followed by commas, the last by a period.
fn comma_separated(items: impl Iterator<Item = String>) -> impl Iterator<Item = String> {
    let items: Vec<String> = items.collect();
    let n = items.len();
    items.into_iter().enumerate().map(move |(i, mut s)| {
        s.push(if i + 1 < n { ',' } else { '.' });
        s
    })
}

/// A sentence's words; a quoted item stays whole.
fn split_words(s: String) -> Vec<String> {
    if s.starts_with('"') {
        vec![s]
    } else {
        s.split_whitespace().map(String::from).collect()
    }
}

/// A name for a comment: on one line, whatever the file system allows.
fn one_line(name: &str) -> String {
    if name.chars().any(char::is_control) {
        toml_string(name)
    } else {
        name.to_string()
    }
}

/// A word as a shell would need it in a command line to copy.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/+:@%,=".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", one_line(s).replace('\'', r"'\''"))
    }
}

/// What cells of a type are called in messages.
fn kind_plural(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Number => "numbers",
        FieldKind::Date => "dates",
        FieldKind::Bool => "yes/no values",
        FieldKind::Text => "text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Header {
        Header::new(names.iter().map(|s| s.to_string()).collect())
    }

    fn record(cells: &[&str]) -> Record {
        Record::from_fields(cells.iter().copied())
    }

    /// init writes these into `formats`, which the rules parser checks: it must accept each.
    #[test]
    fn every_date_format_init_writes_reads_dates() {
        for format in DATE_FORMATS {
            assert_eq!(
                crate::engine::cell::check_date_format(format),
                Ok(()),
                "{format}"
            );
        }
    }

    fn file(survey: &Survey) -> String {
        let starter = Starter::for_survey(survey);
        rules_file(survey, &starter, &Output::File("rules.toml".into()))
            .unwrap_or_else(|e| panic!("{}", e.render(false)))
    }

    #[test]
    fn catalogue_headers_are_unique_and_plain_names_recognised() {
        let mut seen: Vec<String> = Vec::new();
        for known in CATALOGUE {
            for h in known.headers {
                let key = squash(h);
                assert!(!seen.contains(&key), "{h} is listed twice");
                seen.push(key);
            }
            if let Some(plain) = known.plain {
                let squashed: Vec<String> = known.headers.iter().map(|h| squash(h)).collect();
                assert!(squashed.contains(&squash(plain)), "{plain}");
            }
        }
    }

    #[test]
    fn every_starter_rule_reads_its_own_field() {
        for known in CATALOGUE {
            let conditions = known
                .rules
                .iter()
                .chain(known.text_rules)
                .filter_map(|r| r.when)
                .chain(known.routes.iter().map(|r| r.when));
            for when in conditions {
                assert!(
                    when.contains(&format!("field = \"{}\"", known.field)),
                    "{}: {when}",
                    known.field
                );
            }
        }
    }

    #[test]
    fn the_generic_starter_parses_and_fits_its_own_columns() {
        let survey = Survey::generic();
        assert_eq!(survey.id.as_deref(), Some("id"));
        let text = file(&survey);
        let rules = rules::from_str(Path::new("rules.toml"), &text).unwrap();
        assert_eq!(rules.groups.len(), 2);
        assert!(!rules.tests.is_empty());
        // Hot needs warm's engagement too: a contact who never engaged is never hot, however
        // well it fits.
        let hot = rules.tiers.hot.as_ref().unwrap();
        let need = |tier: &crate::rules::TierRule, group: &str| {
            let g = rules.groups.iter().position(|g| g.name == group).unwrap();
            tier.groups.iter().find(|(id, _)| *id == g).map(|(_, n)| *n)
        };
        assert!(need(hot, "engagement").is_some_and(|n| n > 0.0));
        assert_eq!(
            need(hot, "engagement"),
            need(&rules.tiers.warm, "engagement")
        );
        assert!(need(hot, "fit").is_some());
    }

    #[test]
    fn every_known_column_at_once_parses_and_binds() {
        let names: Vec<&str> = CATALOGUE.iter().map(|k| k.headers[0]).collect();
        let survey = Survey::recognise(Some("all.csv".into()), header(&names), &[]);
        assert_eq!(survey.found.len() + 1, CATALOGUE.len());
        assert!(survey.unknown.is_empty());
        let text = file(&survey);
        let rules = rules::from_str(Path::new("rules.toml"), &text).unwrap();
        let in_catalogue: usize = CATALOGUE.iter().map(|k| k.rules.len()).sum();
        assert_eq!(rules.rules.len(), in_catalogue);
    }

    #[test]
    fn headers_match_loosely_and_first_alias_wins() {
        let h = header(&[
            "JOB-TITLE",
            "No of Employees",
            "Title",
            "country / region",
            "x",
        ]);
        let survey = Survey::recognise(Some("a.csv".into()), h, &[]);
        let found: Vec<(&str, &str)> = survey
            .found
            .iter()
            .map(|f| (f.known.field, f.header.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("title", "JOB-TITLE"),
                ("employees", "No of Employees"),
                ("country", "country / region")
            ]
        );
        assert_eq!(survey.unknown, ["Title", "x"]);
    }

    #[test]
    fn the_first_rows_decide_types_and_date_formats() {
        let h = header(&[
            "Company Size",
            "Last Activity Date",
            "Unsubscribed",
            "Notes",
        ]);
        let rows = [
            record(&["51-200", "11/20/2026", "yes", "a"]),
            record(&["11-50", "3/4/2026", "", "b"]),
            record(&["1000+", "", "no", "c"]),
        ];
        let survey = Survey::recognise(Some("a.csv".into()), h, &rows);
        let readings: Vec<(&str, &Reading)> = survey
            .found
            .iter()
            .map(|f| (f.known.field, &f.reading))
            .collect();
        assert_eq!(readings[0], ("employees", &Reading::AsText));
        assert!(matches!(
            readings[1],
            ("last_activity", Reading::AsExpected { formats, .. }) if formats == &["%m/%d/%Y"]
        ));
        assert!(matches!(
            readings[2],
            ("unsubscribed", Reading::AsExpected { .. })
        ));
        let text = file(&survey);
        assert!(text.contains("# employees = \"Company Size\""), "{text}");
        assert!(text.contains("formats = [\"%m/%d/%Y\"]"), "{text}");
    }

    #[test]
    fn repeated_headers_are_not_recognised() {
        let survey = Survey::recognise(Some("a.csv".into()), header(&["Email", "Email"]), &[]);
        assert!(survey.found.is_empty());
        assert_eq!(survey.unknown, ["Email"]);
    }

    #[test]
    fn numbers_and_booleans_are_checked_on_the_samples() {
        assert!(matches!(
            Reading::of(FieldKind::Number, &["10", "1,200", "N/A", "7", "3"]),
            Reading::AsExpected { .. }
        ));
        assert_eq!(
            Reading::of(FieldKind::Number, &["51-200", "11-50", "200"]),
            Reading::AsText
        );
        assert_eq!(
            Reading::of(FieldKind::Bool, &["Subscribed", "Unsubscribed"]),
            Reading::AsText
        );
        assert!(matches!(
            Reading::of(FieldKind::Bool, &["true", "FALSE", "x"]),
            Reading::AsExpected { .. }
        ));
    }

    fn formats(cells: &[&str]) -> Option<Vec<&'static str>> {
        match date_reading(cells) {
            Reading::AsExpected { formats, .. } => Some(formats),
            Reading::AsText => None,
        }
    }

    #[test]
    fn date_formats_are_the_fewest_that_read_the_samples() {
        assert_eq!(
            formats(&["2026-11-20", "2026-01-02T10:00:00Z"]),
            Some(vec![])
        );
        assert_eq!(
            formats(&["11/20/2026", "2026-01-02"]),
            Some(vec!["%m/%d/%Y"])
        );
        assert_eq!(
            formats(&["20/11/2026", "03/04/2026"]),
            Some(vec!["%d/%m/%Y"])
        );
        assert_eq!(
            formats(&["11/2/2026 9:15 AM", "11/20/2026 2:22 PM"]),
            Some(vec!["%m/%d/%Y %I:%M %p"])
        );
        assert_eq!(
            formats(&["20.11.2026", "21.11.2026", "11/20/2026"]),
            Some(vec!["%d.%m.%Y", "%m/%d/%Y"])
        );
        assert_eq!(formats(&["soon", "later", "2026-11-20"]), None);
    }

    #[test]
    fn ambiguous_dates_say_so() {
        let Reading::AsExpected {
            formats,
            note,
            assumed_month_first,
        } = date_reading(&["03/04/2026", "01/02/2026"])
        else {
            panic!("dates");
        };
        assert_eq!(formats, ["%m/%d/%Y"]);
        assert!(note.unwrap().contains("\"%d/%m/%Y\""));
        assert!(assumed_month_first);
    }

    #[test]
    fn toml_strings_round_trip() {
        for s in [
            "plain",
            "with \"quotes\"",
            r"back\slash",
            "new\nline",
            "tab\there",
            "\u{7f}del \u{1}",
            "it's",
            "\u{feff}bom",
        ] {
            let doc = format!("v = {}", toml_string(s));
            let table: toml::Table = toml::from_str(&doc).unwrap();
            assert_eq!(table["v"].as_str(), Some(s), "{doc}");
            assert!(!toml_string(s).contains('\n'));
        }
    }

    #[test]
    fn tiers_can_be_reached() {
        let plan = TierPlan::for_rules(TITLE_RULES.iter(), false);
        assert_eq!((plan.best, plan.warm, plan.hot), (30, 15, None));
        let none = TierPlan::for_rules(OPT_OUT_RULES.iter(), false);
        assert_eq!((none.best, none.warm), (0, 50));
        let all = TierPlan::for_rules(CATALOGUE.iter().flat_map(|k| k.rules), true);
        assert_eq!(
            (all.warm, all.warm_engagement, all.hot),
            (50, Some(10), Some((80, 20)))
        );
    }

    #[test]
    fn wrapping_keeps_quoted_names_whole() {
        let lines = toml_list("x = ", &["a b"; 30], "");
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
        assert!(lines.iter().skip(1).all(|l| l.starts_with("     \"a b\"")));
    }
}
