"""Writes small files that exercise what the shared corpus lacks. usage: make_fixtures.py OUT_DIR"""
import os
import subprocess
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

# NetCDF-3 with zero records whose last variable is a record variable: netCDF-C ends the file at the
# start of the record section, so the `begin` of the second record variable lies past the end.
for name, fmt in [("zero_records_tail.nc", "NETCDF3_CLASSIC"), ("zero_records_tail_cdf5.nc", "NETCDF3_64BIT_DATA")]:
    with netCDF4.Dataset(P(name), "w", format=fmt) as nc:
        nc.createDimension("time", None)
        nc.createDimension("x", 3)
        nc.createVariable("x", "f4", ("x",))[:] = [0.5, 1.5, 2.5]
        nc.createVariable("time", "f8", ("time",)).units = "days since 2000-01-01"
        nc.createVariable("obs", "i2", ("time", "x"), fill_value=np.int16(-1)).long_name = "no records yet"
# The same, with a last fixed variable of 3 bytes whose padding byte is missing (as some writers
# leave it): the only record variable begins one byte past the end. netCDF-C reads both.
with netCDF4.Dataset(P("zero_records_unpadded.nc"), "w", format="NETCDF3_CLASSIC") as nc:
    nc.createDimension("time", None)
    nc.createDimension("n", 3)
    nc.createVariable("code", "S1", ("n",))[:] = np.array([b"a", b"b", b"c"])
    nc.createVariable("obs", "i4", ("time", "n"))
with open(P("zero_records_unpadded.nc"), "r+b") as f:
    f.truncate(os.path.getsize(P("zero_records_unpadded.nc")) - 1)
# Truncated inside data that exists (the fixed variable's bytes are gone): netCDF-C reads zeros
# past the end, a converter must refuse.
with netCDF4.Dataset(P("truncated_fixed_data.nc"), "w", format="NETCDF3_CLASSIC") as nc:
    nc.createDimension("n", 4)
    nc.createVariable("v", "i4", ("n",))[:] = [1, 2, 3, 4]
with open(P("truncated_fixed_data.nc"), "r+b") as f:
    f.truncate(os.path.getsize(P("truncated_fixed_data.nc")) - 8)

# NetCDF-4 variables reachable through more than one HDF5 hard link. netCDF-C lists each link as
# its own variable: /var and /g/alias, both with dims (x); /g/sub_var and /alias, the latter with
# the subgroup's dimension (ncdump: "alias(/g/y)"; netCDF4-python cannot open that file).
with netCDF4.Dataset(P("hardlink_root.nc"), "w", format="NETCDF4") as nc:
    nc.createDimension("x", 3)
    nc.createVariable("x", "f8", ("x",))[:] = [10.0, 20.0, 30.0]
    v = nc.createVariable("var", "i4", ("x",))
    v.units = "m"
    v[:] = [1, 2, 3]
    g = nc.createGroup("g")
    g.title = "sub"
    g.createVariable("own", "i2", ("x",))[:] = [7, 8, 9]
with h5py.File(P("hardlink_root.nc"), "r+") as h:
    h["g/alias"] = h["var"]
with netCDF4.Dataset(P("hardlink_sub.nc"), "w", format="NETCDF4") as nc:
    g = nc.createGroup("g")
    g.createDimension("y", 2)
    s = g.createVariable("sub_var", "f4", ("y",))
    s.long_name = "in g"
    s[:] = [1.5, 2.5]
with h5py.File(P("hardlink_sub.nc"), "r+") as h:
    h["alias"] = h["g/sub_var"]
# A dimension scale (coordinate variable /x) linked again as /g/xx: netCDF-C 4.9 names the root
# dimension "xx" (ncdump: "x(/xx)"), and g gets its own dimension xx used by g/own.
with netCDF4.Dataset(P("hardlink_dimscale.nc"), "w", format="NETCDF4") as nc:
    nc.createDimension("x", 3)
    nc.createVariable("x", "f8", ("x",))[:] = [10.0, 20.0, 30.0]
    nc.createGroup("g").createVariable("own", "i2", ("x",))[:] = [7, 8, 9]
