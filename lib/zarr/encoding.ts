/**
 * How one NetCDF variable is laid out as one Zarr array, per format — the rules xarray reads back:
 *  v2: dims in `_ARRAY_DIMENSIONS`; `fill_value` IS the CF `_FillValue` (not repeated in .zattrs);
 *      NC_CHAR as `|S1` with its character dimension; NC_STRING as `|O` + vlen-utf8.
 *  v3: `dimension_names`; `fill_value` never null; `_FillValue` kept as an attribute in the form
 *      xarray's FillValueCoder decodes (floats as base64 of little-endian float64, integers as
 *      JSON integers); NC_CHAR as zarr-python's `null_terminated_bytes` of length 1 with its
 *      character dimension, raw bytes (what xarray's own to_zarr writes for `|S1`).
 *      A `_FillValue` xarray 2026.9 cannot decode from a v3 attribute — on char and string arrays
 *      (pydata/xarray#11332), or a value outside the variable's type, e.g. NaN on int16 — is not
 *      written as an attribute (see `v3FillDropped`); char and string fills stay in `fill_value`.
 * Compounds (numeric scalar fields): packed little-endian records; v2 `dtype` a list of
 *      [name, "<i2"] pairs, v3 zarr-python's `structured` data type; `fill_value` base64 of the
 *      packed fill record; never a `_FillValue` attribute (xarray 2026.9 fails on one).
 * Every other attribute (scale_factor, add_offset, units, calendar, _Unsigned, missing_value …) is
 * copied as stored, so packed integers stay packed and times stay numeric.
 */
import { ConvertError } from "../errors.js";
import { elementSize, getAttr, INTEGER_RANGES, type DType, type Variable } from "../model.js";
import { attrsToJson, type JsonAttr } from "./attrs.js";
import type { Compressor } from "./codecs.js";

export type ZarrFormat = 2 | 3;
export type FillValue = number | bigint | string | null;

export interface ArrayEncoding {
  /** Store path of the array without leading slash, e.g. "sst" or "forecast/sst". */
  key: string;
  variable: Variable;
  format: ZarrFormat;
  /** dtype of the stored elements: the variable's. */
  dtype: DType;
  shape: number[];
  chunks: number[];
  dims: string[];
  /** Value in the metadata `fill_value`; also what missing chunks read as. */
  fill: FillValue;
  attrs: Record<string, JsonAttr>;
  compressor: Compressor;
}

/**
 * What an array's elements are, for sizes and allocation: its dtype, and a compound's fields (from
 * its variable, looked at only then).
 */
export function elementOf(e: Pick<ArrayEncoding, "dtype" | "variable">): Pick<Variable, "dtype" | "compound"> {
  return e.dtype === "compound" ? e.variable : { dtype: e.dtype };
}

export const V2_DTYPES: Record<DType, string> = {
  int8: "|i1", uint8: "|u1", int16: "<i2", uint16: "<u2", int32: "<i4", uint32: "<u4",
  int64: "<i8", uint64: "<u8", float32: "<f4", float64: "<f8", char: "|S1", string: "|O",
  compound: "", // a list of fields, see v2DType
};

/** Our type of a stored array from its metadata (v2 `dtype` / v3 `data_type`), if it is one we write. */
export function storedDType(format: ZarrFormat, meta: Record<string, unknown>): DType | undefined {
  const t = format === 2 ? meta["dtype"] : meta["data_type"];
  return (Object.keys(V2_DTYPES) as DType[]).find((d) => d !== "compound" && JSON.stringify(dataTypeJson(format, { dtype: d })) === JSON.stringify(t));
}

/** The element type as the metadata states it: v2's `dtype` or v3's `data_type`. */
export function dataTypeJson(format: ZarrFormat, v: Pick<Variable, "dtype" | "compound">): unknown {
  return format === 2 ? v2DType(v) : v3DataType(v);
}

/** The v2 `dtype`: numpy's typestr, or for a compound its (little-endian) field list. */
function v2DType(v: Pick<Variable, "dtype" | "compound">): string | [string, string][] {
  return v.compound ? v.compound.fields.map((f) => [f.name, V2_DTYPES[f.type]]) : V2_DTYPES[v.dtype];
}


