#!/usr/bin/env bash
# The main job on the local default, one command: installs what is missing (Debian packages incl.
# Jupyter and Chromium, npm packages, a build, the notebook kernel), then executes
# notebooks/Convert-NetCDF-to-Zarr.ipynb headless through Jupyter with the TypeScript kernel (it starts
# its own local S3 endpoint), and writes the executed notebook, an HTML report with the plots, and a
# screenshot of the report. Sizes: NB_DAYS (14), NB_APPEND_DAYS (3), NB_NLAT x NB_NLON (91 x 144).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
bash kernel/install.sh
OUT=build/notebook
mkdir -p "$OUT"
export PYDEVD_DISABLE_FILE_VALIDATION=1
/usr/bin/python3 tools/run_notebook.py notebooks/Convert-NetCDF-to-Zarr.ipynb \
  --out "$OUT/Convert-NetCDF-to-Zarr.ipynb" --html "$OUT/Convert-NetCDF-to-Zarr.html" --timeout 1800
if command -v chromium >/dev/null; then
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --user-data-dir="$(mktemp -d)" --virtual-time-budget=15000 \
    --window-size=1200,5200 --screenshot="$OUT/Convert-NetCDF-to-Zarr.png" "file://$PWD/$OUT/Convert-NetCDF-to-Zarr.html" 2>/dev/null
fi
echo "demo: report $OUT/Convert-NetCDF-to-Zarr.html (executed notebook and screenshot beside it)"
