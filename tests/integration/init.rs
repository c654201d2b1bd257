//! `leadsort init`: the starter rules it writes parse, fit the CSV they were written for, and
//! run; existing files are never replaced without `--force`.

use std::path::PathBuf;
use std::process::Output;

use leadsort::rules::{Condition, FieldKind, Op, Points, Rule, Rules};

use crate::util::{self, Env};

/// The CRM-style exports in tests/fixtures/init/.
fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/init")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run(cmd: &mut assert_cmd::Command) -> Output {
    cmd.output().expect("leadsort runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(out));
}

/// Parse rules the way leadsort does, or fail with the rendered errors.
#[track_caller]
fn parse(text: &str) -> Rules {
    leadsort::rules::from_str("rules.toml".as_ref(), text)
        .unwrap_or_else(|e| panic!("{}\n---\n{text}", e.render(false)))
}

/// `leadsort init ARGS...` in `env`, which must succeed; the rules it wrote to rules.toml.
#[track_caller]
fn init(env: &Env, args: &[&str]) -> (String, Rules, Output) {
    let out = run(env.cmd().arg("init").args(args));
    assert_ok(&out);
    let text = env.read("rules.toml");
    let rules = parse(&text);
    (text, rules, out)
}

/// `leadsort classify --rules rules.toml CSV` runs cleanly: exit 0, nothing on stderr.
#[track_caller]
fn classifies_cleanly(env: &Env, csv: &str) -> String {
    let out = run(&mut env.classify(&["--rules", "rules.toml", csv]));
    assert_ok(&out);
    assert_eq!(stderr(&out), "", "classify printed on stderr");
    String::from_utf8(out.stdout).unwrap()
}

/// The headers a field reads, the first being the one init found.
#[track_caller]
fn columns<'a>(rules: &'a Rules, field: &str) -> &'a [String] {
    let f = rules
        .field(field)
        .unwrap_or_else(|| panic!("no field `{field}`"));
    &f.columns
}

#[track_caller]
fn kind(rules: &Rules, field: &str) -> FieldKind {
    rules
        .field(field)
        .unwrap_or_else(|| panic!("no field `{field}`"))
        .kind
}

#[track_caller]
fn rule<'a>(rules: &'a Rules, name: &str) -> &'a Rule {
    rules.rule(name).unwrap_or_else(|| {
        let names: Vec<&str> = rules.rules.iter().map(|r| r.name.as_str()).collect();
        panic!("no rule \"{name}\" in {names:?}")
    })
}

/// Each (field, operator) a rule's condition tests.
fn tests_of(rule: &Rule) -> Vec<(&str, &Op)> {
    rule.when
        .as_ref()
        .map(Condition::tests)
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.field.name.as_str(), &t.op))
        .collect()
}

/// The disqualifier on the opt-out column, and the recency rules on the activity date.
#[track_caller]
fn has_opt_out_and_recency_rules(rules: &Rules, opt_out: &str, activity: &str) {
    assert_eq!(columns(rules, "unsubscribed")[0], opt_out);
    let disqualifier = rules
        .rules
        .iter()
        .find(|r| r.disqualify && tests_of(r).iter().any(|(f, _)| *f == "unsubscribed"))
        .expect("a disqualifier on the opt-out column");
    assert!(disqualifier.points.is_none());

    assert_eq!(columns(rules, "last_activity")[0], activity);
    assert_eq!(kind(rules, "last_activity"), FieldKind::Date);
    assert_eq!(
        tests_of(rule(rules, "Recently active")),
        [("last_activity", &Op::WithinDays(30))]
    );
    assert_eq!(
        tests_of(rule(rules, "Gone quiet")),
        [("last_activity", &Op::OlderThanDays(180))]
    );
}

/// Contact `id`'s queue in classify's output.
#[track_caller]
fn queue_of(scored: &str, id_column: &str, id: &str) -> String {
    let ids = util::column(scored, id_column);
    let queues = util::column(scored, "queue");
    let i = ids.iter().position(|x| x == id).expect("the contact");
    queues[i].clone()
}

/// init on a fixture copied into a fresh folder as `name`.
fn init_fixture(name: &str) -> (Env, String, Rules, Output) {
    let env = Env::new();
    env.write(name, fixture(name));
    let (text, rules, out) = init(&env, &[name]);
    (env, text, rules, out)
}

