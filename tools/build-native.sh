#!/usr/bin/env bash
# Compiles the optional native addon zstd-napi (libzstd for Node 20, and chunk decoding into reused
# buffers on every Node) from the sources its npm package ships. npm installs run with
# --ignore-scripts here, so the addon's own install script (prebuild-install, which downloads from
# GitHub, then node-gyp) never runs; node-gyp is called directly instead. Idempotent: skips a
# build that loads. Never fails the caller: without the addon the library falls back to node:zlib
# or WASM, slower (a warning says so).
set -uo pipefail
cd "$(dirname "$0")/.."
PKG=node_modules/zstd-napi
[ -d "$PKG" ] || { echo "build-native: $PKG is not installed (optional dependency); skipping" >&2; exit 0; }
loads() { node -e "require('./$PKG/binding')" >/dev/null 2>&1; }
loads && exit 0
GYP="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$GYP" ] || GYP="$(npm root -g 2>/dev/null)/npm/node_modules/node-gyp/bin/node-gyp.js"
# Node's headers from this machine (npm's nodedir setting, else beside the node binary): node-gyp
# would otherwise download them.
NODEDIR="$(npm config get nodedir 2>/dev/null | tail -n 1)"
[ -f "$NODEDIR/include/node/node_api.h" ] || NODEDIR="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
ARGS=(rebuild --release)
[ -f "$NODEDIR/include/node/node_api.h" ] && ARGS+=("--nodedir=$NODEDIR")
echo "build-native: compiling zstd-napi (libzstd) with node-gyp, about a minute" >&2
if (cd "$PKG" && JOBS=max node "$GYP" "${ARGS[@]}" >/tmp/build-native.$$.log 2>&1) && loads; then
  rm -f /tmp/build-native.$$.log
else
  echo "build-native: WARNING: zstd-napi did not build (log: /tmp/build-native.$$.log); zstd falls back to node:zlib or WASM" >&2
fi
exit 0
