#!/usr/bin/env bash
# Creates .venv/ at the repository root with Debian's python3 and installs the pinned modern reading
# stack (tools/python-requirements.txt: xarray, zarr 3, netCDF4, h5py, cftime, dask) used by
# test/py/compare_modern.py. Idempotent: pip runs only when the venv is missing or broken, or when the
# requirements file is newer than the stamp written after the last successful install; otherwise instant.
# Prints one line saying what it did. Needs Debian's python3-venv (tools/setup-system.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
VENV=.venv
REQ=tools/python-requirements.txt
STAMP=$VENV/.requirements-installed

if [ -f "$STAMP" ] && ! [ "$REQ" -nt "$STAMP" ] && "$VENV/bin/python" -c "" >/dev/null 2>&1; then
  echo "setup-python: $VENV up to date with $REQ"
  exit 0
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() {
  cat "$log" >&2
  echo "setup-python: $1" >&2
  exit 1
}

# A venv without a working interpreter or pip (Python upgraded underneath, an interrupted creation) is
# made again from scratch.
created=""
if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  rm -rf "$VENV"
  if ! "$PY" -m venv "$VENV" >"$log" 2>&1; then
    rm -rf "$VENV"
    fail "$PY -m venv failed; install Debian's python3-venv (tools/setup-system.sh does)"
  fi
  created=1
fi

rm -f "$STAMP"
# Wheels only: every pinned package has one for CPython 3.11 on Linux, and a source build of netCDF4 or
# h5py would need the C libraries' headers.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --only-binary=:all: \
  -r "$REQ" >"$log" 2>&1 || fail "installing $REQ into $VENV failed"
"$VENV/bin/python" -m pip check >"$log" 2>&1 || fail "the packages in $VENV are inconsistent"
touch "$STAMP"
if [ -n "$created" ]; then
  echo "setup-python: created $VENV and installed $REQ"
else
  echo "setup-python: updated $VENV from $REQ (newer than the last install)"
fi