#[test]
fn without_a_file_it_writes_a_generic_starter_that_runs() {
    let env = Env::new();
    let (text, rules, out) = init(&env, &[]);
    let err = stderr(&out);
    assert!(err.contains("leadsort: wrote rules.toml ("), "{err}");
    assert!(err.contains("leadsort check --rules rules.toml"), "{err}");

    // Every section is there and explained.
    for section in [
        "[fields]",
        "[groups]",
        "[tiers]",
        "[queues]",
        "[[rule]]",
        "[[route]]",
    ] {
        assert!(text.contains(section), "{section}");
    }
    assert!(!rules.tests.is_empty(), "an example [[test]]");
    assert_eq!(rules.input.id.as_ref().map(|i| i.name.as_str()), Some("id"));
    assert!(rules.tiers.hot.is_some());
    assert_eq!(columns(&rules, "title")[0], "job_title");
    assert_eq!(kind(&rules, "employees"), FieldKind::Number);

    // A CSV with the columns it names (each field's first header) runs cleanly.
    let mut header: Vec<&str> = vec!["id"];
    header.extend(rules.fields.iter().map(|f| f.columns[0].as_str()));
    let csv = format!(
        "{}\n\
         1,ann@acme.example,VP Sales,500,Software,Canada,Referral,Lead,,12,3,yes,no,2026-11-20,no\n\
         2,bob@gmail.com,Student,3,Education,Peru,Web,Customer,,0,0,no,no,2025-01-01,yes\n",
        header.join(",")
    );
    assert_eq!(header.len(), 15, "{header:?}");
    env.write("contacts.csv", csv);
    let scored = classifies_cleanly(&env, "contacts.csv");
    assert_eq!(util::column(&scored, "tier"), ["hot", "disqualified"]);
}

#[test]
fn rows_that_are_not_utf8_are_left_out_of_the_sample_with_a_warning() {
    let env = Env::new();
    // An older Excel's export: é as the one byte 0xE9 on the second data row.
    let mut csv = b"Email,Job Title,Company Size\nann@acme.com,VP Sales,500\n".to_vec();
    csv.extend_from_slice(b"jos\xe9@acme.com,Directeur,50\n");
    env.write("contacts.csv", &csv);
    let (_, rules, out) = init(&env, &["contacts.csv"]);
    assert!(!rules.rules.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("contacts.csv has rows that are not UTF-8 (the first is record 2, line 3)")
            && err.contains("--encoding windows-1252"),
        "{err}"
    );
}

#[test]
fn quiet_prints_nothing() {
    let env = Env::new();
    let out = run(env.cmd().args(["-q", "init"]));
    assert_ok(&out);
    assert_eq!(stderr(&out), "");
    assert!(env.exists("rules.toml"));
}

#[test]
fn never_overwrites_without_force() {
    let env = Env::new();
    env.write("rules.toml", "# my own rules, months of work\n");
    let out = run(env.cmd().arg("init"));
    assert_eq!(out.status.code(), Some(73));
    insta::assert_snapshot!(stderr(&out), @r"
    leadsort: error: cannot create rules.toml: it already exists, and init does not replace files
    leadsort:   use --force to replace it, or -o PATH to write the rules elsewhere (-o - prints them)
    ");
    assert_eq!(env.read("rules.toml"), "# my own rules, months of work\n");
    assert_eq!(env.files(), ["rules.toml"], "no temp file left behind");

    // Not with a CSV given either, and not at another -o path.
    env.write("contacts.csv", fixture("hubspot.csv"));
    env.write("other.toml", "keep");
    let out = run(env.cmd().args(["init", "contacts.csv", "-o", "other.toml"]));
    assert_eq!(out.status.code(), Some(73));
    assert_eq!(env.read("other.toml"), "keep");

    let (text, _, _) = init(&env, &["--force"]);
    assert!(text.contains("[[rule]]"));
}

#[test]
fn never_writes_over_the_csv_it_reads_whatever_its_name() {
    let env = Env::new();
    let csv = fixture("hubspot.csv");
    env.write("contacts.csv", &csv);
    std::fs::hard_link(env.path("contacts.csv"), env.path("linked.csv")).unwrap();
    // (Rules are renamed into place: the name given to -o is what would be replaced.)
    let refused = |out: Output, name: &str| {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("is both the CSV to read and the rules file to write"),
            "{}",
            stderr(&out)
        );
        assert_eq!(std::fs::read(env.path(name)).unwrap(), csv);
    };
    refused(
        run(env
            .cmd()
            .args(["init", "contacts.csv", "-o", "./contacts.csv", "--force"])),
        "contacts.csv",
    );
    refused(
        run(env
            .cmd()
            .args(["init", "contacts.csv", "-o", "linked.csv", "--force"])),
        "linked.csv",
    );
    let on_stdin = std::process::Command::new(assert_cmd::cargo::cargo_bin!("leadsort"))
        .current_dir(env.root())
        .args(["init", "-", "-o", "contacts.csv", "--force"])
        .stdin(std::fs::File::open(env.path("contacts.csv")).unwrap())
        .output()
        .unwrap();
    refused(on_stdin, "contacts.csv");
}

