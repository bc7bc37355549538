#!/usr/bin/env bash
# Registers the notebook kernel ("TypeScript (convert-to-zarr)") with the Jupyter it finds: a conda
# environment's when one is active, else the user's (Debian/Ubuntu's Jupyter, installed first by
# tools/setup-system.sh when missing). Idempotent; prints where the kernelspec went.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE="$(command -v node)"
if [ -n "${CONDA_PREFIX:-}" ]; then
  DEST="$CONDA_PREFIX/share/jupyter/kernels/convert-to-zarr-ts"
else
  DEST="${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}/kernels/convert-to-zarr-ts"
fi
[ -f "$ROOT/node_modules/tslab/dist/main.js" ] || { echo "kernel/install.sh: tslab missing; run npm ci first" >&2; exit 1; }
# No conda env and no Jupyter yet: on Debian/Ubuntu, install Debian's (tools/setup-system.sh).
if [ -z "${CONDA_PREFIX:-}" ] && ! /usr/bin/python3 -c "import jupyter_client, nbclient" 2>/dev/null; then
  bash "$ROOT/tools/setup-system.sh"
fi
mkdir -p "$DEST"
cat > "$DEST/kernel.json" <<JSON
{
  "argv": ["$NODE", "$ROOT/kernel/tslab-kernel.cjs", "--config-path", "{connection_file}"],
  "display_name": "TypeScript (convert-to-zarr)",
  "language": "typescript",
  "env": {"NODE_NO_WARNINGS": "1", "CONVERT_TO_ZARR_ROOT": "$ROOT"}
}
JSON
echo "kernel/install.sh: kernel convert-to-zarr-ts registered in $DEST"
