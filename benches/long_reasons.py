#!/usr/bin/env python3
"""Rows far longer than their input: 300,000 ids (2 MB) and 200 long-named rules that all
match, so each row's reasons come to about 11 KB and the output to 1,700 times the input.
Peak memory on it shows whether rows stay bounded however a rule file makes them grow.

usage: benches/long_reasons.py DIR   (writes DIR/ids.csv and DIR/rules.toml)
then:  /usr/bin/time -f '%M KB' leadsort classify --rules DIR/rules.toml DIR/ids.csv -o /dev/null
"""
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
with open(out / "ids.csv", "w") as f:
    f.write("id\n")
    for i in range(300_000):
        f.write(f"{i}\n")
with open(out / "rules.toml", "w") as f:
    f.write("version = 1\n[tiers]\nwarm = 10\n")
    for r in range(200):
        f.write(
            f'[[rule]]\nname = "A rule with a rather long and descriptive name number {r:03d}"\n'
            f'when = {{ field = "id", between = [0, 1000000] }}\npoints = 1\n\n'
        )
