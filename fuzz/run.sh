#!/usr/bin/env bash
# Runs the fuzz targets (libFuzzer through cargo fuzz), each for a while on its seeds, and
# fails when one finds a crash (a panic or a failed assertion), an input that takes too long
# or one that takes too much memory. `.ci/run` runs it briefly; to fuzz for real:
#
#   fuzz/run.sh [-t SECONDS] [TARGET...]      default: 15 s each, every target
#
# Build: `cargo fuzz build -O -s none -a`: optimised as a release build, debug assertions on
# (integer overflow panics), no sanitizer (the code under test is safe Rust; ASan would slow
# each input 2-3x and blur the time bar, and `-s none` needs no nightly compiler).
# Bars: -timeout=1 (libFuzzer's smallest, whole seconds) for the release build's 100 ms bar
# (see the README's "Fuzzing" for the factor measured between the two builds),
# -rss_limit_mb=512 (a request or a config that needs half a GiB is a finding),
# -max_len per target at the size the daemon accepts or a real input reaches.
# New inputs go to fuzz/corpus/TARGET (not committed), findings to fuzz/artifacts/TARGET.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

seconds=15
if [ "${1:-}" = "-t" ]; then
    seconds=$2
    shift 2
fi
all=(xmlrpc_call config config_value authorization web_form)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

# Largest input tried, per target.
max_len() {
    case $1 in
        xmlrpc_call) echo 262144 ;;   # requests up to 8 MiB are read; bigger is slower, not wiser
        config) echo 1048576 ;;       # real configs stay far below; the quadratic cases need room
        config_value) echo 65536 ;;
        authorization) echo 16384 ;;  # hyper's header limits
        web_form) echo 1048576 ;;     # a POST body is read up to 1 MiB
    esac
}

# The build is cargo-fuzz's own (`cargo fuzz build -O -s none -a`: the same flags, the same
# target directory), made with plain cargo so that a fresh machine need not compile cargo-fuzz
# first (2-3 minutes of CI). `cargo fuzz run TARGET` works on it as usual.
host=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 -Cllvm-args=-sanitizer-coverage-stack-depth \
-Cdebug-assertions -Ccodegen-units=1"
echo "== fuzz build (cargo build --release --target $host, cargo-fuzz's flags)"
start=$(date +%s)
cargo build --release --target "$host" --bins || exit 1
unset RUSTFLAGS
echo "fuzz build took $(( $(date +%s) - start )) s"
bin="$here/target/$host/release"

failed=()
for t in "${targets[@]}"; do
    echo "== fuzz $t for ${seconds}s"
    mkdir -p "corpus/$t" "artifacts/$t"
    log=$(mktemp)
    "$bin/$t" "corpus/$t" "seeds/$t" \
        -max_total_time="$seconds" -timeout=1 -rss_limit_mb=512 \
        -max_len="$(max_len "$t")" -dict="dicts/${t%_value}.dict" \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$log"
    if [ $rc != 0 ]; then
        # libFuzzer's report: what happened, where, and the input that did it
        grep -E -A40 'ERROR: libFuzzer|panicked at|==[0-9]+== ERROR' "$log" | head -60
        grep -E 'Test unit written to|^Base64:' "$log"
        failed+=("$t")
    fi
    rm -f "$log"
done

if [ ${#failed[@]} -gt 0 ]; then
    printf 'fuzz target failed: %s (inputs in fuzz/artifacts/)\n' "${failed[@]}"
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, nothing found"
