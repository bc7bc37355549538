"""One NetCDF-4 file of 400 x 360 x 360 float32 (207 MB), chunks (1, 360, 360), deflate 4 + shuffle:
the shape the field notes measured nccopy and raw chunk copy on. usage: make_single_file.py OUT"""
import sys

import netCDF4
import numpy as np

rng = np.random.default_rng(3)
with netCDF4.Dataset(sys.argv[1], "w", format="NETCDF4") as nc:
    nc.createDimension("time", None)
    nc.createDimension("y", 360)
    nc.createDimension("x", 360)
    t = nc.createVariable("time", "f8", ("time",))
    t.units = "days since 2000-01-01"
    v = nc.createVariable("sst", "f4", ("time", "y", "x"), zlib=True, shuffle=True, complevel=4, chunksizes=(1, 360, 360),
                          fill_value=np.float32(-999.0))
    base = 15 + 10 * np.cos(np.linspace(-1.5, 1.5, 360))[:, None] + np.zeros((360, 360))
    for i in range(400):
        v[i] = (base + rng.normal(0, 0.3, (360, 360))).astype("f4")
        t[i] = i
