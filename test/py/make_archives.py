"""Writes small archives shaped like real ones whose files encode time differently. usage: make_archives.py OUT_DIR

- merra/: MERRA-2-like daily files, int32 `time` in "minutes since <day> 00:30:00" (0, 60, ..., 1380)
  with a float32 T2M(time, lat, lon); days 1-4 of January 2021.
- monthly/: noleap monthly files, float64 `time` in "days since <year>-<month>-16" with time_bnds
  (time, bnds) in the same units; January to April 1998.
- calendars/: two files in different calendars (noleap, 360_day), which cannot share a time axis.
- packing/: ERA5-like NetCDF-3 days whose int16 t2m has its own scale_factor/add_offset (float64)
  per file, _FillValue = missing_value = -32767 with some missing values; an int16 sst packed
  with float32 attributes (which CF decoding makes float32); an int8 tcc with _Unsigned = "true".
- packing4/: the same days' cloud cover in NetCDF-4, a uint8 packed with its own float32 scale_factor.
"""
import os
import sys

import netCDF4
import numpy as np

out = sys.argv[1]
for d in ("merra", "monthly", "calendars", "packing", "packing4"):
    os.makedirs(os.path.join(out, d), exist_ok=True)

for day in range(1, 5):
    path = os.path.join(out, "merra", f"MERRA2_400.tavg1_2d_slv_Nx.202101{day:02d}.nc4")
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("time", None)
        nc.createDimension("lat", 3)
        nc.createDimension("lon", 4)
        t = nc.createVariable("time", "i4", ("time",))
        t.long_name = "time"
        t.units = f"minutes since 2021-01-{day:02d} 00:30:00"
        t.begin_date = np.int32(20210100 + day)
        t[:] = np.arange(0, 1440, 60, dtype="i4")
        nc.createVariable("lat", "f8", ("lat",))[:] = [-0.5, 0.0, 0.5]
        nc.createVariable("lon", "f8", ("lon",))[:] = [0.0, 0.625, 1.25, 1.875]
        v = nc.createVariable("T2M", "f4", ("time", "lat", "lon"), zlib=True)
        v.units = "K"
        v[:] = (250 + 50 * np.random.default_rng(day).random((24, 3, 4))).astype("f4")

days_in = {1: 31, 2: 28, 3: 31, 4: 30}
for month in range(1, 5):
    path = os.path.join(out, "monthly", f"tas_Amon_model_1998{month:02d}.nc")
    with netCDF4.Dataset(path, "w", format="NETCDF4_CLASSIC") as nc:
        nc.createDimension("time", None)
        nc.createDimension("bnds", 2)
        nc.createDimension("x", 2)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = f"days since 1998-{month:02d}-16"
        t.calendar = "noleap"
        t.bounds = "time_bnds"
        t[:] = [0.0]
        b = nc.createVariable("time_bnds", "f8", ("time", "bnds"))
        b[:] = [[-15.0, days_in[month] - 15.0]]
        v = nc.createVariable("tas", "f4", ("time", "x"))
        v[:] = [[280.0 + month, 281.5 + month]]

for name, cal, units in (("a.nc", "noleap", "days since 2000-01-01"), ("b.nc", "360_day", "days since 2000-02-01")):
    with netCDF4.Dataset(os.path.join(out, "calendars", name), "w", format="NETCDF4_CLASSIC") as nc:
        nc.createDimension("time", None)
        t = nc.createVariable("time", "f8", ("time",))
        t.units, t.calendar = units, cal
        t[:] = [0.0, 1.0]
for day, (scale, offset) in enumerate([(0.0015, 270.25), (0.0017, 268.5)], start=1):
    with netCDF4.Dataset(os.path.join(out, "packing", f"era5_2m_temperature_2020010{day}.nc"), "w", format="NETCDF3_64BIT_OFFSET") as nc:
        nc.createDimension("time", None)
        nc.createDimension("latitude", 2)
        nc.createDimension("longitude", 3)
        t = nc.createVariable("time", "i4", ("time",))
        t.units = "hours since 1900-01-01 00:00:00.0"
        t.calendar = "gregorian"
        t[:] = 1051896 + 24 * (day - 1) + np.arange(2, dtype="i4")
        v = nc.createVariable("t2m", "i2", ("time", "latitude", "longitude"), fill_value=np.int16(-32767))
        v.scale_factor, v.add_offset = np.float64(scale), np.float64(offset)
        v.missing_value = np.int16(-32767)
        v.units = "K"
        v.set_auto_maskandscale(False)  # the values below are the packed ones
        packed = np.round((np.linspace(255, 285, 12).reshape(2, 2, 3) - offset) / scale).astype("i2")
        packed[0, 0, day] = -32767
        v[:] = packed
        s = nc.createVariable("sst", "i2", ("time", "latitude", "longitude"))
        s.scale_factor, s.add_offset = np.float32(0.01 * day), np.float32(273.15)
        s.set_auto_maskandscale(False)
        s[:] = np.arange(12, dtype="i2").reshape(2, 2, 3) * 100
        c = nc.createVariable("tcc", "i1", ("time", "latitude", "longitude"), fill_value=np.int8(-1))
        c.setncattr("_Unsigned", "true")
        c.scale_factor = np.float32(0.004 * day)
        c.set_auto_maskandscale(False)
        c[:] = np.array([-1, 0, 50, 100, -106, -56] * 2, dtype="i1").reshape(2, 2, 3)  # 255 (fill), ..., 150, 200
    # The same day in NetCDF-4, where the cover is a true uint8.
    with netCDF4.Dataset(os.path.join(out, "packing4", f"era5_cloud_cover_2020010{day}.nc"), "w", format="NETCDF4") as nc:
        nc.createDimension("time", None)
        nc.createDimension("x", 3)
        t = nc.createVariable("time", "i4", ("time",))
        t.units = "hours since 1900-01-01 00:00:00.0"
        t[:] = 1051896 + 24 * (day - 1) + np.arange(2, dtype="i4")
        c = nc.createVariable("tcc", "u1", ("time", "x"), fill_value=np.uint8(255))
        c.scale_factor = np.float32(0.004 * day)
        c.set_auto_maskandscale(False)
        c[:] = np.array([[255, 0, 50], [100, 150, 200]], dtype="u1")
print("ok")
