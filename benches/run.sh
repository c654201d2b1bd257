#!/usr/bin/env bash
# The whole-program benchmark reported in BENCHMARKS.md.
#
# 1. The shared kit's run.sh (../shared/bench, or $BENCH_KIT): leadsort with default threads
#    against the csv-crate floor, the naive hard-coded scorer and the installed peers
#    (pip install duckdb polars), all checked to give the same scores, tiers and queues.
# 2. leadsort's own targets, in paired rounds (benches/paired.py): --threads 1, default
#    threads and --split against the floor; a heavy rule file (benches/heavy_rules.py: 200
#    rules, 20 regexes, word lists of 50), its --sparse variant (lists of 50 that name only 5
#    values the data has) and the rule files with --no-reasons (the scoring without the
#    reasons text to write) against the 13-rule run. Then a 100-row file
#    (hyperfine) and peak memory at ROWS and at ten times ROWS, with the heavy rules, and on
#    rows 1,700 times their input (benches/long_reasons.py).
#
# usage: benches/run.sh [ROWS]      (default 1000000)
# Needs python3 and hyperfine. Data and outputs go to $BENCH_DIR (default /tmp/leadsort-bench;
# use a RAM-backed folder such as /dev/shm/leadsort-bench to match BENCHMARKS.md). RUNS sets
# the number of hyperfine runs of step 1 (default 5), ROUNDS the paired rounds of step 2
# (default 10); SKIP_KIT=1 skips step 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rows=${1:-1000000}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/leadsort-bench}
kit=${BENCH_KIT:-$root/../shared/bench}
runs=${RUNS:-5}
rounds=${ROUNDS:-10}
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
python3 "$here/heavy_rules.py" --sparse >"$dir/sparse.toml"
[ -s "$dir/contacts_100.csv" ] || python3 "$here/kit/gen_contacts.py" 100 "$dir/contacts_100.csv"
rules=$here/kit/rules.toml
ls="$bin classify --as-of 2026-11-27"
o=$dir/out
mkdir -p "$o/split"
# Paired rounds (benches/paired.py): each round runs every command once and takes the ratios
# inside the round, so the machine's drift over minutes cancels out. Against the floor (the
# kit's, built here if step 1 did not):
floor=$dir/floor-target/release/csv-floor
[ -x "$floor" ] || (cd "$kit/floor" && CARGO_TARGET_DIR="$dir/floor-target" cargo build --release --quiet)
python3 "$here/paired.py" "$rounds" floor \
    "floor=$o/floor.csv=$floor floor $in $o/floor.csv" \
    "threads 1=$o/t1.csv=$ls --rules $rules --threads 1 $in -o $o/t1.csv" \
    "default threads=$o/t.csv=$ls --rules $rules $in -o $o/t.csv" \
    "split into DIR=$o/split=$ls --rules $rules --split $o/split $in" | tee "$dir/paired-floor.md"
# Against the 13-rule run with default threads:
python3 "$here/paired.py" "$rounds" "13 rules" \
    "13 rules=$o/r.csv=$ls --rules $rules $in -o $o/r.csv" \
    "heavy rules=$o/h.csv=$ls --rules $dir/heavy.toml $in -o $o/h.csv" \
    "13 rules, no reasons=$o/nr.csv=$ls --rules $rules --no-reasons $in -o $o/nr.csv" \
    "heavy rules, no reasons=$o/hnr.csv=$ls --rules $dir/heavy.toml --no-reasons $in -o $o/hnr.csv" \
    "heavy rules, threads 1=$o/h1.csv=$ls --rules $dir/heavy.toml --threads 1 $in -o $o/h1.csv" \
    "sparse heavy rules=$o/s.csv=$ls --rules $dir/sparse.toml $in -o $o/s.csv" \
    "sparse heavy rules, no reasons=$o/snr.csv=$ls --rules $dir/sparse.toml --no-reasons $in -o $o/snr.csv" \
    | tee "$dir/paired-heavy.md"
hyperfine -N --warmup 5 --runs 100 --export-markdown "$dir/small.md" \
    -n "100 rows" "$ls --rules $rules $dir/contacts_100.csv -o $o/small.csv"
# paired.py deletes its outputs: write the two compared once more.
$ls --rules "$rules" --threads 1 "$in" -o "$o/t1.csv"
$ls --rules "$rules" "$in" -o "$o/t.csv"
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
# And with the heavy rules, whose rows are seven times their input.
for t in 1 2; do
    /usr/bin/time -f "%M KiB peak, %e s: $(basename "$in"), heavy rules, --threads $t" \
        $ls --rules "$dir/heavy.toml" --threads $t "$in" -o "$dir/out/mem.csv"
done
# And rows 1,700 times their input (benches/long_reasons.py), written to /dev/null (3.4 GB).
[ -s "$dir/long/ids.csv" ] || python3 "$here/long_reasons.py" "$dir/long"
for t in 1 2 8; do
    /usr/bin/time -f "%M KiB peak, %e s: ids, long reasons, --threads $t" \
        $ls --rules "$dir/long/rules.toml" --threads $t "$dir/long/ids.csv" -o /dev/null
done
echo "results: $dir/results.md (kit), $dir/paired-floor.md, $dir/paired-heavy.md, $dir/small.md"
