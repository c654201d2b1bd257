//! `[balance]` (sales capacity, overflow, min_sales), `[[rep]]` (owners) and decay, end to
//! end: no queue over its capacity, no contact dropped, the summary tells how many waited.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::util::{Env, rows};

/// The shipped example and rules, with `extra` appended to the rules.
fn example(extra: &str) -> Env {
    let env = Env::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules = std::fs::read_to_string(root.join("rules.toml")).unwrap();
    env.write("rules.toml", format!("{rules}\n{extra}"));
    env.write(
        "contacts.csv",
        std::fs::read(root.join("examples/contacts.csv")).unwrap(),
    );
    env
}

/// Every row of every queue file in `out/`, by id: (queue file, score, owner, reasons).
fn split(env: &Env) -> BTreeMap<String, (String, i64, String, String)> {
    let mut all = BTreeMap::new();
    for entry in std::fs::read_dir(env.path("out")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".csv") || name == "rejected.csv" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let rows = rows(&text);
        let at = |c: &str| rows[0].iter().position(|h| h == c);
        let (id, score, reasons) = (
            at("Contact ID").unwrap(),
            at("score").unwrap(),
            at("reasons").unwrap(),
        );
        for r in &rows[1..] {
            let owner = at("owner").map_or(String::new(), |o| r[o].clone());
            let before = all.insert(
                r[id].clone(),
                (
                    name.clone(),
                    r[score].parse().unwrap(),
                    owner,
                    r[reasons].clone(),
                ),
            );
            assert!(before.is_none(), "contact {} in two files", r[id]);
        }
    }
    all
}

fn run_split(env: &Env, extra_args: &[&str]) -> Value {
    std::fs::create_dir_all(env.path("out")).unwrap();
    let mut args = vec!["contacts.csv", "--split", "out"];
    args.extend(extra_args);
    let out = env.classify(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&env.read("out/summary.json")).unwrap()
}

#[test]
fn sales_capacity_takes_the_highest_scores_and_the_rest_wait_with_the_reason() {
    let plain = example("");
    let before = run_split(&plain, &[]);
    let sales_before = split(&plain)
        .into_iter()
        .filter(|(_, (f, ..))| f == "sales.csv")
        .collect::<BTreeMap<_, _>>();
    assert_eq!(sales_before.len(), 37);

    let env = example("[balance]\nsales_capacity = 10\n");
    let summary = run_split(&env, &[]);
    let all = split(&env);
    assert_eq!(all.len(), 240, "every contact once");
    let sales: Vec<i64> = all
        .values()
        .filter(|(f, ..)| f == "sales.csv")
        .map(|v| v.1)
        .collect();
    assert_eq!(sales.len(), 10, "never more than the capacity");
    // The ones taken have the highest scores of those bound for sales.
    let mut scores: Vec<i64> = sales_before.values().map(|v| v.1).collect();
    scores.sort_unstable_by(|a, b| b.cmp(a));
    let mut taken = sales.clone();
    taken.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(taken, scores[..10]);
    // The others wait in marketing, saying why.
    let waiting: Vec<&String> = sales_before
        .keys()
        .filter(|id| all[*id].0 != "sales.csv")
        .collect();
    assert_eq!(waiting.len(), 27);
    for id in waiting {
        assert_eq!(all[id].0, "marketing.csv");
        assert!(all[id].3.ends_with("over sales capacity"), "{}", all[id].3);
    }
    let b = &summary["balance"];
    assert_eq!(b["sales_capacity"], 10);
    assert_eq!(b["bound_for_sales"], 37);
    assert_eq!(b["sales"], 10);
    assert_eq!(b["over_capacity"], 27);
    assert_eq!(summary["queues"]["sales"], 10);
    assert_eq!(
        summary["queues"]["marketing"].as_u64().unwrap(),
        before["queues"]["marketing"].as_u64().unwrap() + 27
    );
    // Tiers do not change: a warm contact waiting is still warm.
    assert_eq!(summary["tiers"], before["tiers"]);
}