#[test]
fn dash_o_dash_prints_the_rules_and_writes_nothing() {
    let env = Env::new();
    let out = run(env.cmd().args(["init", "-o", "-"]));
    assert_ok(&out);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!parse(&text).rules.is_empty());
    assert!(env.files().is_empty(), "{:?}", env.files());
    assert!(stderr(&out).contains("wrote the rules to stdout"));
}

#[test]
fn output_path_is_written_atomically_where_asked() {
    let env = Env::new();
    std::fs::create_dir(env.path("rules")).unwrap();
    let out = run(env.cmd().args(["init", "-o", "rules/starter.toml"]));
    assert_ok(&out);
    assert_eq!(env.files(), ["rules/starter.toml"]);
    parse(&env.read("rules/starter.toml"));
}

#[test]
fn hubspot_export() {
    let (env, text, rules, _) = init_fixture("hubspot.csv");
    assert_eq!(
        rules.input.id.as_ref().map(|i| i.name.as_str()),
        Some("Record ID")
    );
    for (field, header) in [
        ("email", "Email"),
        ("title", "Job Title"),
        ("employees", "Number of Employees"),
        ("industry", "Industry"),
        ("country", "Country/Region"),
        ("lifecycle_stage", "Lifecycle Stage"),
        ("lead_status", "Lead Status"),
        ("page_views", "Number of Pageviews"),
        ("email_clicks", "Marketing emails clicked"),
        ("source", "Original Source"),
    ] {
        assert_eq!(columns(&rules, field)[0], header, "{field}");
    }
    // The other exports' names follow, so the file reads them too.
    for other in ["No. of Employees", "Organization - Number of employees"] {
        assert!(
            columns(&rules, "employees").iter().any(|c| c == other),
            "{other}"
        );
    }
    assert_eq!(kind(&rules, "page_views"), FieldKind::Number);
    assert_eq!(kind(&rules, "unsubscribed"), FieldKind::Bool);
    // HubSpot writes ISO date-times: no extra formats needed.
    assert!(rules.field("last_activity").unwrap().formats.is_empty());
    has_opt_out_and_recency_rules(&rules, "Unsubscribed from all email", "Last Activity Date");
    assert!(matches!(
        rule(&rules, "Page views").points,
        Some(Points::Per {
            ref field,
            max: Some(10.0),
            ..
        }) if field.name == "page_views"
    ));
    assert_eq!(
        tests_of(rule(&rules, "Free mail address"))[0].0,
        "email",
        "free mail on the email column"
    );
    // Both kinds of rules: capped groups and a hot tier.
    let groups: Vec<&str> = rules.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(groups, ["fit", "engagement"]);
    assert!(rules.tiers.hot.is_some());
    // Lifecycle stage "customer" goes to its own queue; lead statuses recycle to marketing.
    let customer = rules
        .routes
        .iter()
        .find(|r| r.queue == "customers")
        .expect("a customers route");
    assert_eq!(customer.when.tests()[0].field.name, "lifecycle_stage");
    assert!(
        rules
            .routes
            .iter()
            .any(|r| r.queue == "marketing" && r.when.tests()[0].field.name == "lead_status")
    );
    let tail = &text[text.rfind("# ----").unwrap()..];
    assert!(
        tail.contains("# Columns of hubspot.csv not used by any rule:"),
        "{tail}"
    );
    for unused in ["First Name", "Last Name", "Phone Number", "Contact owner"] {
        assert!(
            tail.contains(&format!("\"{unused}\"")),
            "{unused} in {tail}"
        );
    }

    let scored = classifies_cleanly(&env, "hubspot.csv");
    assert_eq!(queue_of(&scored, "Record ID", "1006"), "suppressed");
    assert_eq!(queue_of(&scored, "Record ID", "1005"), "customers");
    assert_eq!(queue_of(&scored, "Record ID", "1008"), "marketing");
}

