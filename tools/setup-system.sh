#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the tests and cross-checks need, only those missing, so it is
# idempotent and quick on a machine that has them. Independent readers for the cross-checks:
# xarray + zarr-python 2 + netCDF4-python + h5py, dask (xarray.open_zarr uses it), nccopy/ncgen;
# python3-venv for .venv/ with today's readers (zarr 3, tools/setup-python.sh); and for
# the notebook: Jupyter (nbclient/nbconvert to run it headless, the classic notebook to open it) and
# Chromium (the rendered-report check); g++ and make for the zstd addon (tools/build-native.sh).
set -euo pipefail

PACKAGES=(python3-xarray python3-zarr python3-netcdf4 python3-h5py python3-dask python3-venv netcdf-bin time
  python3-nbclient python3-nbconvert python3-nbformat python3-jupyter-client python3-ipykernel jupyter-notebook chromium
  g++ make)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all system packages present"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "setup-system: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup-system: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
echo "setup-system: done"