#[test]
fn a_capacity_of_0_sends_nobody_to_sales_or_to_that_rep() {
    // A week without room in sales; a rep on holiday.
    let env = example("[balance]\nsales_capacity = 0\n");
    let summary = run_split(&env, &[]);
    assert_eq!(summary["balance"]["sales"], 0, "{summary}");
    assert_eq!(summary["balance"]["over_capacity"], 37, "{summary}");
    assert!(split(&env).values().all(|(file, ..)| file != "sales.csv"));

    let env =
        example("[[rep]]\nname = \"Ana\"\ncapacity = 0\n[[rep]]\nname = \"Ben\"\ncapacity = 5\n");
    let summary = run_split(&env, &[]);
    assert_eq!(
        summary["balance"]["reps"]["Ana"]["assigned"], 0,
        "{summary}"
    );
    assert_eq!(
        summary["balance"]["reps"]["Ben"]["assigned"], 5,
        "{summary}"
    );
    let owners: Vec<String> = split(&env)
        .into_values()
        .filter(|(file, ..)| file == "sales.csv")
        .map(|(_, _, owner, _)| owner)
        .collect();
    assert_eq!(owners, ["Ben"; 5]);
}

#[test]
fn an_overflow_queue_gets_its_own_file() {
    let env = example("[balance]\nsales_capacity = 5\noverflow_queue = \"waiting\"\n");
    let summary = run_split(&env, &[]);
    let all = split(&env);
    let waiting = all.values().filter(|(f, ..)| f == "waiting.csv").count();
    assert_eq!(waiting, 32);
    assert_eq!(summary["queues"]["waiting"], 32);
    assert_eq!(summary["balance"]["overflow_queue"], "waiting");
}

#[test]
fn reps_own_sales_contacts_within_their_capacity_and_territory() {
    let env = example(
        "[balance]\nowner = \"Sales Status\"\n\
         [[rep]]\nname = \"Ana\"\ncapacity = 8\nwhen = { field = \"country\", in = [\"United States\", \"USA\", \"US\"] }\n\
         [[rep]]\nname = \"Ben\"\ncapacity = 12\nweight = 2\n\
         [[rep]]\nname = \"Cy\"\ncapacity = 6\n",
    );
    let summary = run_split(&env, &[]);
    let all = split(&env);
    assert_eq!(all.len(), 240);
    let text = std::fs::read_to_string(env.path("contacts.csv")).unwrap();
    let input = rows(&text);
    let country = input[0].iter().position(|h| h == "Country").unwrap();
    let id = input[0].iter().position(|h| h == "Contact ID").unwrap();
    let countries: BTreeMap<&str, &str> = input[1..]
        .iter()
        .map(|r| (r[id].as_str(), r[country].as_str()))
        .collect();
    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    for (cid, (file, _, owner, reasons)) in &all {
        if file == "sales.csv" {
            assert!(!owner.is_empty(), "{cid}: in sales without an owner");
            *load.entry(owner.as_str()).or_default() += 1;
            if owner == "Ana" {
                assert!(["United States", "USA", "US"].contains(&countries[cid.as_str()]));
            }
        } else {
            assert!(owner.is_empty(), "{cid}: an owner outside sales");
            assert!(!reasons.contains("over sales capacity"));
        }
    }
    assert!(
        load["Ana"] <= 8 && load["Ben"] <= 12 && load["Cy"] <= 6,
        "{load:?}"
    );
    let reps = &summary["balance"]["reps"];
    for (name, n) in &load {
        assert_eq!(reps[*name]["assigned"].as_u64().unwrap() as usize, *n);
    }
    // 37 bound for sales, 26 seats: the rest wait, saying why.
    assert_eq!(load.values().sum::<usize>(), 26);
    assert_eq!(summary["balance"]["no_rep"], 11);
    let reasons: BTreeSet<&str> = all
        .values()
        .filter(|v| v.3.ends_with("no sales rep with room"))
        .map(|v| v.0.as_str())
        .collect();
    assert_eq!(reasons, BTreeSet::from(["marketing.csv"]));
}