/// The statuses CRMs write for a lost deal go back to nurture; "working" stays with sales.
/// "Closed Lost" went to sales with the warm ones.
#[test]
fn lost_and_working_statuses_take_their_routes() {
    let env = Env::new();
    env.write(
        "crm.csv",
        "Email,Job Title,Lead Status,Demo Requested\n\
         a@acme.com,CEO,Closed Lost,yes\n\
         b@acme.com,CEO,lost,yes\n\
         c@acme.com,Intern,Working,no\n\
         d@acme.com,CEO,No decision,yes\n",
    );
    init(&env, &["crm.csv"]);
    let scored = classifies_cleanly(&env, "crm.csv");
    let queues = util::column(&scored, "queue");
    assert_eq!(
        queues,
        ["marketing", "marketing", "sales", "marketing"],
        "{scored}"
    );
}

/// A do-not-call flag keeps a contact from sales (sales calls), whatever its score and
/// lead status; marketing may still email them. Opt-out headers CRMs write are known.
#[test]
fn do_not_call_keeps_a_contact_from_sales_and_opt_out_headers_are_known() {
    let env = Env::new();
    // Fails closed: any value but an empty cell or a clear no keeps them from sales, and the
    // route comes before the customers' one.
    env.write(
        "crm.csv",
        "Email,Job Title,Lead Status,Lifecycle Stage,Demo Requested,DoNotCall,Global Unsubscribe\n\
         a@acme.com,CEO,Working,lead,yes,true,false\n\
         b@acme.com,CEO,Working,lead,yes,false,false\n\
         c@acme.com,CEO,Working,lead,yes,false,true\n\
         d@acme.com,CEO,Working,lead,yes,DNC,false\n\
         e@acme.com,CEO,Working,lead,yes,,false\n\
         f@acme.com,CEO,Working,lead,yes,Yes - asked on call,false\n\
         g@acme.com,CEO,Working,customer,yes,true,false\n",
    );
    init(&env, &["crm.csv"]);
    let scored = classifies_cleanly(&env, "crm.csv");
    let queues = util::column(&scored, "queue");
    assert_eq!(
        queues,
        [
            "marketing",
            "sales",
            "suppressed",
            "marketing",
            "sales",
            "marketing",
            "marketing"
        ],
        "{scored}"
    );
}