/**
 * The variable's _FillValue cast exactly to its own type, or undefined when absent or not a value of
 * that type (NaN or 1.5 on an integer variable, 300 on int8, text on a number): netCDF-C would not
 * accept such a fill, and xarray's CF decoding drops it with a warning.
 */
function fillValueOf(v: Variable): FillValue | undefined {
  const a = getAttr(v.attrs, "_FillValue");
  if (!a) return undefined;
  const raw = typeof a.value === "string" ? a.value : a.value[0];
  if (raw === undefined) return undefined;
  if (v.dtype === "compound") {
    // The packed record's bytes (netcdf4.ts), as base64: the form both formats' fill_value take.
    return a.type === "compound" && a.value.length === elementSize(v) ? Buffer.from(a.value as number[]).toString("base64") : undefined;
  }
  if (v.dtype === "char" || v.dtype === "string") return String(raw);
  if (typeof raw === "string") return undefined;
  if (v.dtype === "float32") return Math.fround(Number(raw));
  if (v.dtype === "float64") return Number(raw);
  const range = INTEGER_RANGES[v.dtype]!;
  if (typeof raw === "number" && !Number.isInteger(raw)) return undefined;
  const big = BigInt(raw);
  if (big < range[0] || big > range[1]) return undefined;
  return v.dtype === "int64" || v.dtype === "uint64" ? big : Number(big);
}

/**
 * Why a source `_FillValue` is not written as a v3 attribute, or undefined when it is. xarray
 * 2026.9 decodes v3 `_FillValue` attributes by the array's dtype and fails the whole dataset for
 * bytes and string dtypes and for values its integer dtype cannot hold; the char/string fill still
 * stands in the array's `fill_value`, and a non-conforming fill is dropped by xarray's decoding anyway.
 */
export function v3FillDropped(v: Variable): string | undefined {
  if (!getAttr(v.attrs, "_FillValue")) return undefined;
  if (v.dtype === "char" || v.dtype === "string") return "xarray cannot decode a text _FillValue attribute from Zarr v3; it is the array's fill_value";
  if (v.dtype === "compound") return "xarray cannot read a _FillValue attribute of a structured array; it is the array's fill_value";
  if (fillValueOf(v) === undefined) return `_FillValue is not a value of ${v.dtype}`;
  return undefined;
}

function float64Base64(x: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b.toString("base64");
}

export function encodeArray(
  v: Variable, key: string, format: ZarrFormat, chunks: number[], compressor: Compressor,
): ArrayEncoding {
  if (v.unsupported) throw new ConvertError("Unsupported", `variable ${v.path} has an unsupported ${v.unsupported}`);
  const fill = fillValueOf(v);
  const base = { key, variable: v, format, compressor, dtype: v.dtype, shape: v.shape, chunks, dims: v.dims };
  if (format === 2) {
    if (getAttr(v.attrs, "_ARRAY_DIMENSIONS")) {
      throw new ConvertError("Unsupported", `variable ${v.path} has an attribute named _ARRAY_DIMENSIONS, which Zarr v2 reserves for the dimension names (use --zarr-format 3)`);
    }
    // The mask lives in fill_value, except for strings (zarr 2 has no plain encoding for them there).
    const inFill = fill !== undefined && v.dtype !== "string";
    const attrs = attrsToJson(v.attrs, new Set(inFill ? ["_FillValue"] : []));
    return { ...base, fill: inFill ? fill! : null, attrs };
  }
  const attrs = attrsToJson(v.attrs, new Set(getAttr(v.attrs, "_FillValue") ? ["_FillValue"] : []));
  if (fill !== undefined && !v3FillDropped(v)) {
    attrs["_FillValue"] = typeof fill === "number" && (v.dtype === "float32" || v.dtype === "float64") ? float64Base64(fill) : fill;
  }
  const defaultFill: FillValue = v.dtype === "compound" ? Buffer.alloc(elementSize(v)).toString("base64")
    : v.dtype === "string" || v.dtype === "char" ? "" : v.dtype === "int64" || v.dtype === "uint64" ? 0n : 0;
  return { ...base, fill: fill ?? defaultFill, attrs };
}