#[test]
fn an_owner_in_the_input_is_kept_while_the_rep_has_room() {
    let env = Env::standard();
    env.write(
        "rules.toml",
        format!(
            "{}\n[balance]\nowner = \"owner\"\n[[rep]]\nname = \"Ann\"\ncapacity = 1\n[[rep]]\nname = \"Bö\"\ncapacity = 5\n",
            crate::util::RULES
        ),
    );
    // Two warm contacts say Bö owns them, in any case; Ann, first in the file, would get one
    // otherwise.
    env.write(
        "c.csv",
        "id,email,Job Title,Company Size,demo,unsubscribed,sales_status,owner\n\
         1,a@acme.com,VP,500,yes,no,,bö\n\
         2,b@acme.com,VP,500,yes,no,,\n\
         3,c@acme.com,VP,500,yes,no,,BÖ\n\
         4,d@acme.com,VP,500,yes,no,,Zed\n",
    );
    let out = env.classify(&["c.csv"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let owners: BTreeMap<String, String> = rows(&text)[1..]
        .iter()
        .map(|r| (r[0].clone(), r[r.len() - 2].clone()))
        .collect();
    assert_eq!(owners["1"], "Bö");
    assert_eq!(owners["3"], "Bö");
    // 2 and 4 (whose owner is no rep) share what is left: Ann's one seat, then Bö.
    assert_eq!(owners["2"], "Ann");
    assert_eq!(owners["4"], "Bö");
    // Zed is no rep: said once, without naming anyone.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 contact bound for sales names an owner that is no [[rep]] in the rules"),
        "{err}"
    );
    assert!(!err.contains("Zed"), "{err}");
    // A rep who left, listed under former_owners: placed the same, without the warning (a
    // nightly --deny-warnings run would fail for good on it). check agrees.
    let rules = env.read("rules.toml").replace(
        "owner = \"owner\"\n",
        "owner = \"owner\"\nformer_owners = [\"zed\"]\n",
    );
    env.write("rules.toml", rules);
    let out = env
        .classify(&["--deny-warnings", "c.csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
    let out = env
        .cmd()
        .args(["check", "--as-of", "2026-11-27", "c.csv"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("no [[rep]]"), "{err}");
}

#[test]
fn min_sales_warns_and_deny_warnings_replaces_nothing() {
    let env = example("[balance]\nsales_capacity = 50\nmin_sales = 40\n");
    env.write("scored.csv", "yesterday's");
    let out = env
        .classify(&["contacts.csv", "-o", "scored.csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sales gets 37 contacts, fewer than min_sales = 40"),
        "{err}"
    );

    env.write("scored.csv", "yesterday's");
    let out = env
        .classify(&["contacts.csv", "-o", "scored.csv", "--deny-warnings"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert_eq!(env.read("scored.csv"), "yesterday's");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.ends_with("(--deny-warnings): no output was replaced\n"),
        "{err}"
    );
    // -q keeps the warning that fails the run: the log says why.
    let out = env
        .classify(&["-q", "contacts.csv", "-o", "scored.csv", "--deny-warnings"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fewer than min_sales = 40"), "{err}");
    // On stdout the rows went out as they were scored: the message says to discard them.
    let out = env
        .classify(&["contacts.csv", "--deny-warnings"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "no output was replaced, but the rows went to stdout as they were scored: discard them"
        ),
        "{err}"
    );
}

#[test]
fn jsonl_carries_the_owner_and_the_balance_reason() {
    // Ana could take 5, sales 3: three to Ana, the rest wait over capacity.
    let env = example("[balance]\nsales_capacity = 3\n[[rep]]\nname = \"Ana\"\ncapacity = 5\n");
    let out = env
        .classify(&["contacts.csv", "--format", "jsonl"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut owners = 0;
    let mut waiting = BTreeMap::new();
    for line in text.lines() {
        let o: Value = serde_json::from_str(line).unwrap();
        if o["owner"] == "Ana" {
            owners += 1;
            assert_eq!(o["queue"], "sales");
        }
        if let Some(b) = o["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|r| r.get("balance"))
        {
            *waiting.entry(b.as_str().unwrap().to_string()).or_insert(0) += 1;
        }
    }
    assert_eq!(owners, 3);
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting["over sales capacity"], 34, "{waiting:?}");
}

#[test]
fn decay_fades_points_in_the_output() {
    let env = example(
        "[[rule]]\nname = \"Fading demo\"\nwhen = { field = \"demo\", is = true }\npoints = 20\n\
         decay = { field = \"last_seen\", half_life_days = 30 }\n",
    );
    let out = env.classify(&["contacts.csv"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Fading demo +"), "the rule matches somewhere");
    assert!(
        text.contains("(decayed from 20)"),
        "and its points decayed somewhere"
    );
}

/// `leadsort explain --id ID --format json` on the example, as of classify's date.
fn explain_json(env: &Env, id: &str) -> Value {
    let out = env
        .cmd()
        .args([
            "explain",
            "--as-of",
            "2026-11-27",
            "contacts.csv",
            "--format",
            "json",
        ])
        .args(["--id-column", "Contact ID", "--id", id])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn explain_sends_each_contact_where_the_balance_of_classify_does() {
    let env = example(
        "[balance]\nsales_capacity = 6\noverflow_queue = \"waiting\"\nowner = \"Sales Status\"\n\
         [[rep]]\nname = \"Ana\"\ncapacity = 6\nwhen = { field = \"country\", in = [\"United States\", \"USA\", \"US\"] }\n\
         [[rep]]\nname = \"Ben\"\ncapacity = 2\n",
    );
    run_split(&env, &[]);
    let all = split(&env);
    // Those the rules sent to sales: taken (with a rep) or waiting for one of two reasons
    // (Ben, who takes contacts from outside Ana's territory, fills up first).
    let bound: Vec<_> = all
        .iter()
        .filter(|(_, (file, ..))| file == "sales.csv" || file == "waiting.csv")
        .collect();
    let waits = |why: &str| bound.iter().filter(|(_, v)| v.3.ends_with(why)).count();
    assert!(waits("over sales capacity") > 0 && waits("no sales rep with room") > 0);
    for (id, (file, _, owner, reasons)) in &bound {
        let e = explain_json(&env, id);
        assert_eq!(
            format!("{}.csv", e["queue"].as_str().unwrap()),
            *file,
            "{id}"
        );
        let b = &e["balance"];
        assert_eq!(b["bound_for_sales"], bound.len(), "{id}");
        assert_eq!(b["rep"].as_str().unwrap_or(""), owner, "{id}");
        match b["waits"].as_str() {
            Some(why) => assert!(reasons.ends_with(why), "{id}: {reasons}"),
            None => assert_eq!(file, "sales.csv"),
        }
    }
    // Places are 1 to n, each once: the order classify takes them in.
    let mut places: Vec<u64> = (bound.iter())
        .map(|(id, _)| explain_json(&env, id)["balance"]["place"].as_u64().unwrap())
        .collect();
    places.sort_unstable();
    assert_eq!(places, (1..=bound.len() as u64).collect::<Vec<_>>());
    // A contact the rules keep from sales has no balance to explain.
    let (cold, _) = all.iter().find(|(_, v)| v.0 == "marketing.csv").unwrap();
    assert!(explain_json(&env, cold).get("balance").is_none());
}

#[test]
fn explain_says_a_contact_over_sales_capacity_waits() {
    let env = example("[balance]\nsales_capacity = 3\n");
    run_split(&env, &[]);
    let all = split(&env);
    let (id, _) = all
        .iter()
        .find(|(_, v)| v.3.ends_with("over sales capacity"))
        .unwrap();
    let out = env
        .cmd()
        .args(["explain", "--as-of", "2026-11-27", "contacts.csv"])
        .args(["--id-column", "Contact ID", "--id", id])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].ends_with(", queue marketing"), "{text}");
    let at = lines
        .iter()
        .position(|l| *l == "balance (sales_capacity 3)");
    let at = at.unwrap_or_else(|| panic!("no balance section in:\n{text}"));
    assert!(
        lines[at + 1].starts_with("  number ")
            && lines[at + 1].ends_with(" of 37 contacts of contacts.csv bound for sales, by score"),
        "{text}"
    );
    assert_eq!(lines[at + 2], "  waits in marketing: over sales capacity");
}

/// explain says why the rep: the contact's owner, its territory, or neither (the share of the
/// reps without one); and an owner without room.
#[test]
fn explain_says_why_a_contact_gets_its_rep() {
    let env = Env::new();
    env.write(
        "rules.toml",
        "version = 1\n[fields]\ncountry = { column = \"Country\", optional = true }\n[tiers]\nwarm = 20\n\
         [[rule]]\nname = \"Demo\"\nwhen = { field = \"demo\", is = true }\npoints = 20\n\
         [balance]\nowner = \"owner\"\n\
         [[rep]]\nname = \"Elena\"\ncapacity = 1\nwhen = { field = \"country\", in = [\"DE\"] }\n\
         [[rep]]\nname = \"Sam\"\ncapacity = 10\n",
    );
    env.write(
        "c.csv",
        "id,demo,Country,owner\n1,yes,DE,\n2,yes,US,\n3,yes,US,sam\n4,yes,DE,elena\n",
    );
    for (row, line) in [
        (
            "1",
            "  goes to sales, rep Elena (the rep's territory takes it)",
        ),
        (
            "2",
            "  goes to sales, rep Sam (no territory rep with room takes it: of the reps without \
             a territory, the one furthest below its share)",
        ),
        ("3", "  goes to sales, rep Sam (the contact's owner)"),
        (
            "4",
            "  goes to sales, rep Sam (its owner, Elena, has no room; no territory rep with room \
             takes it: of the reps without a territory, the one furthest below its share)",
        ),
    ] {
        let out = env
            .cmd()
            .args(["explain", "--as-of", "2026-11-27", "--row", row, "c.csv"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.lines().any(|l| l == line), "row {row}:\n{text}");
    }
}

#[test]
fn explain_adds_up_reps_of_any_capacity() {
    let big = i64::MAX;
    let reps: String = ["Ana", "Ben", "Cy"]
        .iter()
        .map(|name| format!("[[rep]]\nname = \"{name}\"\ncapacity = {big}\n"))
        .collect();
    let env = example(&reps);
    run_split(&env, &[]);
    let (id, _) = split(&env)
        .into_iter()
        .find(|(_, v)| v.0 == "sales.csv")
        .unwrap();
    let out = env
        .cmd()
        .args(["explain", "--as-of", "2026-11-27", "contacts.csv"])
        .args(["--id-column", "Contact ID", "--id", &id])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let room = 3 * u128::from(big.unsigned_abs());
    assert!(
        text.contains(&format!("\nbalance (3 reps with room for {room})\n")),
        "{text}"
    );
}

#[test]
fn an_input_that_already_has_the_added_columns_is_warned_about() {
    // Yesterday's output fed back in: its score, tier and owner columns would come twice.
    let env = Env::new();
    env.write(
        "rules.toml",
        "version = 1\n[tiers]\nwarm = 10\n[[rule]]\nname = \"VP\"\n\
         when = { field = \"title\", contains = \"vp\" }\npoints = 20\n\
         [[rep]]\nname = \"Ana\"\ncapacity = 5\n",
    );
    env.write(
        "old.csv",
        "id,title,score,tier,owner\n1,VP Sales,20,warm,Ana\n2,Intern,0,cold,\n",
    );
    let out = env.classify(&["old.csv"]).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the input already has `score`, `tier`, `owner` columns, which the output adds too: CSV will have them twice"),
        "{err}"
    );
    // Without reps there is no owner column to clash with.
    env.write(
        "rules.toml",
        "version = 1\n[tiers]\nwarm = 10\n[[rule]]\nname = \"VP\"\n\
         when = { field = \"title\", contains = \"vp\" }\npoints = 20\n",
    );
    let out = env.classify(&["old.csv"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the input already has `score`, `tier` columns"),
        "{err}"
    );
}
