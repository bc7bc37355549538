"""Conformance cross-check with today's readers (the pinned stack of tools/python-requirements.txt in
.venv/: xarray 2026.9, zarr-python 3.1, netCDF4 1.7, cftime, dask). For each job it compares the NetCDF
source with the Zarr v2 and/or v3 store written from it, in three views:

  raw      xarray, decode_cf=False: netCDF4 engine on the source vs open_zarr(consolidated=True), group by
           group: variable names, dims, dtype (strict; compound dtypes by field names, field dtypes and
           per-field values), shape, values (bitwise for floats, else NaN-equal), attributes.
  decoded  the same with CF decoding on (xarray's defaults on both sides). One tolerance: a packed
           variable whose source decodes to float32 (float32 scale_factor/add_offset) decodes to float64
           from Zarr, whose JSON attributes carry no dtype; its values are then compared with the source
           re-decoded with those attributes as float64, and a note is recorded instead of a difference.
  zarr     zarr-python alone: open_consolidated and open_group both open; every array of every group
           (walked without the consolidated metadata) is read whole and compared, shape and values, with
           netCDF4's raw reading of the same variable (no masking or scaling, chars as S1); the array
           paths must be the source's variables minus the skipped ones, and the consolidated metadata
           must list the same arrays.

usage: compare_modern.py --jobs   reads a JSON list of jobs on stdin:
           {"sources": [path, ...], "stores": {"v2": path|null, "v3": path|null},
            "skip": ["/obs", ...], "concatDim": null|name, "views": ["raw", "decoded", "zarr"]}
       ("views": those to run, all by default; the others come back {"ok": false, "notRequested": true})
       and prints one JSON line per job, in order:
           {"sourceUnreadable": "..."}  when netCDF4/xarray cannot open the source at all, else
           {"v2": R, "v3": R}  with R null when there is no store, else
           R = {"raw": {"ok", "differences"}, "decoded": {"ok", "differences"},
                "zarr": {"ok", "arrays", "differences"}, "notes": [...]}
       Each job runs in its own subprocess (`--one`), at most two at once: a crash (e.g. a segfault in
       a C library) is reported as a difference of the view it happened in, not the end of the run.
       COMPARE_MODERN_TIMEOUT (seconds, default 900) bounds a job; COMPARE_MODERN_CRASH_AT="v3 decoded"
       makes that view's subprocess kill itself with SIGSEGV (to test the crash path).
"""
import json
import os
import signal
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

warnings.simplefilter("ignore")

MAX_DIFFERENCES = 20
VIEWS = ("raw", "decoded", "zarr")
JOB_TIMEOUT_S = float(os.environ.get("COMPARE_MODERN_TIMEOUT", "900"))
PARALLEL = 2


# ---------------------------------------------------------------------------------------------------
# Value comparison

def _np():
    import numpy as np
    return np


def text(x):
    np = _np()
    if isinstance(x, np.ndarray) and x.dtype.kind == "S":
        x = x.tobytes()
    return x.decode("utf-8", "replace").rstrip("\0") if isinstance(x, (bytes, np.bytes_)) else x


def same_value(a, b):
    """Attribute equality after casting the store's value (JSON: int/float/str/list) to the source's type."""
    np = _np()
    a, b = text(a), text(b)
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    a_arr, b_arr = np.atleast_1d(np.asarray(a)), np.atleast_1d(np.asarray(b))
    if a_arr.dtype.kind in "OUST" or b_arr.dtype.kind in "OUST":
        return [str(text(x)) for x in a_arr.tolist()] == [str(text(x)) for x in b_arr.tolist()]
    if a_arr.shape != b_arr.shape:
        return False
    if a_arr.dtype.names or b_arr.dtype.names:
        return same_data(a_arr, b_arr)
    try:
        b_cast = b_arr.astype(a_arr.dtype)
    except (OverflowError, ValueError, TypeError):
        return False
    if a_arr.dtype.kind in "fc":
        return bool(np.array_equal(a_arr, b_cast, equal_nan=True))
    return bool(np.array_equal(a_arr, b_cast)) and bool(np.array_equal(a_arr.astype("O"), b_arr.astype("O")))


