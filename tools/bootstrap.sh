#!/usr/bin/env bash
# Makes a fresh clone runnable: system packages (only the missing ones), the Python venv with today's
# readers (.venv/, only when absent or older than tools/python-requirements.txt), npm packages (only
# when node_modules is absent or older than the lockfile), then a build. Safe to run again.
# --no-system skips the system packages and the venv (for commands that need only Node, like s3:local).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--no-system" ]; then
  bash tools/setup-system.sh
  bash tools/setup-python.sh
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --ignore-scripts
fi
# The optional zstd addon (compiled once; a no-op when it loads, a warning when it cannot build).
bash tools/build-native.sh
# The repo's TypeScript 7, by path: tslab's TypeScript 5.0.4 fork may own node_modules/.bin/tsc.
TSC=node_modules/typescript/bin/tsc
node "$TSC" --version >/dev/null
node -e "require('fs').rmSync('dist',{recursive:true,force:true})"
node "$TSC" -p .
