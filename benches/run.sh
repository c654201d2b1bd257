#!/usr/bin/env bash
# The whole-program benchmark reported in BENCHMARKS.md.
#
# 1. The shared kit's run.sh (../shared/bench, or $BENCH_KIT): leadsort with default threads
#    against the csv-crate floor, the naive hard-coded scorer and the installed peers
#    (pip install duckdb polars), all checked to give the same scores, tiers and queues.
# 2. leadsort's own targets: --threads 1, default threads, --split instead of stdout, a heavy
#    rule file (benches/heavy_rules.py: 200 rules, 20 regexes, word lists of 50), both rule
#    files with --no-reasons (the scoring without the reasons text to write), a 100-row
#    file, and peak memory at ROWS and at ten times ROWS.
#
# usage: benches/run.sh [ROWS]      (default 1000000)
# Needs python3 and hyperfine. Data and outputs go to $BENCH_DIR (default /tmp/leadsort-bench;
# use a RAM-backed folder such as /dev/shm/leadsort-bench to match BENCHMARKS.md). RUNS sets
# the number of timed runs (default 5); SKIP_KIT=1 skips step 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rows=${1:-1000000}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/leadsort-bench}
kit=${BENCH_KIT:-$root/../shared/bench}
runs=${RUNS:-5}
mkdir -p "$dir/out"
# Outputs of earlier runs (gigabytes in a RAM-backed folder) would squeeze the page cache.
rm -rf "${dir:?}/out/"*

(cd "$root" && cargo build --release --locked --quiet)
bin=$root/target/release/leadsort
in=$dir/contacts_$rows.csv
[ -s "$in" ] || python3 "$here/kit/gen_contacts.py" "$rows" "$in"

if [ -n "${SKIP_KIT:-}" ]; then
    echo "== SKIP_KIT set: skipping the peers"
elif [ -x "$kit/run.sh" ]; then
    echo "== the shared kit: leadsort, the floor and the peers"
    BENCH_DIR=$dir RUNS=$runs "$kit/run.sh" "$rows" "$bin"
else
    echo "== no shared kit at $kit: skipping the peers"
fi

echo "== leadsort's own targets"
python3 "$here/heavy_rules.py" >"$dir/heavy.toml"
[ -s "$dir/contacts_100.csv" ] || python3 "$here/kit/gen_contacts.py" 100 "$dir/contacts_100.csv"
rules=$here/kit/rules.toml
ls="$bin classify --as-of 2026-11-27"
mkdir -p "$dir/out/split"
hyperfine -N --warmup 1 --runs "$runs" --export-markdown "$dir/leadsort.md" \
    -n "threads 1" "$ls --rules $rules --threads 1 $in -o $dir/out/t1.csv" \
    -n "default threads" "$ls --rules $rules $in -o $dir/out/t.csv" \
    -n "split into DIR" "$ls --rules $rules --split $dir/out/split $in" \
    -n "heavy rules, threads 1" "$ls --rules $dir/heavy.toml --threads 1 $in -o $dir/out/h1.csv" \
    -n "heavy rules" "$ls --rules $dir/heavy.toml $in -o $dir/out/h.csv" \
    -n "no reasons" "$ls --rules $rules --no-reasons $in -o $dir/out/nr.csv" \
    -n "heavy rules, no reasons" "$ls --rules $dir/heavy.toml --no-reasons $in -o $dir/out/hnr.csv"
hyperfine -N --warmup 5 --runs 100 --export-markdown "$dir/small.md" \
    -n "100 rows" "$ls --rules $rules $dir/contacts_100.csv -o $dir/out/small.csv"
python3 "$here/kit/check_output.py" "$dir/out/t1.csv" "$dir/out/t.csv"
cmp "$dir/out/t1.csv" "$dir/out/t.csv" && echo "threads 1 and default: the same bytes"

echo "== peak memory"
big=$dir/contacts_${rows}x10.csv
if [ ! -s "$big" ]; then
    # Ten copies of the file (ids repeat; memory does not care).
    { cat "$in"; for _ in 2 3 4 5 6 7 8 9 10; do tail -n +2 "$in"; done; } >"$big"
fi
for f in "$in" "$big"; do
    for t in 1 2; do
        /usr/bin/time -f "%M KiB peak, %e s: $(basename "$f"), --threads $t" \
            $ls --rules "$rules" --threads $t "$f" -o "$dir/out/mem.csv"
    done
done
echo "results: $dir/results.md (kit), $dir/leadsort.md, $dir/small.md"