def same_scalar(x, y):
    np = _np()
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return same_data(np.asarray(x), np.asarray(y))
    if isinstance(x, float) and isinstance(y, float) and x != x and y != y:
        return True
    try:
        return bool(x == y)
    except Exception:  # noqa: BLE001 - incomparable is different
        return False


def same_data(a, b):
    """Values equal: floats bitwise or NaN-equal, compound per field, objects/strings element by element."""
    np = _np()
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.names or b.dtype.names:
        if a.dtype.names != b.dtype.names:
            return False
        return all(same_data(a[n], b[n]) for n in a.dtype.names)
    ka, kb = a.dtype.kind, b.dtype.kind
    if ka in "fc" and kb in "fc":
        if a.dtype == b.dtype and a.tobytes() == b.tobytes():
            return True
        return bool(np.array_equal(a, b, equal_nan=True))
    if ka in "mM" and kb in "mM":
        return bool(np.array_equal(a, b, equal_nan=True))
    if ka in "OUST" or kb in "OUST":
        return all(same_scalar(x, y) for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
    return bool(np.array_equal(a, b))


def where_different(a, b):
    """' (n of m differ, first at [i]: x vs store y)' for two arrays of the same shape whose values differ."""
    np = _np()
    a, b = np.asarray(a), np.asarray(b)
    try:
        if a.dtype.names or a.dtype.kind in "OUST" or b.dtype.kind in "OUST":
            flat = [not same_scalar(x, y) if not a.dtype.names else not same_data(x, y)
                    for x, y in zip(a.ravel(), b.ravel())]
            mask = np.array(flat, dtype=bool).reshape(a.shape)
        else:
            mask = ~((a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind in "fc" and b.dtype.kind in "fc"
                     else (a == b))
            if not mask.any() and a.dtype.kind in "fc":  # equal values, different bits (NaN payload, -0.0)
                return " (equal as numbers, different bits)"
        n = int(mask.sum())
        if not n:
            return ""
        i = tuple(int(x) for x in np.argwhere(mask)[0])
        return f" ({n} of {mask.size} differ, first at {list(i)}: {a[i]!r} vs store {b[i]!r})"
    except Exception:  # noqa: BLE001 - only a description
        return ""


def same_dtype(a, b):
    """Strict, except compound dtypes: equal field names and (recursively) field dtypes; offsets,
    itemsize and alignment padding ignored."""
    if a.names or b.names:
        return a.names == b.names and all(same_dtype(a.fields[n][0], b.fields[n][0]) for n in a.names) \
            and a.shape == b.shape
    if a.subdtype or b.subdtype:
        return bool(a.subdtype and b.subdtype) and a.subdtype[1] == b.subdtype[1] \
            and same_dtype(a.subdtype[0], b.subdtype[0])
    return a == b


def first_line(e):
    s = str(e).strip()
    return s.splitlines()[0] if s else ""


def exc_text(view, e):
    return f"{view}: {type(e).__name__}: {first_line(e)}"


def capped(diffs):
    if len(diffs) <= MAX_DIFFERENCES:
        return diffs
    return diffs[: MAX_DIFFERENCES - 1] + [f"... and {len(diffs) - MAX_DIFFERENCES + 1} more differences"]


# ---------------------------------------------------------------------------------------------------
# Sources

def group_paths(nc, prefix=""):
    yield prefix
    for name, g in nc.groups.items():
        yield from group_paths(g, f"{prefix}/{name}" if prefix else name)


def source_structure(path):
    """Group paths and variable paths of a source, read with netCDF4 (opened once, closed)."""
    import netCDF4
    with netCDF4.Dataset(path) as nc:
        groups = list(group_paths(nc))
        variables = []
        for g in groups:
            node = nc[g] if g else nc
            variables += [f"{g}/{k}" if g else k for k in node.variables]
    return groups, variables


def open_source(sources, concat, group, opts, skip=()):
    """xarray's reading of the source group; skipped variables are dropped before any decoding (xarray
    cannot CF-decode e.g. a compound variable with a compound _FillValue)."""
    import xarray as xr
    kw = {"group": group} if group else {}
    prefix = f"{group}/" if group else ""
    drop = [s[len(prefix):] for s in skip if s.startswith(prefix) and "/" not in s[len(prefix):]]
    if drop:
        kw["drop_variables"] = drop
    if len(sources) > 1:
        ds = xr.open_mfdataset(sources, combine="nested", concat_dim=concat, **opts,
                               data_vars="minimal", coords="minimal", compat="override", engine="netcdf4", **kw)
        return ds.sortby(concat) if concat in ds.coords else ds
    return xr.open_dataset(sources[0], engine="netcdf4", **opts, **kw)


def open_store(store, group, opts):
    import xarray as xr
    kw = {"group": group} if group else {}
    return xr.open_zarr(store, consolidated=True, **opts, **kw)


def open_store_lenient(store, group, opts):
    """When open_zarr refuses a group because of some variables (e.g. a _FillValue it cannot decode),
    the same reading without them: returns the dataset and {variable: exception}."""
    import xarray as xr
    from xarray.backends.zarr import ZarrStore
    from xarray.core.utils import FrozenDict

    bad = {}

    class Lenient(ZarrStore):
        __slots__ = ()

        def get_variables(self):
            ok = {}
            for k in self.array_keys():
                try:
                    ok[k] = self.open_store_variable(k)
                except Exception as e:  # noqa: BLE001 - reported by the caller
                    bad[k] = e
            return FrozenDict(ok)

    zs = ZarrStore.open_group(store, group=group or None, mode="r", consolidated=True)
    zs.__class__ = Lenient
    return xr.open_dataset(zs, **opts), bad


def check_readable(sources):
    """None, or why netCDF4/xarray cannot open the source at all."""
    import netCDF4
    import xarray as xr
    for s in sources:
        try:
            with netCDF4.Dataset(s):
                pass
        except Exception as e:  # noqa: BLE001 - reported
            return f"netCDF4: {type(e).__name__}: {first_line(e)}"
        try:
            xr.open_dataset(s, decode_cf=False, engine="netcdf4").close()
        except Exception as e:  # noqa: BLE001
            return f"xarray: {type(e).__name__}: {first_line(e)}"
    return None


# ---------------------------------------------------------------------------------------------------
# The xarray views

PACKING = ("scale_factor", "add_offset")


def float64_packed(raw_src, k, opts):
    """The source variable decoded with its scale_factor/add_offset as float64 (what JSON attributes give)."""
    import xarray as xr
    v = raw_src[k].variable.copy(deep=False)
    v.attrs = dict(v.attrs)
    for p in PACKING:
        if p in v.attrs:
            v.attrs[p] = float(v.attrs[p])
    return xr.decode_cf(xr.Dataset({k: v}), **opts)[k]


def is_text(dtype, values):
    """Unicode text, however the reader holds it: fixed-width U, numpy 2 StringDType, or objects that are
    all str (xarray 2026.9 gives a NetCDF-4 string variable as <U from netCDF4 but StringDType from zarr)."""
    if dtype.kind in "UT":
        return True
    return dtype.kind == "O" and all(isinstance(x, str) for x in values().ravel().tolist())


def compare_variable(a, b, k, name, diffs, notes, raw_src, view, opts):
    """One variable (xarray views): dims, shape, dtype, values, attributes."""
    if a.shape != b.shape:
        diffs.append(f"{name}: dims {a.dims} shape {a.shape} vs store {b.dims} {b.shape}")
    elif a.dims != b.dims:
        diffs.append(f"{name}: dims {a.dims} vs store {b.dims}")
    packed32 = raw_src is not None and a.dtype == "float32" and b.dtype == "float64" \
        and any(p in raw_src[k].attrs for p in PACKING)
    if packed32 or same_dtype(a.dtype, b.dtype):
        pass
    elif is_text(a.dtype, lambda: a.values) and is_text(b.dtype, lambda: b.values):
        notes.append(f"{view}: {name} is text read as {a.dtype} from the source, {b.dtype} from the store; "
                     "values compared as text")
    else:
        diffs.append(f"{name}: dtype {a.dtype} vs store {b.dtype}")
    if a.shape != b.shape:
        pass
    elif packed32:
        expected = float64_packed(raw_src, k, opts).values
        if same_data(expected, b.values):
            notes.append(f"decoded: {name} is float32 from the source, float64 from the store "
                         "(packing attributes without a dtype); values equal to the source decoded in float64")
        else:
            diffs.append(f"{name}: values differ from the source decoded with float64 scale_factor/add_offset"
                         f"{where_different(expected, b.values)}")
    elif not same_data(a.values, b.values):
        diffs.append(f"{name}: values differ{where_different(a.values, b.values)}")
    src_attrs = set(a.attrs)
    if a.dtype.names and "_FillValue" in a.attrs and "_FillValue" not in b.attrs:
        # A compound's fill record is the v3 array's fill_value only (xarray 2026.9 fails on any
        # _FillValue attribute of a structured array): it must equal the source's, field by field.
        fv = b.encoding.get("fill_value")
        want = a.attrs["_FillValue"]
        if fv is not None and getattr(fv, "dtype", None) is not None and fv.dtype.names == want.dtype.names \
                and all(same_value(want[f], fv[f]) for f in want.dtype.names):
            notes.append(f"{view}: {name} keeps its compound _FillValue as the array's fill_value, not an attribute")
            src_attrs.discard("_FillValue")
        else:
            diffs.append(f"{name}: compound _FillValue {want!r} vs store fill_value {fv!r}")
            src_attrs.discard("_FillValue")
    hidden = sorted(n for n in src_attrs - set(b.attrs) if n.lower().startswith("_nc"))
    if hidden:
        notes.append(f"{view}: xarray's Zarr backend hides the attributes named _nc* of {name}: {hidden}")
        src_attrs -= set(hidden)
    if src_attrs != set(b.attrs):
        diffs.append(f"{name}: attribute names {sorted(a.attrs)} vs store {sorted(b.attrs)}")
    for n in sorted(src_attrs & set(b.attrs)):
        if not same_value(a.attrs[n], b.attrs[n]):
            diffs.append(f"{name}: attribute {n} {a.attrs[n]!r} vs store {b.attrs[n]!r}")


def xarray_v3_limits(a, b, name, view, notes):
    """What xarray 2026.9 cannot show from any Zarr v3 store, so a conforming store cannot either; each
    case becomes a note and the source side is adjusted to what the store can carry:
    - a `_FillValue` attribute on text (S/U/O/T) arrays: xarray's FillValueCoder fails the
      whole dataset (pydata/xarray#11332), so the fill lives in the array's fill_value only, which
      xarray does not use as a mask for v3: the source's masked text is compared unmasked;
    - a `_FillValue` that is no value of an integer variable (NaN on int16): xarray's CF decoding drops
      it, and it cannot be read from a v3 attribute at all."""
    np = _np()
    fill = a.attrs.get("_FillValue", a.encoding.get("_FillValue"))
    if fill is None or "_FillValue" in b.attrs:
        return a
    kind = np.dtype(a.encoding.get("dtype", a.dtype)).kind
    stored = b.encoding.get("fill_value")
    if kind in "SUOT":
        same = text(np.asarray(stored).ravel()[0] if np.ndim(stored) else stored) == text(fill)
        if not same:
            return a
        notes.append(f"{view}: {name} keeps its text _FillValue {fill!r} in the v3 fill_value "
                     "(xarray cannot decode it as an attribute); compared unmasked")
        a = a.copy()
        a.attrs.pop("_FillValue", None)
        if view == "decoded" and a.dtype.kind == "O":
            vals = a.values.copy()
            masked = np.asarray(np.frompyfunc(lambda v: v is None or (isinstance(v, float) and v != v), 1, 1)(vals), dtype=bool)
            vals[masked] = fill
            a = a.copy(data=vals.astype(b.dtype) if b.dtype.kind in "SU" else vals)
        return a
    if kind in "iu" and "_FillValue" in a.attrs:
        try:
            fits = float(fill) == int(fill) and np.can_cast(np.min_scalar_type(int(fill)), a.dtype, "safe")
        except (ValueError, OverflowError, TypeError):
            fits = False
        if not fits:
            notes.append(f"{view}: {name} has a _FillValue {fill!r} that is no {a.dtype} value; xarray's CF "
                         "decoding drops it and cannot read it from Zarr v3, so it is not stored")
            a = a.copy()
            a.attrs.pop("_FillValue")
    return a


def compare_dataset(src, dst, where, skip, diffs, notes, raw_src, view, opts, fmt=None):
    label = where or "/"
    src_vars = [k for k in src.variables if f"{where}/{k}".lstrip("/") not in skip]
    if set(src_vars) != set(dst.variables):
        diffs.append(f"{label}: variables only in the source {sorted(set(src_vars) - set(dst.variables))}, "
                     f"only in the store {sorted(set(dst.variables) - set(src_vars))}")
    for k in sorted(set(src_vars) & set(dst.variables)):
        name = f"{where}/{k}" if where else k
        try:
            a, b = src[k], dst[k]
            if fmt == "v3":
                a = xarray_v3_limits(a, b, name, view, notes)
            compare_variable(a, b, k, name, diffs, notes, raw_src, view, opts)
        except Exception as e:  # noqa: BLE001 - a difference, not a crash
            diffs.append(exc_text(f"{view} {name}", e))
    hidden = sorted(n for n in set(src.attrs) - set(dst.attrs) if n.lower().startswith("_nc"))
    if hidden:
        notes.append(f"{view} {label}: xarray's Zarr backend hides group attributes named _nc*: {hidden}")
    src_names = set(src.attrs) - set(hidden)
    if src_names != set(dst.attrs):
        diffs.append(f"{label}: global attribute names differ: {sorted(src_names ^ set(dst.attrs))}")
    for n in sorted(set(src.attrs) & set(dst.attrs)):
        if not same_value(src.attrs[n], dst.attrs[n]):
            diffs.append(f"{label}: global attribute {n} {src.attrs[n]!r} vs store {dst.attrs[n]!r}")


RAW = {"decode_cf": False}
DECODED = {}  # xarray's defaults, on both sides
NO_TIMES = {"decode_times": False, "decode_timedelta": False}


class SideError(Exception):
    """An exception while opening one side, labelled with that side."""

    def __init__(self, side, e):
        super().__init__(f"{side}: {type(e).__name__}: {first_line(e)}")


def open_side(side, fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001
        raise SideError(side, e) from e


def open_store_reporting(store, g, opts, view, diffs):
    """open_zarr; when it refuses the group because of some variables, the others without them, and the
    refused ones reported. Returns the dataset and the paths of the refused variables."""
    try:
        return open_store(store, g, opts), set()
    except Exception as e:  # noqa: BLE001
        try:
            dst, bad = open_store_lenient(store, g, opts)
        except Exception:  # noqa: BLE001 - not a matter of some variables: open_zarr's error
            raise SideError("store", e) from e
        if not bad:
            raise SideError("store", e) from e
        diffs.append(exc_text(f"{view} {g or '/'}: open_zarr fails on {sorted(bad)}", e)
                     + " (the other variables compared without them)")
        for k, err in sorted(bad.items()):
            if exc_text("", err) != exc_text("", e):
                diffs.append(exc_text(f"{view} {g}/{k}".replace(" /", " "), err))
        return dst, {f"{g}/{k}".lstrip("/") for k in bad}


def xarray_view(job, store, groups, decode, notes):
    sources, skip, concat = job["sources"], job["skip"], job.get("concatDim")
    view = "decoded" if decode else "raw"
    diffs = []
    for g in groups:
        label = f"{view} {g or '/'}"
        opened = []
        try:
            opts = DECODED if decode else RAW
            try:
                src = open_source(sources, concat, g, opts, skip)
            except Exception as e:  # noqa: BLE001
                if not decode:
                    raise SideError("source", e) from e
                # xarray cannot decode the source with its defaults (e.g. a time axis holding the default
                # fill value, or a compound _FillValue): the store must fail alike; then both are compared
                # without time decoding, if that decodes the source.
                src_text = exc_text("", e)[2:]
                try:
                    open_store(store, g, opts).close()
                    if "void-scalar" in src_text:
                        # A compound _FillValue the source cannot decode (xarray's _check_fill_values);
                        # a v3 store carries it as fill_value only, so it decodes (nothing to mask).
                        notes.append(f"{label}: xarray decodes the store but not the source's compound "
                                     f"_FillValue ({src_text}); not compared")
                    else:
                        diffs.append(f"{label}: xarray decodes the store but not the source ({src_text})")
                    continue
                except Exception as e2:  # noqa: BLE001
                    if exc_text("", e2) != exc_text("", e):
                        diffs.append(f"{label}: the source fails to decode with {src_text}, the store with "
                                     f"{exc_text('', e2)[2:]}")
                        continue
                try:
                    opts = NO_TIMES
                    src = open_source(sources, concat, g, opts, skip)
                    notes.append(f"{label}: xarray decodes neither the source nor the store with its defaults "
                                 f"({src_text}); compared with decode_times=False, decode_timedelta=False")
                except Exception:  # noqa: BLE001
                    notes.append(f"{label}: xarray decodes neither the source nor the store ({src_text}); "
                                 "not compared")
                    continue
            opened.append(src)
            raw_src = None
            if decode:
                raw_src = open_side("source", open_source, sources, concat, g, RAW, skip)
                opened.append(raw_src)
            dst, unopenable = open_store_reporting(store, g, opts, view, diffs)
            opened.append(dst)
            compare_dataset(src, dst, g, set(skip) | unopenable, diffs, notes, raw_src, view, opts, job.get("format"))
        except SideError as e:
            diffs.append(f"{label}: {e}")
        except Exception as e:  # noqa: BLE001 - a difference, not a crash
            diffs.append(exc_text(label, e))
        finally:
            for ds in opened:
                ds.close()
    return {"ok": not diffs, "differences": capped(diffs)}


# ---------------------------------------------------------------------------------------------------
# The zarr view

def array_paths(group):
    import zarr
    return {path: node for path, node in group.members(max_depth=None) if isinstance(node, zarr.Array)}


def open_raw(sources):
    """netCDF4 handles on the sources for raw reading: no mask, no scale, chars as S1."""
    import netCDF4
    handles = []
    try:
        for src in sources:
            nc = netCDF4.Dataset(src)
            handles.append(nc)
            nc.set_auto_maskandscale(False)
            nc.set_always_mask(False)
            nc.set_auto_chartostring(False)
    except BaseException:
        for nc in handles:
            nc.close()
        raise
    return handles


def netcdf_raw(handles, concat, path):
    """netCDF4's raw reading of a variable; several sources (in order) are concatenated along `concat`,
    variables without it come from the first."""
    np = _np()
    v = handles[0][path]
    data = np.asarray(v[...])
    if len(handles) == 1 or concat not in v.dimensions:
        return data
    return np.concatenate([data] + [np.asarray(h[path][...]) for h in handles[1:]], axis=v.dimensions.index(concat))


def ordered_sources(sources, concat):
    """Several sources in the order of the first value of their `concat` coordinate (as the converter
    orders a collection), when each has one; else as given."""
    import netCDF4
    if len(sources) < 2 or not concat:
        return list(sources)
    keys = []
    for s in sources:
        with netCDF4.Dataset(s) as nc:
            if concat not in nc.variables or not nc[concat].size:
                return list(sources)
            keys.append(nc[concat][...].ravel()[0])
    return [s for _, s in sorted(zip(keys, sources), key=lambda t: t[0])]


def metadata_json(arr):
    """An array's metadata as comparable text (NaN fill values compare equal this way)."""
    return json.dumps(arr.metadata.to_dict(), sort_keys=True, default=repr)


def zarr_view(job, store, source_vars):
    import zarr
    sources, skip, concat = job["sources"], set(job["skip"]), job.get("concatDim")
    diffs, n = [], 0
    try:
        consolidated = zarr.open_consolidated(store, mode="r")
    except Exception as e:  # noqa: BLE001
        consolidated = None
        diffs.append(exc_text("zarr open_consolidated", e))
    try:
        root = zarr.open_group(store, mode="r", use_consolidated=False)
    except Exception as e:  # noqa: BLE001
        diffs.append(exc_text("zarr open_group", e))
        return {"ok": False, "arrays": 0, "differences": capped(diffs)}
    try:
        arrays = array_paths(root)
    except Exception as e:  # noqa: BLE001
        diffs.append(exc_text("zarr walk", e))
        return {"ok": False, "arrays": 0, "differences": capped(diffs)}
    expected = {p for p in source_vars if p not in skip}
    if set(arrays) != expected:
        extra, missing = sorted(set(arrays) - expected), sorted(expected - set(arrays))
        diffs.append(f"array paths: store has extra {extra}, lacks {missing}")
    if consolidated is not None:
        try:
            listed = array_paths(consolidated)
            if set(listed) != set(arrays):
                diffs.append(f"consolidated metadata: lists {sorted(set(listed) - set(arrays))} not in the hierarchy, "
                             f"lacks {sorted(set(arrays) - set(listed))}")
            for p in sorted(set(listed) & set(arrays)):
                if metadata_json(listed[p]) != metadata_json(arrays[p]):
                    diffs.append(f"{p}: consolidated metadata differs from the array's own")
        except Exception as e:  # noqa: BLE001
            diffs.append(exc_text("zarr consolidated walk", e))
    handles = open_raw(sources)  # one handle per source, the xarray views' all closed by now
    try:
        for p in sorted(arrays):
            try:
                got = _np().asarray(arrays[p][...])  # a 0-d string array reads as a str
                n += 1
                if p not in expected:
                    continue
                want = netcdf_raw(handles, concat, p)
                if tuple(got.shape) != tuple(want.shape):
                    diffs.append(f"{p}: shape {tuple(want.shape)} vs store {tuple(got.shape)} "
                                 f"({want.dtype} vs {got.dtype})")
                elif not same_data(want, got):
                    diffs.append(f"{p}: values differ ({want.dtype} vs store {got.dtype}){where_different(want, got)}")
            except Exception as e:  # noqa: BLE001
                diffs.append(exc_text(f"zarr {p}", e))
    finally:
        for nc in handles:
            nc.close()
    return {"ok": not diffs, "arrays": n, "differences": capped(diffs)}


# ---------------------------------------------------------------------------------------------------
# One job, in its own process: prints one JSON line per finished piece, so that the parent knows what
# was done before a crash, and the view under way on stderr.

def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run_one(job):
    import dask
    dask.config.set(scheduler="synchronous")
    job = {"skip": [], "concatDim": None, **job}
    job["skip"] = [s.lstrip("/") for s in job["skip"]]
    unreadable = check_readable(job["sources"]) if job["sources"] else "no sources"
    if unreadable:
        emit({"sourceUnreadable": unreadable})
        return
    job["sources"] = ordered_sources(job["sources"], job["concatDim"])
    groups, source_vars = source_structure(job["sources"][0])
    for fmt in ("v2", "v3"):
        store = job["stores"].get(fmt)
        if not store:
            continue
        notes = []
        for view in VIEWS:
            if view not in job.get("views", VIEWS):
                # e.g. files whose time units differ: only the decoded values can equal the source's
                emit({"store": fmt, "view": view, "result": {"ok": False, "notRequested": True, "differences": []}})
                continue
            sys.stderr.write(f"@@view {fmt} {view}\n")
            sys.stderr.flush()
            if os.environ.get("COMPARE_MODERN_CRASH_AT") == f"{fmt} {view}":  # to test the crash path
                os.kill(os.getpid(), signal.SIGSEGV)
            try:
                if view == "zarr":
                    r = zarr_view(job, store, source_vars)
                else:
                    r = xarray_view({**job, "format": fmt}, store, groups, view == "decoded", notes)
            except Exception as e:  # noqa: BLE001
                r = {"ok": False, **({"arrays": 0} if view == "zarr" else {}), "differences": [exc_text(view, e)]}
            emit({"store": fmt, "view": view, "result": r})
        emit({"store": fmt, "notes": notes})


def failed_view(view, text):
    return {"ok": False, **({"arrays": 0} if view == "zarr" else {}), "differences": [f"{view}: {text}"]}


def run_job(job):
    """Runs one job in a subprocess; assembles its lines; turns a crash into differences."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    try:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--one"], input=json.dumps(job),
                           capture_output=True, text=True, env=env, timeout=JOB_TIMEOUT_S)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, err = "timeout", e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
    result = {fmt: None for fmt in ("v2", "v3")}
    done = {}
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "sourceUnreadable" in msg:
            return msg
        if "view" in msg:
            done.setdefault(msg["store"], {})[msg["view"]] = msg["result"]
        elif "notes" in msg:
            done.setdefault(msg["store"], {})["notes"] = msg["notes"]
    if rc == 0:
        for fmt, r in done.items():
            result[fmt] = r
        if all(job["stores"].get(f) is None or result[f] is not None for f in result):
            return result
    # A crash, a timeout or an unexpected exit: the view under way takes the blame, later ones did not run.
    if rc == "timeout":
        why = f"timed out after {JOB_TIMEOUT_S:.0f} s"
    elif isinstance(rc, int) and rc < 0:
        why = f"the subprocess was killed by {signal.Signals(-rc).name} (signal {-rc})"
    else:
        tail = " ".join(err.strip().splitlines()[-3:])
        why = f"the subprocess exited with status {rc}: {tail}"
    marks = [line.split()[1:] for line in err.splitlines() if line.startswith("@@view ")]
    at = tuple(marks[-1]) if marks else None
    for fmt in ("v2", "v3"):
        if not job["stores"].get(fmt):
            continue
        r = dict(done.get(fmt, {}))
        for view in VIEWS:
            if view not in r:
                r[view] = failed_view(view, why if at in (None, (fmt, view)) else f"not run ({why} during {' '.join(at)})")
        r.setdefault("notes", [])
        result[fmt] = {k: r[k] for k in (*VIEWS, "notes")}
    return result


def run_jobs(jobs):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # a closed stdout ends the run quietly
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        for r in pool.map(run_job, jobs):
            print(json.dumps(r), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--jobs"]:
        run_jobs(json.load(sys.stdin))
    elif sys.argv[1:] == ["--one"]:
        run_one(json.load(sys.stdin))
    else:
        sys.exit(__doc__)
