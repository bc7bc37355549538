#!/usr/bin/env bash
# The same journey as the notebook, from a shell (npm run demo:shell): a daily NetCDF-4 archive shaped like the
# original sample's (smaller grid), inspected, converted to Zarr v3 and v2, verified value by value,
# read back by xarray, and the same again through object storage: the local S3 endpoint the project
# runs (s3rver on 127.0.0.1), NetCDF read from S3 by ranges, Zarr written to S3, and finally converted by
# an ECS worker pool (a local ECS endpoint running the worker's container command as processes). (The
# notebook version of this journey is `npm run demo`.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
DEMO=build/demo
rm -rf "$DEMO" && mkdir -p "$DEMO"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Generate 14 daily NetCDF-4 files (24 hourly steps of T2M on a 91 x 144 grid)"
/usr/bin/python3 tools/make_daily_archive.py "$DEMO/netcdf" --days 14 --nlat 91 --nlon 144 | tail -n 2

step "2. Inspect the collection"
./bin/convert-to-zarr inspect "$DEMO"/netcdf/*.nc | head -n 30

step "3. Convert to Zarr v3, long in time and small in space (like the sample's (1080, 90, 90))"
./bin/convert-to-zarr convert "$DEMO"/netcdf/*.nc --out "$DEMO/T2M.zarr" --chunks time=336,lat=30,lon=36

step "4. Verify every value, dimension and attribute against the NetCDF files"
./bin/convert-to-zarr verify "$DEMO"/netcdf/*.nc "$DEMO/T2M.zarr"

step "5. The same as Zarr v2, and read back by xarray (Debian's, zarr-python 2)"
./bin/convert-to-zarr convert "$DEMO"/netcdf/*.nc --out "$DEMO/T2M.v2.zarr" --zarr-format 2 --chunks time=336,lat=30,lon=36
/usr/bin/python3 - "$DEMO/T2M.v2.zarr" <<'PY'
import sys, warnings
warnings.simplefilter("ignore")
import xarray as xr
ds = xr.open_zarr(sys.argv[1], consolidated=True)
print(ds)
ts = ds.T2M.sel(lat=40.7, lon=74, method="nearest")
print(f"\npoint time series at lat={float(ts.lat):.1f}, lon={float(ts.lon):.1f}: {ts.size} hourly values, "
      f"mean {float(ts.mean()):.2f} K, first {ts.time.values[0]}, last {ts.time.values[-1]}")
PY
step "6. The same through object storage: a local S3 endpoint, NetCDF on S3 → Zarr on S3"
export CONVERT_TO_ZARR_S3_LOCAL_STATE="$PWD/$DEMO/s3-local.json" AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
./bin/convert-to-zarr s3-local --dir "$DEMO/s3-data" --port 0 --bucket demo-bucket &
S3PID=$!
trap 'kill $S3PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -f "$CONVERT_TO_ZARR_S3_LOCAL_STATE" ] && break; sleep 0.1; done
node --input-type=module - "$DEMO"/netcdf/*.nc <<'JS'
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { S3Store } from "./dist/lib/index.js";
const bucket = new S3Store("s3://demo-bucket/netcdf");
for (const f of process.argv.slice(2)) await bucket.set(`/${basename(f)}`, readFileSync(f));
console.log(`uploaded ${process.argv.length - 2} files to s3://demo-bucket/netcdf/`);
JS
./bin/convert-to-zarr convert 's3://demo-bucket/netcdf/*.nc' --out s3://demo-bucket/T2M.zarr --chunks time=336,lat=30,lon=36 --overwrite
./bin/convert-to-zarr verify 's3://demo-bucket/netcdf/*.nc' s3://demo-bucket/T2M.zarr

step "7. The same on an ECS worker pool: a local ECS endpoint whose containers are processes (on AWS: the stack's Fargate workers)"
export CONVERT_TO_ZARR_ECS_LOCAL_STATE="$PWD/$DEMO/ecs-local.json"
./bin/convert-to-zarr ecs-local &
ECSPID=$!
trap 'kill $S3PID $ECSPID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -f "$CONVERT_TO_ZARR_ECS_LOCAL_STATE" ] && break; sleep 0.1; done
./bin/convert-to-zarr convert 's3://demo-bucket/netcdf/*.nc' --out s3://demo-bucket/T2M-ecs.zarr --chunks time=336,lat=30,lon=36 --max-mem 64MB --executor ecs --workers 3 --overwrite
./bin/convert-to-zarr verify 's3://demo-bucket/netcdf/*.nc' s3://demo-bucket/T2M-ecs.zarr
kill -INT $ECSPID; wait $ECSPID 2>/dev/null || true
kill $S3PID; wait $S3PID 2>/dev/null || true
step "Done: stores in $DEMO/ (the S3 objects as files under $DEMO/s3-data/)"