/// A fail-closed opt-out whose column says "may be contacted" in a word the list lacks
/// would suppress nearly everyone on the first run: init says so (the header, counts only).
#[test]
fn a_fail_closed_rule_that_would_keep_most_contacts_away_is_said() {
    let env = Env::new();
    env.write(
        "crm.csv",
        "Email,Job Title,Opt Out\na@acme.com,CEO,Permitted\nb@acme.com,CEO,Permitted\n\
         c@acme.com,CEO,Blocked\nd@acme.com,CEO,Permitted\n",
    );
    let (_, _, out) = init(&env, &["crm.csv"]);
    assert!(
        stderr(&out)
            .contains("the rule on column `Opt Out` keeps 4 of the 4 sampled contacts away"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("Permitted"), "{}", stderr(&out));
    // A column of yes and no, or of no and blanks: nothing to say.
    env.write(
        "ok.csv",
        "Email,Job Title,Opt Out\na@acme.com,CEO,Subscribed\nb@acme.com,CEO,\nc@acme.com,CEO,Unsubscribed\n",
    );
    let out = run(env.cmd().args(["init", "-o", "ok.toml", "ok.csv"]));
    assert!(!stderr(&out).contains("keeps"), "{}", stderr(&out));
}

#[test]
fn salesforce_export_with_us_dates() {
    let (env, _, rules, _) = init_fixture("salesforce.csv");
    assert_eq!(rules.input.id.as_ref().map(|i| i.name.as_str()), Some("Id"));
    for (field, header) in [
        ("title", "Title"),
        ("employees", "NumberOfEmployees"),
        ("revenue", "AnnualRevenue"),
        ("country", "Country"),
        ("source", "LeadSource"),
        ("lead_status", "Status"),
        ("email", "Email"),
    ] {
        assert_eq!(columns(&rules, field)[0], header, "{field}");
    }
    has_opt_out_and_recency_rules(&rules, "HasOptedOutOfEmail", "LastActivityDate");
    // Report exports write dates month first, date-times with AM/PM.
    assert_eq!(rules.field("last_activity").unwrap().formats, ["%m/%d/%Y"]);
    assert_eq!(
        rules.field("created").unwrap().formats,
        ["%m/%d/%Y %I:%M %p"]
    );
    let scored = classifies_cleanly(&env, "salesforce.csv");
    assert_eq!(queue_of(&scored, "Id", "00Q5e00000A4"), "suppressed");
}

#[test]
fn pipedrive_export_with_a_text_marketing_status() {
    let (env, text, rules, out) = init_fixture("pipedrive.csv");
    assert_eq!(
        rules.input.id.as_ref().map(|i| i.name.as_str()),
        Some("Person - ID")
    );
    for (field, header) in [
        ("email", "Person - Email"),
        ("title", "Person - Job title"),
        ("employees", "Organization - Number of employees"),
        ("industry", "Organization - Industry"),
        ("lifecycle_stage", "Person - Label"),
    ] {
        assert_eq!(columns(&rules, field)[0], header, "{field}");
    }
    assert_eq!(
        columns(&rules, "last_activity")[0],
        "Person - Last activity date"
    );
    // "Subscribed" / "Unsubscribed" are not yes/no: text, and a disqualifier that fails
    // closed: any value but a clear no ("Subscribed") disqualifies.
    assert_eq!(kind(&rules, "unsubscribed"), FieldKind::Text);
    assert_eq!(
        columns(&rules, "unsubscribed")[0],
        "Person - Marketing status"
    );
    let words = rule(&rules, "Asked not to be contacted");
    assert!(words.disqualify);
    assert!(
        tests_of(words)
            .iter()
            .any(|t| matches!(t, ("unsubscribed", Op::In(_))))
    );
    assert!(text.contains("# \"Person - Marketing status\" looks like an email opt-out"));
    assert!(stderr(&out).contains("warning: column `Person - Marketing status`"));

    let scored = classifies_cleanly(&env, "pipedrive.csv");
    assert_eq!(queue_of(&scored, "Person - ID", "6"), "suppressed");
    assert_eq!(queue_of(&scored, "Person - ID", "4"), "customers");
    // Statuses the list never named are no "no": suppressed, as is any value but a clear no.
    let fixture = env.read("pipedrive.csv");
    let (head, body) = fixture.split_once('\n').unwrap();
    let status = head
        .split(',')
        .position(|h| h == "Person - Marketing status")
        .unwrap();
    let first: Vec<&str> = body.lines().next().unwrap().split(',').collect();
    let mut rows = format!("{head}\n");
    for (i, value) in [
        "Unsubscribed 2024-03-01",
        "Hard bounce",
        "Opted-out",
        "",
        "Subscribed",
    ]
    .iter()
    .enumerate()
    {
        let mut row: Vec<String> = first.iter().map(|c| c.to_string()).collect();
        row[0] = format!("{}", 100 + i);
        row[status] = value.to_string();
        rows.push_str(&format!("{}\n", row.join(",")));
    }
    env.write("variants.csv", rows);
    let scored = classifies_cleanly(&env, "variants.csv");
    let queues = util::column(&scored, "queue");
    assert_eq!(&queues[..3], ["suppressed"; 3], "{scored}");
    assert!(
        queues[3] != "suppressed" && queues[4] != "suppressed",
        "{scored}"
    );
}

/// "VP" and "owner" are whole words of a decision maker's title, not parts of "MVP Engineer"
/// or "Product Owner".
#[test]
fn decision_makers_are_found_by_whole_words() {
    let env = Env::new();
    env.write(
        "t.csv",
        "id,Email,Job Title\n1,a@x.com,MVP Engineer\n2,b@x.com,Product Owner\n\
         3,c@x.com,VP Sales\n4,d@x.com,Owner\n5,e@x.com,Co-founder & CEO\n",
    );
    init(&env, &["t.csv"]);
    let scored = classifies_cleanly(&env, "t.csv");
    let rows = crate::util::rows(&scored);
    let reasons = rows[0].iter().position(|h| h == "reasons").unwrap();
    let decides: Vec<&str> = rows[1..]
        .iter()
        .filter(|r| r[reasons].contains("Decision maker"))
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(decides, ["3", "4", "5"]);
}

/// A UK export whose first rows' dates all have a day of 12 or less: init sees the rest
/// (a day past the 12th says day first), and when every date could be either it says on
/// stderr which order it took.
#[test]
fn the_order_of_a_dates_day_and_month_is_judged_on_many_rows_and_a_guess_is_said() {
    let env = Env::new();
    let mut csv = String::from("id,Email,Last Activity Date\n");
    for i in 1..=120 {
        let day = if i <= 60 { 1 + i % 12 } else { 13 + i % 15 };
        csv.push_str(&format!("{i},p{i}@x.co.uk,{day:02}/03/2026\n"));
    }
    env.write("uk.csv", &csv);
    let (_, rules, out) = init(&env, &["uk.csv"]);
    assert_eq!(rules.field("last_activity").unwrap().formats, ["%d/%m/%Y"]);
    assert!(!stderr(&out).contains("could be month first or day first"));
    let ambiguous: String = csv.lines().take(61).map(|l| format!("{l}\n")).collect();
    env.write("uk.csv", ambiguous);
    std::fs::remove_file(env.path("rules.toml")).unwrap();
    let (_, rules, out) = init(&env, &["uk.csv"]);
    assert_eq!(rules.field("last_activity").unwrap().formats, ["%m/%d/%Y"]);
    assert!(
        stderr(&out).contains("could be month first or day first: init took month first"),
        "{}",
        stderr(&out)
    );
}

/// A hand-kept opt-out column, yes/no with notes: too few cells read as yes/no for `is =
/// true`, so the word list must still catch a plain "Yes" or "Y".
#[test]
fn an_opt_out_column_of_yes_and_words_suppresses_both() {
    let env = Env::new();
    env.write(
        "un.csv",
        "id,Email,Unsubscribed\n1,a@x.com,Yes\n2,b@x.com,no\n3,c@x.com,Y\n4,d@x.com,\n\
         5,e@x.com,yes (asked by phone)\n6,f@x.com,Unsubscribed\n7,g@x.com,no\n",
    );
    let (_, rules, _) = init(&env, &["un.csv"]);
    assert!(rule(&rules, "Asked not to be contacted").disqualify);
    let scored = classifies_cleanly(&env, "un.csv");
    for (id, queue) in [
        ("1", "suppressed"),
        ("3", "suppressed"),
        ("6", "suppressed"),
    ] {
        assert_eq!(queue_of(&scored, "id", id), queue, "contact {id}");
    }
    assert_ne!(queue_of(&scored, "id", "2"), "suppressed");
}

#[test]
fn mautic_export() {
    let (env, _, rules, _) = init_fixture("mautic.csv");
    assert_eq!(rules.input.id.as_ref().map(|i| i.name.as_str()), Some("id"));
    // Mautic's `title` is Mr/Ms; the job title is `position`.
    assert_eq!(columns(&rules, "title")[0], "position");
    assert_eq!(columns(&rules, "crm_score")[0], "points");
    assert_eq!(kind(&rules, "crm_score"), FieldKind::Number);
    assert_eq!(columns(&rules, "lifecycle_stage")[0], "stage");
    has_opt_out_and_recency_rules(&rules, "dnc", "last_active");
    let scored = classifies_cleanly(&env, "mautic.csv");
    assert_eq!(queue_of(&scored, "id", "6"), "suppressed");
}

#[test]
fn zoho_export_with_day_first_dates() {
    let (env, _, rules, _) = init_fixture("zoho.csv");
    assert_eq!(
        rules.input.id.as_ref().map(|i| i.name.as_str()),
        Some("Record Id")
    );
    for (field, header) in [
        ("title", "Designation"),
        ("employees", "No. of Employees"),
        ("lead_status", "Lead Status"),
        ("source", "Lead Source"),
        ("country", "Country"),
    ] {
        assert_eq!(columns(&rules, field)[0], header, "{field}");
    }
    has_opt_out_and_recency_rules(&rules, "Email Opt Out", "Last Activity Time");
    assert_eq!(
        rules.field("last_activity").unwrap().formats,
        ["%d/%m/%Y %H:%M"]
    );
    let scored = classifies_cleanly(&env, "zoho.csv");
    assert_eq!(
        queue_of(&scored, "Record Id", "4876876000000006"),
        "suppressed"
    );
}

/// CONFIRM WHEN `check` LANDS: `leadsort check` accepts what init writes for every export.
/// This is the one test that depends on `check`; the others verify with classify.
#[test]
fn check_accepts_what_init_writes() {
    for name in [
        "hubspot.csv",
        "salesforce.csv",
        "pipedrive.csv",
        "mautic.csv",
        "zoho.csv",
    ] {
        let (env, _, _, _) = init_fixture(name);
        let out = run(env.cmd().args(["check", "--rules", "rules.toml", name]));
        assert_eq!(
            out.status.code(),
            Some(0),
            "check on init's rules for {name}:\n{}",
            stderr(&out)
        );
    }
}

#[test]
fn us_dates_get_a_month_first_format() {
    let env = Env::new();
    env.write(
        "contacts.csv",
        "email,last_activity_date\n\
         a@acme.example,11/20/2026\n\
         b@acme.example,3/4/2026\n\
         c@acme.example,\n\
         d@acme.example,2026-10-01\n",
    );
    let (text, rules, _) = init(&env, &["contacts.csv"]);
    assert_eq!(rules.field("last_activity").unwrap().formats, ["%m/%d/%Y"]);
    assert!(text.contains(r#"formats = ["%m/%d/%Y"]"#));
    let scored = classifies_cleanly(&env, "contacts.csv");
    // 11/20/2026 is a week before the as-of date: read as a date, so recent.
    let reasons = util::column(&scored, "reasons");
    assert!(reasons[0].contains("Recently active"), "{reasons:?}");
}

#[test]
fn cells_that_do_not_read_as_the_type_are_not_typed() {
    let env = Env::new();
    env.write(
        "contacts.csv",
        "Email,Company Size,Demo Requested\n\
         a@acme.example,51-200,yes\n\
         b@acme.example,11-50,no\n\
         c@acme.example,1000+,\n",
    );
    let (text, rules, out) = init(&env, &["contacts.csv"]);
    assert!(rules.field("employees").is_none(), "not a number field");
    assert!(text.contains("# employees = \"Company Size\""));
    assert!(stderr(&out).contains(
        "warning: column `Company Size` looks like the company size, but fewer than 4 in 5 of \
         its first cells are numbers"
    ));
    assert_eq!(kind(&rules, "demo"), FieldKind::Bool);
    classifies_cleanly(&env, "contacts.csv");
}

#[test]
fn unrecognised_columns_are_listed_at_the_end() {
    let env = Env::new();
    env.write(
        "contacts.csv",
        "Email,Favourite Colour,Job Title,Shoe Size\na@acme.example,blue,CEO,42\n",
    );
    let (text, rules, _) = init(&env, &["contacts.csv"]);
    let tail = &text[text.rfind("# ----").unwrap()..];
    assert!(
        tail.contains(
            "# Columns of contacts.csv not used by any rule: \"Favourite Colour\", \"Shoe Size\"."
        ),
        "{tail}"
    );
    assert!(rules.field("title").is_some());
}

#[test]
fn quotes_and_backslashes_in_headers_stay_valid_toml() {
    let env = Env::new();
    env.write(
        "contacts.csv",
        "\"\"\"Email\"\"\",\"Job \"\"Title\"\"\",Notes \\ internal,\"Odd \"\"col\"\"\"\n\
         a@gmail.com,VP Sales,x,y\n",
    );
    let (text, rules, _) = init(&env, &["contacts.csv"]);
    assert_eq!(columns(&rules, "email")[0], "\"Email\"");
    assert_eq!(columns(&rules, "title")[0], "Job \"Title\"");
    assert!(
        text.contains(r#""Notes \\ internal", "Odd \"col\"""#),
        "{text}"
    );
    let scored = classifies_cleanly(&env, "contacts.csv");
    assert_eq!(
        util::column(&scored, "reasons"),
        ["Decision maker +20; Free mail address -10"]
    );
}

#[test]
fn no_known_columns_still_writes_a_valid_file_and_says_so() {
    let env = Env::new();
    env.write("contacts.csv", "Colour,Shoe Size\nblue,42\n");
    let (text, rules, out) = init(&env, &["contacts.csv"]);
    assert!(rules.rules.is_empty());
    assert!(text.contains("# when   = { field = \"Colour\", equals = \"some value\" }"));
    assert!(
        stderr(&out).contains(
            "leadsort: warning: none of the columns of contacts.csv is one leadsort knows"
        ),
        "{}",
        stderr(&out)
    );
    classifies_cleanly(&env, "contacts.csv");
}

/// Known columns that repeat are left out, and the run says so, instead of claiming it knows
/// none of the columns.
#[test]
fn repeated_known_columns_are_named_as_the_reason() {
    let env = Env::new();
    env.write(
        "contacts.csv",
        "Email,Email,Job Title,Job Title,Company Size\na@b.com,b@c.com,VP,CEO,50\n",
    );
    let (_, rules, out) = init(&env, &["contacts.csv"]);
    let err = stderr(&out);
    assert!(
        err.contains(
            "warning: the header of contacts.csv repeats `Email`, `Job Title`: repeated columns \
             are left out"
        ),
        "{err}"
    );
    // Company Size appears once: it is read.
    assert!(!rules.rules.is_empty(), "{err}");
    assert!(!err.contains("none of the columns"), "{err}");
}

#[test]
fn missing_input_is_exit_66_and_writes_nothing() {
    let env = Env::new();
    let out = run(env.cmd().args(["init", "nope.csv"]));
    assert_eq!(out.status.code(), Some(66));
    insta::assert_snapshot!(stderr(&out), @"leadsort: error: cannot read nope.csv: No such file or directory");
    assert!(env.files().is_empty());
}

#[test]
fn a_semicolon_export_is_sniffed_or_told() {
    let env = Env::new();
    env.write("export.csv", "Email;Job Title\na@acme.example;CTO\n");
    let (_, rules, _) = init(&env, &["export.csv"]);
    assert_eq!(columns(&rules, "title")[0], "Job Title");
    let (_, rules, _) = init(&env, &["--force", "-d", ";", "export.csv"]);
    assert_eq!(columns(&rules, "title")[0], "Job Title");
}

#[test]
fn help_has_examples() {
    let out = run(Env::new().cmd().args(["init", "--help"]));
    assert_ok(&out);
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("leadsort init contacts.csv"), "{help}");
    assert!(help.contains("--force"), "{help}");
}

#[cfg(unix)]
#[test]
fn the_rules_file_is_readable_by_others() {
    // A rules file holds no contact data; a cron job under another user may need to read it.
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.cmd().args(["init", "-q"]).assert().success();
    let mode = std::fs::metadata(env.path("rules.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    // Unless the umask says otherwise, as for any program's files: under `umask 077` (a
    // machine whose users must not read each other's files) it stays the owner's.
    let bin = assert_cmd::cargo::cargo_bin!("leadsort");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 077 && exec '{}' init -q -o private.toml",
            bin.display()
        ))
        .current_dir(env.root())
        .status()
        .unwrap();
    assert!(status.success());
    let mode = std::fs::metadata(env.path("private.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// A file without a header line: its first contact would name the columns of a rules file
/// (and its comments). Refused, saying why, with none of its cells shown.
#[test]
fn a_first_line_that_is_a_contact_writes_no_rules() {
    let env = Env::new();
    env.write(
        "nohdr.csv",
        "1,ann@acme.com,VP Sales,500,no\n2,bob@gmail.com,Engineer,20,no\n",
    );
    let out = env
        .cmd()
        .args(["init", "-o", "r.toml", "nohdr.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("the first line of nohdr.csv does not look like a header"),
        "{err}"
    );
    assert!(!err.contains("ann@") && !err.contains("VP Sales"), "{err}");
    assert!(!env.path("r.toml").exists());
    // A form's long question and numbered columns are a header init takes.
    let question = "How did you first hear about us, and what made you want to talk to \
                    our team about your sales process this quarter?";
    env.write(
        "form.csv",
        format!("Timestamp,Email Address,{question},1,2\n2026-11-01,a@x.com,Webinar,5,3\n"),
    );
    let out = env
        .cmd()
        .args(["init", "-o", "f.toml", "form.csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn web_analytics_columns_give_engagement_rules() {
    // As a marketing-automation export names them (X Education style, HubSpot's sessions).
    let env = Env::new();
    env.write(
        "contacts.csv",
        "Lead Number,TotalVisits,Total Time Spent on Website,Converted\n\
         1,7,1200,1\n2,0,0,0\n3,2,300,0\n",
    );
    let (_, rules, _) = init(&env, &["contacts.csv"]);
    assert_eq!(columns(&rules, "visits")[0], "TotalVisits");
    assert_eq!(
        columns(&rules, "time_on_site")[0],
        "Total Time Spent on Website"
    );
    let scored = classifies_cleanly(&env, "contacts.csv");
    assert_eq!(
        util::column(&scored, "reasons"),
        ["Visits +10; Time on the website +10", "", "Visits +4"]
    );
}

#[test]
fn referral_sources_are_people_not_sites() {
    let env = Env::new();
    env.write(
        "contacts.csv",
        "Email,Lead Source\na@acme.example,Reference\nb@acme.example,Referral Sites\n\
         c@acme.example,Partner Referral\nd@acme.example,Google\n",
    );
    init(&env, &["contacts.csv"]);
    let scored = classifies_cleanly(&env, "contacts.csv");
    assert_eq!(
        util::column(&scored, "reasons"),
        ["Referred to us +10", "", "Referred to us +10", ""]
    );
}