with h5py.File(P("hardlink_dimscale.nc"), "r+") as h:
    h["g/xx"] = h["x"]

# User attributes with names netCDF-C reserves or that look internal.
# NetCDF-4: the reserved names (netCDF-C refuses to write them; h5py can) are hidden by netCDF-C
# 4.9 on variables and groups alike; the "_nc…"/"_Netcdf…"/virtual-looking names it writes are shown.
# (Left out: _NCZARR_ATTR, hidden by netCDF-C 4.9.0 but shown by 4.9.3, and _nczarr_attr, the reverse.)
HIDDEN_NC4 = ["CLASS", "NAME", "DIMENSION_LIST", "REFERENCE_LIST", "_Netcdf4Dimid", "_NCProperties",
              "_IsNetcdf4", "_SuperblockVersion", "_Format", "_ARRAY_DIMENSIONS", "_Codecs"]
SHOWN = ["_Netcdf4_user", "_nc_user", "_NCuser", "_Storage", "_Endianness", "_Filter",
         "_NoFill", "_ChunkSizes", "_DeflateLevel", "_Shuffle", "_Fletcher32"]
with netCDF4.Dataset(P("reserved_attrs.nc"), "w", format="NETCDF4") as nc:
    nc.createDimension("x", 2)
    v = nc.createVariable("v", "i4", ("x",))
    s = nc.createVariable("s", "f8", ())
    g = nc.createGroup("g")
    gv = g.createVariable("gv", "i2", ("x",))
    for obj in (nc, v, s, g, gv):
        obj.units_note = "kept"
        for n in SHOWN:
            obj.setncattr(n, "user " + n)
    v[:] = [1, 2]
    s[:] = 1.5
    gv[:] = [3, 4]
with h5py.File(P("reserved_attrs.nc"), "r+") as h:
    # the scalar s and the groups have no DIMENSION_LIST/_Netcdf4Dimid/_NCProperties of their own
    for obj in (h, h["s"], h["g"]):
        for n in HIDDEN_NC4:
            if n not in obj.attrs:
                obj.attrs[n] = "user " + n
# netCDF-C reads a string _Netcdf4Coordinates on a variable as its dimension ids and fails to open
# the file ("NetCDF: HDF error").
with netCDF4.Dataset(P("reserved_netcdf4coordinates.nc"), "w", format="NETCDF4") as nc:
    nc.createVariable("s", "f8", ())[:] = 1.5
with h5py.File(P("reserved_netcdf4coordinates.nc"), "r+") as h:
    h["s"].attrs["_Netcdf4Coordinates"] = "user"
# NetCDF-3 has no reserved attribute names: netCDF-C writes and shows all of them (ncdump hides a
# global _NCProperties unless -s; the library still returns it).
with netCDF4.Dataset(P("reserved_attrs_nc3.nc"), "w", format="NETCDF3_CLASSIC") as nc:
    nc.createDimension("x", 2)
    v = nc.createVariable("v", "i4", ("x",))
    for obj in (nc, v):
        for n in HIDDEN_NC4 + ["_Netcdf4Coordinates", "_nc3_strict", "_NCZARR_ATTR", "_nczarr_attr"] + SHOWN:
            obj.setncattr(n, "user " + n)
    v[:] = [1, 2]
