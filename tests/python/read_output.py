#!/usr/bin/env python3
"""Read a leadsort output with an independent reader and print it as JSON on stdout:
{"sheets": {name: [[header...], [row...], ...]}, "types": {name: [[type...], ...]}}.

usage: read_output.py FILE        (.csv, .tsv, .jsonl, .xlsx by extension)

CSV and TSV: Python's csv module (utf-8-sig, so a byte order mark is dropped). JSON Lines:
json, one object per line, turned into rows under the first object's keys (reasons kept as
their JSON). XLSX: openpyxl; each sheet's cells with their types (n number, s string,
f formula, b bool), so tests can check that no cell is a formula and scores are numbers.
"""
import csv
import json
import sys


def main(path):
    out = {"sheets": {}, "types": {}}
    if path.endswith(".xlsx"):
        import openpyxl  # pip install openpyxl (.ci/run does)

        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            rows, types = [], []
            for row in ws.iter_rows():
                rows.append(["" if c.value is None else c.value for c in row])
                types.append([c.data_type for c in row])
            out.setdefault("order", []).append(ws.title)
            out["sheets"][ws.title] = rows
            out["types"][ws.title] = types
            out.setdefault("frozen", {})[ws.title] = ws.freeze_panes
            out.setdefault("filter", {})[ws.title] = ws.auto_filter.ref
    elif path.endswith(".jsonl"):
        rows = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                obj = json.loads(line)
                if not rows:
                    rows.append(list(obj.keys()))
                rows.append([obj[k] for k in rows[0]])
        out["sheets"]["rows"] = rows
    else:
        delimiter = "\t" if path.endswith(".tsv") else ","
        with open(path, encoding="utf-8-sig", newline="") as f:
            out["sheets"]["rows"] = list(csv.reader(f, delimiter=delimiter))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
