#!/usr/bin/env bash
# Opens the notebook interactively (Debian's classic Jupyter Notebook, or whatever `jupyter` is on
# PATH, e.g. a conda environment's JupyterLab) with the TypeScript kernel registered.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
bash kernel/install.sh
if command -v jupyter-lab >/dev/null; then exec jupyter-lab notebooks/Convert-NetCDF-to-Zarr.ipynb "$@"; fi
exec jupyter-notebook notebooks/Convert-NetCDF-to-Zarr.ipynb "$@"
