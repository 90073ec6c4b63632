#!/usr/bin/env bash
# supervisorctl side by side: the stock client against ours (see bench/ctl_bench.py).
#
#   bench/ctl.sh [--runs N] [--daemons ours,ref] [--programs N]
#
# Uses the stock client and reference daemon of compat-tests/.venv (or bench/.venv, created
# with supervisor==4.2.5 as bench/run.sh does), and builds ours (cargo build --release).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
VENV="$ROOT/compat-tests/.venv"
if ! [ -x "$VENV/bin/supervisorctl" ]; then
  VENV="$HERE/.venv"
  if ! [ -x "$VENV/bin/supervisorctl" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "supervisor==4.2.5"
  fi
fi
if [ "${NO_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && cargo build --release >&2)
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$VENV/bin/python" "$HERE/ctl_bench.py" --stock "$VENV/bin/supervisorctl" \
  --ours "$ROOT/target/release/supervisorctl" --ref-daemon "$VENV/bin/supervisord" \
  --our-daemon "$ROOT/target/release/supervisord" "$@"