/** fill_value as JSON: NaN/±Infinity as strings (both specs); v2 bytes as base64. */
export function fillValueJson(e: ArrayEncoding): unknown {
  const f = e.fill;
  if (f === null) return null;
  if (typeof f === "number") {
    if (Number.isNaN(f)) return "NaN";
    if (!Number.isFinite(f)) return f > 0 ? "Infinity" : "-Infinity";
    return f;
  }
  // char: base64 of the fill byte in both formats; v3's "" is no byte at all (reads as NUL), as xarray writes it.
  if (e.dtype === "char") return Buffer.from(String(f), "latin1").subarray(0, 1).toString("base64");
  return f;
}

export function v2ArrayDocs(e: ArrayEncoding): { zarray: Record<string, unknown>; zattrs: Record<string, unknown> } {
  const extra = e.compressor.v2Filters?.() ?? [];
  const filters = e.dtype === "string" ? [{ id: "vlen-utf8" }] : extra.length ? extra : null;
  return {
    zarray: {
      zarr_format: 2, shape: e.shape, chunks: e.chunks, dtype: dataTypeJson(2, e.variable), fill_value: fillValueJson(e),
      order: "C", filters, compressor: e.compressor.v2(), dimension_separator: ".",
      ...(e.variable.enum && { netcdf_enum: enumJson(e) }),
    },
    zattrs: { ...e.attrs, _ARRAY_DIMENSIONS: e.dims },
  };
}

export function v3ArrayDoc(e: ArrayEncoding): Record<string, unknown> {
  const after = e.compressor.v3(elementSize(elementOf(e)));
  // char and compound take no endian: one byte, or (structured) zarr-python ignores it and reads little-endian.
  const first = e.dtype === "string" ? { name: "vlen-utf8" }
    : e.dtype === "char" || e.dtype === "compound" ? { name: "bytes" }
    : { name: "bytes", configuration: { endian: "little" } };
  return {
    zarr_format: 3, node_type: "array", shape: e.shape, data_type: dataTypeJson(3, e.variable), chunk_grid: {
      name: "regular", configuration: { chunk_shape: e.shape.length ? e.chunks : [] },
    },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: fillValueJson(e), codecs: [first, ...after],
    attributes: e.attrs, dimension_names: e.dims,
    ...(e.variable.enum && { netcdf_enum: { must_understand: false, ...enumJson(e) } }),
  };
}

/**
 * The v3 `data_type`: core names for numbers and strings; NC_CHAR as zarr-python's
 * `null_terminated_bytes` of one byte (numpy `|S1`), which xarray reads as the netCDF char array;
 * a compound as zarr-python's `structured` extension type (numpy's packed structured dtype).
 */
function v3DataType(v: Pick<Variable, "dtype" | "compound">): string | Record<string, unknown> {
  if (v.compound) return { name: "structured", configuration: { fields: v.compound.fields.map((f) => [f.name, f.type]) } };
  return v.dtype === "char" ? { name: "null_terminated_bytes", configuration: { length_bytes: 1 } } : v.dtype;
}

/**
 * A netCDF enum's names beside its integer values. xarray reads enums as their base integers and has
 * no Zarr form for the names, so they go in a field of the array's metadata that readers may ignore
 * (v3: `must_understand: false`; v2: an extra .zarray key, tolerated by zarr-python 2 and 3).
 */
function enumJson(e: ArrayEncoding): Record<string, unknown> {
  const t = e.variable.enum!;
  return { ...(t.name && { name: t.name.slice(t.name.lastIndexOf("/") + 1), path: t.name }), base: e.dtype, members: t.members };
}

/** Key of a chunk, given its grid coordinates. */
export function chunkKey(e: Pick<ArrayEncoding, "format" | "key">, coords: readonly number[]): `/${string}` {
  if (e.format === 2) return `/${e.key}/${coords.length ? coords.join(".") : "0"}`;
  return `/${e.key}/${["c", ...coords].join("/")}`;
}
