"""Independent cross-check: Debian's xarray reads the NetCDF source (netCDF4 engine) and the Zarr v2
store (zarr-python 2), both with decode_cf=False, and compares every group, variable, dimension,
dtype, value and attribute. Prints one JSON line {"ok": bool, "differences": [...], ...}.

usage: compare_xarray.py STORE SOURCE [SOURCE ...] [--concat-dim DIM] [--skip VAR ...]
       compare_xarray.py --jobs   (reads a JSON list of argument lists on stdin; prints one JSON line each)
"""
import json
import sys
import warnings

import netCDF4
import numpy as np
import xarray as xr

warnings.simplefilter("ignore")


def group_paths(nc, prefix=""):
    yield prefix
    for name, g in nc.groups.items():
        yield from group_paths(g, f"{prefix}/{name}" if prefix else name)


def same_value(a, b):
    """Attribute equality after casting the store's JSON value to the source's type."""
    def text(x):
        if isinstance(x, np.ndarray) and x.dtype.kind == "S":
            x = x.tobytes()
        return x.decode("utf-8", "replace").rstrip("\0") if isinstance(x, (bytes, np.bytes_)) else x
    a, b = text(a), text(b)
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    a_arr, b_arr = np.atleast_1d(np.asarray(a)), np.atleast_1d(np.asarray(b))
    if a_arr.dtype.kind in "OUS" or b_arr.dtype.kind in "OUS":
        return [str(x) for x in a_arr] == [str(x) for x in b_arr]
    if a_arr.shape != b_arr.shape:
        return False
    try:
        b_cast = b_arr.astype(a_arr.dtype)
    except (OverflowError, ValueError):
        return False
    if a_arr.dtype.kind == "f":
        return bool(np.array_equal(a_arr, b_cast, equal_nan=True))
    return bool(np.array_equal(a_arr, b_cast)) and bool(np.array_equal(a_arr.astype("O"), b_arr.astype("O")))


def hidden_by_zarr_backend(src_attrs, dst_attrs):
    """Names xarray's Zarr backend never shows (those starting with _NC, netCDF-C's reserved prefix),
    so a store holding them cannot show them either."""
    return {n for n in set(src_attrs) - set(dst_attrs) if n.lower().startswith("_nc")}


def same_dtype(a, b):
    """Structured (compound) dtypes are equal by field names and field types: netCDF4 reads them with
    C alignment padding, Zarr stores records packed."""
    if a.names or b.names:
        return a.names == b.names and all(a.fields[n][0] == b.fields[n][0] for n in a.names)
    return a == b


def same_data(a, b):
    if a.dtype.names:
        return a.dtype.names == b.dtype.names and all(same_data(a[n], b[n]) for n in a.dtype.names)
    if a.dtype.kind == "f":
        return a.tobytes() == b.tobytes() or np.array_equal(a, b, equal_nan=True)
    if a.dtype.kind == "O" or b.dtype.kind == "O":
        return [str(x) for x in a.ravel()] == [str(x) for x in b.ravel()]
    return bool(np.array_equal(a, b))


def compare(src, dst, where, skip, diffs):
    src_vars = [k for k in src.variables if f"{where}/{k}".lstrip("/") not in skip]
    if sorted(src_vars) != sorted(dst.variables):
        diffs.append(f"{where or '/'}: variables {sorted(src_vars)} vs store {sorted(dst.variables)}")
        return
    for k in src_vars:
        a, b = src[k], dst[k]
        if a.dims != b.dims:
            diffs.append(f"{k}: dims {a.dims} vs store {b.dims}")
        if not same_dtype(a.dtype, b.dtype):
            diffs.append(f"{k}: dtype {a.dtype} vs store {b.dtype}")
        if a.shape != b.shape:
            diffs.append(f"{k}: shape {a.shape} vs store {b.shape}")
            continue
        if not same_data(a.values, b.values):
            diffs.append(f"{k}: values differ")
        if set(a.attrs) - hidden_by_zarr_backend(a.attrs, b.attrs) != set(b.attrs):
            diffs.append(f"{k}: attribute names {sorted(a.attrs)} vs store {sorted(b.attrs)}")
        for name in set(a.attrs) & set(b.attrs):
            if not same_value(a.attrs[name], b.attrs[name]):
                diffs.append(f"{k}: attribute {name} {a.attrs[name]!r} vs store {b.attrs[name]!r}")
    if set(src.attrs) - hidden_by_zarr_backend(src.attrs, dst.attrs) != set(dst.attrs):
        diffs.append(f"{where or '/'}: global attribute names differ: {sorted(set(src.attrs) ^ set(dst.attrs))}")
    for name in set(src.attrs) & set(dst.attrs):
        if not same_value(src.attrs[name], dst.attrs[name]):
            diffs.append(f"{where or '/'}: global attribute {name} {src.attrs[name]!r} vs store {dst.attrs[name]!r}")


def compare_store(argv):
    args, skip, concat = [], set(), None
    it = iter(argv)
    for x in it:
        if x == "--skip":
            skip.add(next(it).lstrip("/"))
        elif x == "--concat-dim":
            concat = next(it)
        else:
            args.append(x)
    store, sources = args[0], args[1:]
    diffs, checked = [], 0
    with netCDF4.Dataset(sources[0]) as nc:
        groups = list(group_paths(nc))
    for g in groups:
        kw = {"group": g} if g else {}
        if len(sources) > 1:
            src = xr.open_mfdataset(sources, decode_cf=False, combine="nested", concat_dim=concat,
                                    data_vars="minimal", coords="minimal", compat="override", engine="netcdf4", **kw)
            src = src.sortby(concat) if concat in src.coords else src
        else:
            src = xr.open_dataset(sources[0], decode_cf=False, engine="netcdf4", **kw)
        dst = xr.open_zarr(store, consolidated=True, decode_cf=False, **kw)
        compare(src, dst, g, skip, diffs)
        checked += len(dst.variables)
    return {"ok": not diffs, "groups": len(groups), "variables": checked, "differences": diffs[:20]}


def run(argv):
    try:
        with netCDF4.Dataset(argv[1]) as _:
            pass
    except Exception as e:  # noqa: BLE001 - report, not crash
        return {"ok": False, "sourceUnreadable": f"{type(e).__name__}: {e}"}
    try:
        xr.open_dataset(argv[1], decode_cf=False, engine="netcdf4").close()
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "sourceUnreadable": f"{type(e).__name__}: {str(e).splitlines()[0]}"}
    try:
        return compare_store(argv)
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}


if __name__ == "__main__":
    if sys.argv[1:] == ["--jobs"]:
        for job in json.load(sys.stdin):
            print(json.dumps(run(job)), flush=True)
    else:
        print(json.dumps(run(sys.argv[1:])))
