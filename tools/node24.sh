#!/usr/bin/env bash
# Prints the path of a Node 24 binary, installing the npm registry's `node@24` package into
# .tmp/node24 when this machine's node is older. Used by CI to run the suite on both Node versions.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 24 ]; then command -v node; exit 0; fi
dir=.tmp/node24
if [ ! -x "$dir/node_modules/.bin/node" ]; then
  mkdir -p "$dir"
  (cd "$dir" && echo '{"private":true}' > package.json && npm install --no-audit --no-fund --loglevel=error node@24 >/dev/null)
fi
echo "$PWD/$dir/node_modules/.bin/node"
