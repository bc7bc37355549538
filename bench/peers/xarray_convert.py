"""The Python peer for bench/convert: Debian's xarray + Dask doing the same job as ours — open the
daily files, rechunk to the target chunks, write Zarr v2 with zstd (after numcodecs' Shuffle on
numbers wider than a byte when SHUFFLE is 1, as ours does by default for v2) — on 2 threads, values
kept as stored (decode_cf=False, like ours: no masking, no time decoding, no float conversion).

usage: xarray_convert.py OUT CHUNKS(time,lat,lon) LEVEL SHUFFLE(0|1) FILE...
"""
import sys
import warnings

import dask
import numcodecs
import xarray as xr

warnings.simplefilter("ignore")
out, chunks, level, shuffle, files = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5:]
with dask.config.set(scheduler="threads", num_workers=2):
    ds = xr.open_mfdataset(files, engine="netcdf4", combine="nested", concat_dim="time", data_vars="minimal",
                           coords="minimal", compat="override", decode_cf=False, chunks={"time": 24})
    ds = ds.chunk(dict(zip(("time", "lat", "lon"), chunks)))
    for v in ds.variables.values():
        v.encoding.pop("chunks", None)
    def encoding(v):
        wide = v.dtype.kind in "iuf" and v.dtype.itemsize > 1
        return {"compressor": numcodecs.Zstd(level=level), "filters": [numcodecs.Shuffle(elementsize=v.dtype.itemsize)] if shuffle and wide else None}
    enc = {k: encoding(v) for k, v in ds.variables.items()}
    ds.to_zarr(out, mode="w", encoding=enc, consolidated=True)
