#!/usr/bin/env python3
"""An independent reading of CSV files, for tests/integration/robustness.rs (conformance).

usage: oracle.py FILE...

Prints a JSON array with one object per file, read with Python's csv module (not with
leadsort's reader) following the input rules leadsort documents (README, "Classify contacts";
RELIABILITY.md):

  {"file": F, "workbook": true} a workbook (a ZIP file: XLSX, ODS; an OLE file: old Excel),
                               which leadsort reads and this oracle does not
  {"file": F, "refuse": WHY}   not CSV text (NUL bytes, a header that is not UTF-8): leadsort
                               must exit 65 without output
  {"file": F, "empty": true}   no header line at all: exit 65
  {"file": F, "delimiter": D, "header": [...], "records": [{"fields": [...] or null,
   "ok": bool}, ...]}          every record after the header; ok = as many fields as the header
                               and valid UTF-8 (fields is null when it is not UTF-8)

Decoding: gzip is decompressed; a UTF-16 byte order mark decides UTF-16; a UTF-8 byte order
mark is dropped; otherwise bytes are kept as they are and each field is checked for UTF-8.
Delimiter: an Excel `sep=X` first line, else tab for .tsv/.tab, else the most frequent of
`,` `;` tab `|` outside quotes on the first non-blank line (`,` when none or on a tie).
Blank lines are skipped, as csv readers do, and so are records of separators only (`,,,,`,
the empty rows spreadsheets export).
"""
import csv
import gzip
import io
import json
import re
import sys

CANDIDATES = [",", ";", "\t", "|"]


def sniff(line):
    counts = {c: 0 for c in CANDIDATES}
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts.values())
    if best == 0 or counts[","] == best:
        return ","
    return next(c for c in CANDIDATES if counts[c] == best)


def read(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        return {"workbook": True}
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text, bytewise = raw.decode("utf-16"), False
    elif b"\x00" in raw:
        return {"refuse": "NUL bytes"}
    else:
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        # latin-1 maps bytes to code points one to one, so the bytes of every field can be
        # recovered exactly and checked for UTF-8 afterwards.
        text, bytewise = raw.decode("latin-1"), True

    lines = re.split(r"\r\n|\r|\n", text)
    delimiter = None
    if lines and len(lines[0]) == 5 and lines[0][:4].lower() == "sep=":
        delimiter = lines[0][4]
        text = text[len(lines[0]):]
        text = text[2:] if text.startswith("\r\n") else text[1:]
    elif path.endswith((".tsv", ".tab")):
        delimiter = "\t"
    else:
        first = next((l for l in lines if l.strip("\r\n") != ""), "")
        delimiter = sniff(first)

    def field(f):
        if not bytewise:
            return f
        try:
            return f.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return None

    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    if not rows:
        return {"empty": True}
    header = [field(f) for f in rows[0]]
    if any(h is None for h in header):
        return {"refuse": "a header that is not UTF-8"}
    records = []
    for r in rows[1:]:
        if len(r) > 1 and all(f == "" for f in r):
            continue  # separators only (`,,,,`): a blank line
        fields = [field(f) for f in r]
        utf8 = all(f is not None for f in fields)
        records.append({
            "fields": fields if utf8 else None,
            "ok": utf8 and len(fields) == len(header),
        })
    return {"delimiter": delimiter, "header": header, "records": records}


def main():
    csv.field_size_limit(sys.maxsize)
    out = []
    for path in sys.argv[1:]:
        entry = {"file": path}
        entry.update(read(path))
        out.append(entry)
    json.dump(out, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main()
