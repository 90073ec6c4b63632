#!/usr/bin/env bash
# Side-by-side benchmark: reference supervisord 4.2.5 vs ours.
#
#   bench/run.sh [--quick] [--rounds N] [--only ref|ours] [--figures a,b,...]
#                [--ours PATH] [--no-build] [other bench.py options]
#
# Prepares a venv with supervisor==4.2.5 (reuses compat-tests/.venv if it has one,
# else creates bench/.venv), builds our binary (cargo build --release) and the load
# generator (bench/loadgen), raises the open-files limit, then runs bench/bench.py.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"

OURS=""
BUILD=1
ONLY=""
PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ours) OURS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --only) ONLY="$2"; PASS+=("$1" "$2"); shift 2 ;;
    *) PASS+=("$1"); shift ;;
  esac
done

# --- reference venv
VENV=""
if [ -x "$ROOT/compat-tests/.venv/bin/supervisord" ] \
   && "$ROOT/compat-tests/.venv/bin/supervisord" --version 2>/dev/null | grep -qx 4.2.5; then
  VENV="$ROOT/compat-tests/.venv"
else
  VENV="$HERE/.venv"
  if ! { [ -x "$VENV/bin/supervisord" ] && "$VENV/bin/supervisord" --version 2>/dev/null | grep -qx 4.2.5; }; then
    echo "== creating $VENV with supervisor==4.2.5" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "supervisor==4.2.5"
  fi
fi
REF="$VENV/bin/supervisord"

# --- our binary
if [ -z "$OURS" ]; then
  OURS="$ROOT/target/release/supervisord"
  if [ "$BUILD" = 1 ] && [ "$ONLY" != "ref" ]; then
    echo "== cargo build --release (ours)" >&2
    if ! (cd "$ROOT" && cargo build --release --bin supervisord >&2); then
      echo "!! build of ours failed: its figures will be n/a" >&2
      OURS="$ROOT/target/release/.missing-supervisord"
    fi
  fi
fi

# --- load generator
LOADGEN="$HERE/loadgen/target/release/bench-loadgen"
if [ "$BUILD" = 1 ] || [ ! -x "$LOADGEN" ]; then
  echo "== cargo build --release (bench/loadgen)" >&2
  (cd "$HERE/loadgen" && cargo build --release --quiet >&2)
fi

# --- limits: 2000 programs need ~10000 descriptors in the daemon
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec "$VENV/bin/python" "$HERE/bench.py" --ref "$REF" --ours "$OURS" --loadgen "$LOADGEN" "${PASS[@]}"
