#!/usr/bin/env python3
"""Writes a daily NetCDF-4 archive shaped like the one the original AWS sample converts (NASA POWER
MERRA-2 hourly: one file per day, 24 hourly steps of T2M on a lat/lon grid, one HDF5 chunk per
file, zlib + shuffle), with realistic values: a latitude gradient, a diurnal cycle and noise.

  make_daily_archive.py OUT_DIR [--days 59] [--start 2021-01-01] [--nlat 361] [--nlon 576]
                        [--seed 1] [--lat0 -90] [--units "hours since 2021-01-01 00:00:00"] [--omit VAR]

Full scale (the sample): --days 59 --nlat 361 --nlon 576 (about 20 MiB of float32 per day).
File names follow the sample's: power_901_hourly_YYYYMMDD_merra2_utc.nc.
"""
import argparse
import datetime as dt
import os

import netCDF4
import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--days", type=int, default=59)
    p.add_argument("--start", default="2021-01-01")
    p.add_argument("--nlat", type=int, default=361)
    p.add_argument("--nlon", type=int, default=576)
    p.add_argument("--lat0", type=float, default=-90.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--units", default=None, help="time units (default: hours since the start date)")
    p.add_argument("--omit", action="append", default=[], help="leave this variable out (for mismatch tests)")
    a = p.parse_args()

    os.makedirs(a.out, exist_ok=True)
    start = dt.datetime.fromisoformat(a.start)
    units = a.units or f"hours since {start:%Y-%m-%d} 00:00:00"
    epoch = dt.datetime.fromisoformat(units.split(" since ")[1].strip())
    lat = np.linspace(a.lat0, a.lat0 + 180.0, a.nlat) if a.nlat > 1 else np.array([a.lat0])
    lon = np.linspace(-180.0, 180.0 - 360.0 / a.nlon, a.nlon)
    rng = np.random.default_rng(a.seed)
    base = 288.0 - 40.0 * np.sin(np.deg2rad(lat))[:, None] ** 2 + np.zeros((a.nlat, a.nlon))
    for d in range(a.days):
        day = start + dt.timedelta(days=d)
        path = os.path.join(a.out, f"power_901_hourly_{day:%Y%m%d}_merra2_utc.nc")
        with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
            nc.setncatts({"title": "NASA/POWER-like hourly T2M (synthetic)", "Conventions": "CF-1.8",
                          "source": "convert-to-zarr tools/make_daily_archive.py", "day": f"{day:%Y-%m-%d}"})
            nc.createDimension("time", None)
            nc.createDimension("lat", a.nlat)
            nc.createDimension("lon", a.nlon)
            t = nc.createVariable("time", "f8", ("time",))
            t.setncatts({"units": units, "calendar": "standard", "standard_name": "time"})
            hours = np.arange(24) + (day - epoch).total_seconds() / 3600.0
            t[:] = hours
            la = nc.createVariable("lat", "f8", ("lat",))
            la.setncatts({"units": "degrees_north", "standard_name": "latitude"})
            la[:] = lat
            lo = nc.createVariable("lon", "f8", ("lon",))
            lo.setncatts({"units": "degrees_east", "standard_name": "longitude"})
            lo[:] = lon
            if "T2M" not in a.omit:
                v = nc.createVariable("T2M", "f4", ("time", "lat", "lon"), zlib=True, shuffle=True, complevel=4,
                                      chunksizes=(24, a.nlat, a.nlon), fill_value=np.float32(-999.0))
                v.setncatts({"units": "K", "long_name": "Temperature at 2 Meters", "standard_name": "air_temperature",
                             "valid_min": np.float32(150.0), "valid_max": np.float32(350.0)})
                diurnal = 5.0 * np.sin(2 * np.pi * (np.arange(24)[:, None, None] / 24.0) + np.deg2rad(lon)[None, None, :])
                data = base[None] + diurnal + rng.normal(0, 0.5, (24, a.nlat, a.nlon)) + 0.05 * d
                data = data.astype("f4")
                data[:, 0, 0] = -999.0  # a missing pixel, so fill values are exercised
                v[:] = data
            if "QV2M" not in a.omit:
                q = nc.createVariable("QV2M", "i2", ("time", "lat", "lon"), zlib=True, shuffle=True,
                                      chunksizes=(24, a.nlat, a.nlon), fill_value=np.int16(-32767))
                q.setncatts({"units": "g/kg", "long_name": "Specific Humidity at 2 Meters",
                             "scale_factor": np.float32(0.001), "add_offset": np.float32(10.0)})
                q.set_auto_maskandscale(False)
                q[:] = rng.integers(-5000, 5000, (24, a.nlat, a.nlon), dtype="i2")
        print(path)


if __name__ == "__main__":
    main()
