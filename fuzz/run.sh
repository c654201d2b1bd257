#!/usr/bin/env bash
# Run every fuzz target for a fixed time, one after the other, on one core.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     default: 600 seconds, every target
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). The toolchain is stable: RUSTC_BOOTSTRAP=1
# lets cargo-fuzz pass the nightly-only flags it needs. Seeds (fuzz/seeds/<target>, committed)
# are copied into the corpus (fuzz/corpus/<target>, ignored by git), which grows across runs.
# Prints one summary line per target; exits 1 if any target crashed, naming the input that
# crashed it (in fuzz/artifacts/<target>/). See fuzz/README.md for turning it into a test.
set -uo pipefail

cd "$(dirname "$0")"
seconds=${1:-600}
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(classify rules condition)
fi

export RUSTC_BOOTSTRAP=1
# No sanitizer by default: leadsort forbids unsafe code, and the address sanitizer makes the
# classify target about 12 times slower (it starts threads and fills 512 KiB buffers on every
# input). `FUZZ_SANITIZER=address` turns it on, to check the unsafe code of dependencies.
sanitizer=${FUZZ_SANITIZER:-none}

max_len() {
    case "$1" in
        classify) echo 65536 ;;
        rules) echo 16384 ;;
        *) echo 4096 ;;
    esac
}

# -a: debug assertions and overflow checks, as in the test build.
mkdir -p target
for target in "${targets[@]}"; do
    if ! nice cargo fuzz build -a -s "$sanitizer" "$target" >target/build.log 2>&1; then
        tail -30 target/build.log >&2
        echo "fuzz $target: build failed (full log in fuzz/target/build.log)" >&2
        exit 2
    fi
done

failed=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    cp -n "seeds/$target/"* "corpus/$target/" 2>/dev/null || true
    log="artifacts/$target/last-run.log"
    before=$(ls "artifacts/$target" | grep -c -E '^(crash|oom|timeout|leak)-' || true)
    nice cargo fuzz run -a -s "$sanitizer" "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" \
        -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1
    status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    corpus=$(ls "corpus/$target" | wc -l)
    after=$(ls "artifacts/$target" | grep -c -E '^(crash|oom|timeout|leak)-' || true)
    if [ "$status" -eq 0 ]; then
        echo "fuzz $target: ok, ${runs:-?} runs in ${seconds}s, coverage ${cov:-?} edges / ${ft:-?} features, corpus $corpus"
    else
        failed=1
        artifact=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/Test unit written to //')
        panic=$(grep -m1 -E "panicked at|ERROR: AddressSanitizer|ERROR: libFuzzer" "$log")
        echo "fuzz $target: FAILED (exit $status) after ${runs:-?} runs; new artifacts: $((after - before))"
        echo "  ${panic:-see the log}"
        echo "  input: ${artifact:-fuzz/artifacts/$target/?}"
        echo "  log:   fuzz/$log"
    fi
done
exit "$failed"