# What xarray 2026.9 reads from Zarr v3 only in certain forms (issue: modern readers): an enum with
# its named type, a scalar char stored contiguously, char bytes that are not UTF-8 with a fill value,
# an NC_STRING variable with a fill value. (A NaN _FillValue on int16: the corpus's eraint_uvz.nc.)
with netCDF4.Dataset(P("modern_types.nc"), "w", format="NETCDF4") as nc:
    nc.createDimension("y", 2)
    nc.createDimension("x", 3)
    nc.createDimension("nchar", 2)
    cloud_t = nc.createEnumType(np.uint8, "cloud_t", {"Clear": 0, "Cumulonimbus": 1, "Stratus": 2, "Missing": 255})
    cloud = nc.createVariable("cloud", cloud_t, ("y", "x"), fill_value=255)
    cloud.long_name = "cloud type"
    cloud[:] = np.array([[0, 1, 2], [255, 1, 0]], dtype="u1")
    level_t = nc.createEnumType(np.int16, "level_t", {"low": -5, "mid": 0, "high": 300})
    nc.createVariable("level", level_t, ("x",))[:] = np.array([-5, 300, 0], dtype="i2")
    sc = nc.createVariable("scalar_char", "S1", (), contiguous=True)
    sc[...] = np.array(b"*", dtype="S1")
    c = nc.createVariable("code", "S1", ("x", "nchar"), fill_value=b"-")
    c[:] = np.frombuffer(b"ab\0\0\xe9z", dtype="S1").reshape(3, 2)  # not UTF-8: raw bytes
    s = nc.createVariable("label", str, ("x",), fill_value="NA")
    s[:] = np.array(["one", "NA", "three"], dtype=object)
    # Non-finite attributes, which zarr-python writes and reads as bare NaN/Infinity tokens.
    s.valid_note = np.float64("nan")
    nc.not_a_number = np.float32("nan")
    nc.infinities = np.array([np.inf, -np.inf], dtype="f8")
# A big-endian enum attribute (as h5py writes on s390x): HDF5 cannot convert it to native order and
# netCDF-C leaves it out; everything else of the file is read.
with netCDF4.Dataset(P("be_enum_attr.nc"), "w", format="NETCDF4") as nc:
    nc.createDimension("x", 2)
    nc.createVariable("v", "f4", ("x",))[:] = [1.5, 2.5]
    nc.kept = "yes"
with h5py.File(P("be_enum_attr.nc"), "r+") as h:
    h.attrs.create("created_on_s390x", 1, dtype=h5py.enum_dtype({"no": 0, "yes": 1}, basetype=np.dtype(">i2")))
# NetCDF-4 compounds, little-endian: numeric fields only (stored as packed records), with a compound
# _FillValue and a chunk of fill records only, and without one; and one with an array member (refused).
# netCDF4-python 1.6.2 cannot set a compound _FillValue: ncgen (Debian's netcdf-bin) writes this one.
COMPOUND_CDL = """netcdf compound_le {
types:
  compound rec_t { byte b ; short s ; uint u ; int64 q ; float f ; double d ; } ;
dimensions:
  t = 4 ; x = 3 ;
variables:
  rec_t obs(t, x) ;
    rec_t obs:_FillValue = {-1, -2, 4000000000, -1099511627776, -4.5, -5.25} ;
    obs:long_name = "observation" ;
    obs:_ChunkSizes = 2, 3 ;
  rec_t plain(x) ;
data:
  obs = {-3, 0, 3000000000, 1099511627776, 0.25, -0.5}, {-2, -300, 3000000001, 1099511627777, 1.25, -1.5},
        {-1, -600, 3000000002, 1099511627778, 2.25, -2.5}, {0, -900, 3000000003, 1099511627779, 3.25, -3.5},
        {1, -1200, 3000000004, 1099511627780, 4.25, -4.5}, _, _, _, _, _, _, _ ;
  plain = {1, 2, 3, 4, 5.5, 6.5}, {-1, -2, 4294967295, -9223372036854775807, -5.5, -6.5}, {0, 0, 0, 0, 0, 0} ;
}
"""
with open(P("compound_le.cdl"), "w") as f:
    f.write(COMPOUND_CDL)
