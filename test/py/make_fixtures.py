"""Writes small files that exercise what the shared corpus lacks. usage: make_fixtures.py OUT_DIR"""
import os
import sys

import h5py
import netCDF4
import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
P = lambda n: os.path.join(out, n)  # noqa: E731

# CDF-5: 64-bit and unsigned types, two record variables, a big int64 attribute and NaN attributes.
with netCDF4.Dataset(P("cdf5.nc"), "w", format="NETCDF3_64BIT_DATA") as nc:
    nc.createDimension("rec", None)
    nc.createDimension("x", 3)
    nc.big = np.int64(2**53 + 1)
    nc.nan = np.float64("nan")
    a = nc.createVariable("i64", "i8", ("rec", "x"), fill_value=np.int64(-(2**62)))
    a.valid_max = np.int64(2**62)
    a[:] = np.array([[2**53 + 1, -(2**62), 7], [1, 2, 3]], dtype="i8")
    u = nc.createVariable("u8", "u1", ("rec", "x"))
    u[:] = np.array([[0, 255, 128], [1, 2, 3]], dtype="u1")
    nc.createVariable("u64", "u8", ("x",))[:] = np.array([0, 2**64 - 1, 2**63], dtype="u8")
    nc.createVariable("u16", "u2", ("x",))[:] = np.array([0, 65535, 1], dtype="u2")
    f = nc.createVariable("f4", "f4", ("x",))
    f.missing = np.float32("nan")
    f[:] = np.array([np.nan, -np.inf, 1.5], dtype="f4")

# CDF-1 with exactly one record variable of 6 bytes per record: the one case without record padding.
with netCDF4.Dataset(P("one_record_var.nc"), "w", format="NETCDF3_CLASSIC") as nc:
    nc.createDimension("t", None)
    nc.createDimension("k", 3)
    v = nc.createVariable("s", "i2", ("t", "k"))
    v[:] = np.arange(15, dtype="i2").reshape(5, 3)

# NetCDF-4: strings, chars, int64/uint64, big-endian data, a multi-valued string attribute, groups.
with netCDF4.Dataset(P("netcdf4_types.nc"), "w", format="NETCDF4") as nc:
    nc.createDimension("n", 3)
    nc.createDimension("nchar", 4)
    s = nc.createVariable("names", str, ("n",))
    s[:] = np.array(["alpha", "βeta", ""], dtype=object)
    c = nc.createVariable("codes", "S1", ("n", "nchar"))
    c[:] = netCDF4.stringtochar(np.array(["ab", "cdef", "g"], dtype="S4"))
    b = nc.createVariable("be", "f8", ("n",), endian="big")
    b[:] = [1.25, -2.5, 1e300]
    q = nc.createVariable("big", "i8", ("n",))
    q.setncattr_string("labels", ["one", "two"])
    q[:] = [2**62, -1, 0]
    g = nc.createGroup("inner")
    g.createDimension("m", 2)
    gv = g.createVariable("packed", "i2", ("m",), fill_value=np.int16(-1))
    gv.scale_factor = np.float32(0.5)
    gv.add_offset = 100.0
    gv.set_auto_maskandscale(False)
    gv[:] = np.array([3, -1], dtype="i2")

# Plain HDF5 through h5py: a 512-byte user block, filters, phony dims, and dimension scales.
with h5py.File(P("userblock.h5"), "w", userblock_size=512) as h:
    h["data"] = np.arange(12, dtype="<i4").reshape(3, 4)
with h5py.File(P("phony.h5"), "w") as h:
    h.create_dataset("square", data=np.arange(25, dtype="f4").reshape(5, 5))
    h.create_dataset("other", data=np.arange(10, dtype="<i2").reshape(5, 2))
    h.create_dataset("gz", data=np.linspace(0, 1, 400, dtype="f8").reshape(20, 20), compression="gzip", shuffle=True, chunks=(5, 20), fletcher32=True)
    h.create_dataset("so", data=np.arange(100, dtype="i4").reshape(10, 10), scaleoffset=0, chunks=(5, 5))
    h.attrs["huge"] = np.int64(2**53 + 3)
with h5py.File(P("lzf.h5"), "w") as h:
    h.create_dataset("lzf", data=np.sin(np.arange(1000, dtype="f4")).reshape(10, 100), compression="lzf", chunks=(2, 100))
print("ok")
