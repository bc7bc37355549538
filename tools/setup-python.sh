#!/usr/bin/env bash
# Creates the project's Python environments with Debian's python3 and installs their pinned packages:
#   .venv/       the modern reading stack (tools/python-requirements.txt: xarray, zarr 3, netCDF4, h5py,
#                cftime, dask) used by test/py/compare_modern.py;
#   .venv-moto/  moto's S3/SQS server (tools/moto-requirements.txt), a real local implementation for
#                the AWS tests (its pins clash with the readers', so it lives apart).
# Idempotent: pip runs only for a venv that is missing or broken, or whose requirements file is newer
# than the stamp written after its last successful install; otherwise instant. One line per venv.
# Needs Debian's python3-venv (tools/setup-system.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() {
  cat "$log" >&2
  echo "setup-python: $1" >&2
  exit 1
}

setup_venv() {
  local venv=$1 req=$2 stamp=$1/.requirements-installed created=""
  if [ -f "$stamp" ] && ! [ "$req" -nt "$stamp" ] && "$venv/bin/python" -c "" >/dev/null 2>&1; then
    echo "setup-python: $venv up to date with $req"
    return
  fi
  # A venv without a working interpreter or pip (Python upgraded underneath, an interrupted creation)
  # is made again from scratch.
  if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$venv"
    if ! "$PY" -m venv "$venv" >"$log" 2>&1; then
      rm -rf "$venv"
      fail "$PY -m venv failed; install Debian's python3-venv (tools/setup-system.sh does)"
    fi
    created=1
  fi
  rm -f "$stamp"
  # Wheels only: every pinned package has one for CPython 3.11 on Linux, and a source build of netCDF4
  # or h5py would need the C libraries' headers.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --only-binary=:all: \
    -r "$req" >"$log" 2>&1 || fail "installing $req into $venv failed"
  "$venv/bin/python" -m pip check >"$log" 2>&1 || fail "the packages in $venv are inconsistent"
  touch "$stamp"
  if [ -n "$created" ]; then
    echo "setup-python: created $venv and installed $req"
  else
    echo "setup-python: updated $venv from $req (newer than the last install)"
  fi
}

setup_venv .venv tools/python-requirements.txt
setup_venv .venv-moto tools/moto-requirements.txt
