#!/usr/bin/env bash
# The project's one test command: unit tests, release build, then the
# compatibility tests (our daemon vs the reference supervisord 4.2.5, both
# driven through the stock supervisorctl and xmlrpc.client).
#
#   compat-tests/run-all.sh [extra pytest args]     e.g.  -k ref   or   -k "status and ours"
#   compat-tests/run-all.sh compat-tests/test_web.py [-k ...]   (only these files)
#
# Environment: COMPAT_JOBS (pytest-xdist workers, default 4; 0 = no xdist),
#              SKIP_CARGO=1 (skip cargo test/build, e.g. when iterating on tests).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== creating $venv"
    python3 -m venv "$venv" || exit 1
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" || exit 1
    echo "$want" > "$stamp"
fi

# What the tests need from Debian, installed when missing and we may (root with apt-get, as in
# CI); each test that needs one skips, saying why, where it is absent:
# - chromium: the pages in a real headless browser (test_web.py, test_dashboard.py);
# - firefox-esr: the dashboard in Firefox too (test_dashboard.py, with firefox/'s node bridge);
# - busybox-static: a root file system with no C library for the static binary
#   (test_static_pid1.py).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} != 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
        || echo "${missing[*]} could not be installed; the tests that need them will be skipped"
fi
# The Firefox bridge's one dependency, puppeteer-core (no browser download), as locked.
if command -v npm >/dev/null 2>&1 && [ ! -d "$here/firefox/node_modules/puppeteer-core" ]; then
    echo "== npm ci (compat-tests/firefox)"
    (cd "$here/firefox" && npm ci --silent) \
        || echo "puppeteer-core could not be installed; the Firefox test will be skipped"
fi

failed=()
if [ "${SKIP_CARGO:-0}" != 1 ]; then
    echo "== cargo test --release (unit tests; shares the release build's dependencies)"
    cargo test --release || failed+=("cargo test")
    echo "== cargo build --release"
    cargo build --release || failed+=("cargo build --release")
    # The install paths (README, Install): the wheel packs target/release's binaries (maturin
    # reuses the build above), and the static build (glibc's crt-static here; musl in
    # docker/static.Dockerfile) has its own target directory.
    echo "== maturin build --release (the wheel, into target/wheels)"
    "$venv/bin/maturin" build --release --locked --out target/wheels || failed+=("maturin build")
    host=$(rustc -vV | sed -n 's/^host: //p')
    echo "== cargo build --release --target $host with crt-static (the static binaries)"
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --target "$host" \
        || failed+=("static build")
fi

export SUPERVISORD_BIN="${SUPERVISORD_BIN:-$root/target/release/supervisord}"
export REFERENCE_SUPERVISORD="${REFERENCE_SUPERVISORD:-$venv/bin/supervisord}"
export SUPERVISORCTL="${SUPERVISORCTL:-$venv/bin/supervisorctl}"

jobs=${COMPAT_JOBS:-4}
xdist=()
[ "$jobs" != 0 ] && xdist=(-n "$jobs")

# Test paths among the arguments replace the default (the whole compat-tests directory).
targets=("$here")
for arg in "$@"; do
    case "$arg" in
        -*) ;;
        *) [ -e "${arg%%::*}" ] && targets=() ;;
    esac
done

echo "== pytest compat-tests (ours: $SUPERVISORD_BIN)"
"$venv/bin/python" -m pytest "${targets[@]}" -rfE --timeout=300 --durations=15 "${xdist[@]}" "$@"
rc=$?
if [ $rc = 5 ]; then
    echo "pytest collected no tests: counted as a failure"
fi
[ $rc = 0 ] || failed+=("compat-tests (pytest exit $rc)")

if [ ${#failed[@]} -gt 0 ]; then
    printf 'FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "all passed"