subprocess.run(["ncgen", "-4", "-o", P("compound_le.nc"), P("compound_le.cdl")], check=True)
with open(P("compound_attr.cdl"), "w") as f:
    f.write("netcdf compound_attr {\ntypes:\n  compound c_t { float r ; float i ; } ;\ndimensions:\n  x = 2 ;\n"
            "variables:\n  float v(x) ;\n    c_t v:phase = {1, 0.5} ;\n  float w(x) ;\ndata:\n  v = 1, 2 ;\n  w = 3, 4 ;\n}\n")
subprocess.run(["ncgen", "-4", "-o", P("compound_attr.nc"), P("compound_attr.cdl")], check=True)
TAG = np.dtype([("id", "<i4"), ("tag", "S1", (4,))], align=True)
with netCDF4.Dataset(P("compound_array.nc"), "w", format="NETCDF4") as nc:
    nc.createDimension("n", 2)
    tagged_t = nc.createCompoundType(TAG, "tagged_t")
    t = nc.createVariable("tagged", tagged_t, ("n",))
    t[:] = np.array([(1, [b"a", b"b", b"", b""]), (2, [b"c", b"d", b"e", b"f"])], TAG)
# Two days of a compound over an unlimited time axis, for appends: day 2 carries a fill record.
for day in (1, 2):
    t0 = 3 * (day - 1)
    cdl = f"""netcdf compound_day{day} {{
types:
  compound pair_t {{ short s ; double d ; }} ;
dimensions:
  time = UNLIMITED ; x = 2 ;
variables:
  double time(time) ;
    time:units = "days since 2000-01-01" ;
  pair_t obs(time, x) ;
    pair_t obs:_FillValue = {{-9, -9.5}} ;
data:
  time = {t0}, {t0 + 1}, {t0 + 2} ;
  obs = {{{day}, 1.5}}, {{2, 2.5}}, {{3, 3.5}}, {{4, 4.5}}, {{5, 5.5}}, {"_" if day == 2 else "{6, 6.5}"} ;
}}
"""
    with open(P(f"compound_day{day}.cdl"), "w") as f:
        f.write(cdl)
    subprocess.run(["ncgen", "-4", "-o", P(f"compound_day{day}.nc"), P(f"compound_day{day}.cdl")], check=True)
# A scalar of every type (numbers, char, string, compound, enum), NaN/Infinity/64-bit/text fill
# values (fill-only scalars are chunks not stored), and variables in compact storage.
SCALARS_CDL = """netcdf scalars {
types:
  compound pair_t { short s ; double d ; } ;
  ubyte enum flag_t { off = 0, on = 1 } ;
dimensions:
  x = 3 ;
variables:
  byte b ; short s ; int i ; int64 q ; ubyte ub ; ushort us ; uint ui ; uint64 uq ; float f ; double d ;
  char c ; string str ; pair_t p ; flag_t e ;
  float fnan ; fnan:_FillValue = NaN ;
  double finf ; finf:_FillValue = Infinity ;
  int64 q2 ; q2:_FillValue = -9223372036854775807LL ;
  uint64 uq2 ; uq2:_FillValue = 18446744073709551614ULL ;
  string sfill ; sfill:_FillValue = "none" ;
  int compact(x) ; compact:_Storage = "compact" ;
  char cc(x) ; cc:_Storage = "compact" ;
data:
  b = -1 ; s = -2 ; i = -3 ; q = -4 ; ub = 255 ; us = 65535 ; ui = 4294967295 ; uq = 18446744073709551615 ;
  f = 1.5 ; d = 2.5 ; c = "z" ; str = "hello" ; p = {7, 8.5} ; e = on ; fnan = _ ; finf = 3 ; q2 = _ ; uq2 = 5 ; sfill = _ ;
  compact = 1, 2, 3 ; cc = "abc" ;
}
"""
with open(P("scalars.cdl"), "w") as f:
    f.write(SCALARS_CDL)
subprocess.run(["ncgen", "-4", "-o", P("scalars.nc"), P("scalars.cdl")], check=True)
print("ok")
