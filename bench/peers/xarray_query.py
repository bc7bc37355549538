"""The same point query with Debian's xarray (zarr-python 2), timed inside the process, for
bench/latency.ts: open_zarr(consolidated=True), nearest lat/lon, load the time series.
usage: xarray_query.py STORE VARIABLE LAT LON REPEATS  → one JSON line {"cold_ms": [...], "values": n, "first": x}"""
import json
import sys
import time
import warnings

warnings.simplefilter("ignore")
import xarray as xr  # noqa: E402

store, var, lat, lon, repeats = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    ds = xr.open_zarr(store, consolidated=True, decode_cf=False)
    v = ds[var].sel(lat=lat, lon=lon, method="nearest").values
    times.append((time.perf_counter() - t0) * 1000)
    ds.close()
print(json.dumps({"cold_ms": times, "values": int(v.size), "first": float(v.ravel()[0])}))
