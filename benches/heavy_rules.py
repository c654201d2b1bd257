#!/usr/bin/env python3
"""A heavy rule file for the benchmark workload's columns: 200 rules, 20 of them regexes,
word lists of 50. Prints rules.toml to stdout; the same every time.

usage: benches/heavy_rules.py [--kind K] [--sparse] > heavy.toml

--kind K (0 to 9) makes all 200 rules of the one kind rule K of every ten is (0 regexes, 1 and 2
contains_any, 3 and 4 in, 5 at_least, 6 within_days, 7 is, 8 domain_in, 9 all of a between and
an in), to see what each kind costs.

By default the lists name nearly every value the data has, so about 79 of the 200 rules fire
on each contact and the reasons column is about 1 KB a contact (the output is 4.8 times the
workload's). --sparse keeps every list at 50 entries but only 5 of them are values the data
has (the others are made up, as in a list of target accounts). The engine does the same work
per rule, but a rule fires on 17% of contacts (the workload's 13 rules: 24%), so about 33 reasons
a contact, 440 bytes (the workload: 3 reasons, 64 bytes).
"""
import random
import sys

rng = random.Random(20261127)
WORDS = ("director vp chief head manager lead senior principal founder owner partner "
         "engineer analyst consultant specialist coordinator officer president advisor "
         "architect sales marketing growth revenue product design data security cloud "
         "finance legal people talent support success operations strategy research "
         "platform mobile web infra devops quality brand content demand field channel "
         "enterprise").split()
INDUSTRIES = ("software saas fintech retail manufacturing health education media "
              "logistics energy telecom insurance banking gaming travel food agriculture "
              "construction automotive aerospace biotech pharma consulting legal "
              "government nonprofit hospitality realestate security robotics").split()
COUNTRIES = ("US CA GB DE FR ES IT NL BE SE NO DK FI IE PT PL CZ AT CH AU NZ JP KR SG "
             "IN BR MX AR CL CO ZA NG KE EG AE SA IL TR GR HU RO BG HR SI SK LT LV EE "
             "IS").split()


def words(pool, n=50):
    if SPARSE:
        out = rng.sample(pool, min(5, len(pool)))
        while len(out) < n:
            out.append(rng.choice(pool) + str(len(out)))
        rng.shuffle(out)
        return out
    out = list(pool)
    while len(out) < n:
        out.append(rng.choice(pool) + str(len(out)))
    rng.shuffle(out)
    return out[:n]


def toml_list(items):
    return "[" + ", ".join(f'"{w}"' for w in items) + "]"


args = sys.argv[1:]
SPARSE = "--sparse" in args
if SPARSE:
    args.remove("--sparse")
only = int(args[1]) if len(args) == 2 and args[0] == "--kind" else None
print('version = 1\n\n[tiers]\nwarm = 50\n')
for i in range(200):
    kind = i % 10 if only is None else only
    name = f"Rule {i + 1}"
    points = rng.choice([-20, -10, -5, 5, 10, 15, 20])
    if kind == 0:
        # One rule in ten is a regex: 20 in all.
        pat = rng.choice([r"^(vp|chief|head)\b", r"director|manager", r"\bsenior\b",
                          r"(?i)gdpr|dpa|security review", r"\d{3}", r"^[a-m]",
                          r"(inc|llc|gmbh|ltd)\.?$", r"call back|follow up"])
        field = rng.choice(["job_title", "notes", "company"])
        when = f'{{ field = "{field}", matches = \'{pat}\' }}'
    elif kind in (1, 2):
        field = rng.choice(["job_title", "notes"])
        when = f'{{ field = "{field}", contains_any = {toml_list(words(WORDS))} }}'
    elif kind == 3:
        when = f'{{ field = "industry", in = {toml_list(words(INDUSTRIES))} }}'
    elif kind == 4:
        when = f'{{ field = "country", in = {toml_list(words(COUNTRIES))} }}'
    elif kind == 5:
        field = rng.choice(["company_size", "email_clicks", "page_views", "email_opens"])
        when = f'{{ field = "{field}", at_least = {rng.randint(1, 500)} }}'
    elif kind == 6:
        when = f'{{ field = "last_activity_date", within_days = {rng.randint(7, 365)} }}'
    elif kind == 7:
        field = rng.choice(["demo_requested", "webinar_attended"])
        when = f'{{ field = "{field}", is = {rng.choice(["true", "false"])} }}'
    elif kind == 8:
        when = (f'{{ field = "email", domain_in = '
                f'{toml_list(words(["gmail.com", "yahoo.com", "acme.com"]))} }}')
    else:
        when = (f'{{ all = [{{ field = "company_size", between = [10, {rng.randint(50, 900)}] }}, '
                f'{{ field = "lead_source", in = {toml_list(words(["LinkedIn", "Referral", "Webinar"]))} }}] }}')
    print(f'[[rule]]\nname = "{name}"\nwhen = {when}\npoints = {points}\n')
