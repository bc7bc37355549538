/**
 * How one NetCDF variable is laid out as one Zarr array, per format — the rules xarray reads back:
 *  v2: dims in `_ARRAY_DIMENSIONS`; `fill_value` IS the CF `_FillValue` (not repeated in .zattrs);
 *      NC_CHAR as `|S1` with its character dimension; NC_STRING as `|O` + vlen-utf8.
 *  v3: `dimension_names`; `fill_value` never null; `_FillValue` kept as an attribute, floats as
 *      base64 of little-endian float64 (xarray's FillValueCoder); NC_CHAR joined along its last
 *      dimension into `string` values (core v3 has no fixed-bytes type).
 * Every other attribute (scale_factor, add_offset, units, calendar, _Unsigned, missing_value …) is
 * copied as stored, so packed integers stay packed and times stay numeric.
 */
import { ConvertError } from "../errors.js";
import { getAttr, itemSize, type DType, type Variable } from "../model.js";
import { attrsToJson, type JsonAttr } from "./attrs.js";
import type { Compressor } from "./codecs.js";

export type ZarrFormat = 2 | 3;
export type FillValue = number | bigint | string | null;

export interface ArrayEncoding {
  /** Store path of the array without leading slash, e.g. "sst" or "forecast/sst". */
  key: string;
  variable: Variable;
  format: ZarrFormat;
  /** dtype of the stored elements: the variable's, except v3 char → string. */
  dtype: DType;
  shape: number[];
  chunks: number[];
  dims: string[];
  /** v3: char bytes become strings, joined along the last axis (a 0-d char is one 1-byte string). */
  joinChars: boolean;
  /** Value in the metadata `fill_value`; also what missing chunks read as. */
  fill: FillValue;
  attrs: Record<string, JsonAttr>;
  compressor: Compressor;
}

export const V2_DTYPES: Record<DType, string> = {
  int8: "|i1", uint8: "|u1", int16: "<i2", uint16: "<u2", int32: "<i4", uint32: "<u4",
  int64: "<i8", uint64: "<u8", float32: "<f4", float64: "<f8", char: "|S1", string: "|O",
};

/** The variable's _FillValue cast exactly to its own type, or undefined when absent or not castable. */
function fillValueOf(v: Variable): FillValue | undefined {
  const a = getAttr(v.attrs, "_FillValue");
  if (!a) return undefined;
  const raw = typeof a.value === "string" ? a.value : a.value[0];
  if (raw === undefined) return undefined;
  if (v.dtype === "char" || v.dtype === "string") return String(raw);
  if (typeof raw === "string") return undefined;
  if (v.dtype === "int64" || v.dtype === "uint64") return typeof raw === "bigint" ? raw : BigInt(raw);
  const n = Number(raw);
  if (v.dtype === "float32") return Math.fround(n);
  if (v.dtype === "float64") return n;
  return Number.isInteger(n) ? n : undefined;
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
  const joinChars = format === 3 && v.dtype === "char";
  const drop = joinChars && v.shape.length > 0 ? -1 : undefined;
  const base = {
    key, variable: v, format, compressor, joinChars,
    dtype: joinChars ? ("string" as DType) : v.dtype,
    shape: v.shape.slice(0, drop),
    chunks: chunks.slice(0, drop),
    dims: v.dims.slice(0, drop),
  };
  if (format === 2) {
    // The mask lives in fill_value, except for strings (zarr 2 has no plain encoding for them there).
    const inFill = fill !== undefined && v.dtype !== "string";
    const attrs = attrsToJson(v.attrs, new Set(inFill ? ["_FillValue"] : []));
    return { ...base, fill: inFill ? fill! : null, attrs };
  }
  // A _FillValue that is not of the variable's type (e.g. the text "NaN" on int16) stays as stored.
  const attrs = attrsToJson(v.attrs, new Set(fill !== undefined ? ["_FillValue"] : []));
  if (fill !== undefined) {
    if (typeof fill === "number" && (v.dtype === "float32" || v.dtype === "float64")) attrs["_FillValue"] = float64Base64(fill);
    else attrs["_FillValue"] = fill;
  }
  const defaultFill: FillValue = base.dtype === "string" ? "" : base.dtype === "int64" || base.dtype === "uint64" ? 0n : 0;
  return { ...base, fill: fill ?? defaultFill, attrs };
}

/** fill_value as JSON: NaN/±Infinity as strings (both specs); v2 bytes as base64. */
function fillJson(e: ArrayEncoding): unknown {
  const f = e.fill;
  if (f === null) return null;
  if (typeof f === "number") {
    if (Number.isNaN(f)) return "NaN";
    if (!Number.isFinite(f)) return f > 0 ? "Infinity" : "-Infinity";
    return f;
  }
  if (e.format === 2 && e.dtype === "char") return Buffer.from(String(f), "latin1").subarray(0, 1).toString("base64");
  return f;
}

export function v2ArrayDocs(e: ArrayEncoding): { zarray: Record<string, unknown>; zattrs: Record<string, unknown> } {
  const extra = e.compressor.v2Filters?.() ?? [];
  const filters = e.dtype === "string" ? [{ id: "vlen-utf8" }] : extra.length ? extra : null;
  return {
    zarray: {
      zarr_format: 2, shape: e.shape, chunks: e.chunks, dtype: V2_DTYPES[e.dtype], fill_value: fillJson(e),
      order: "C", filters, compressor: e.compressor.v2(), dimension_separator: ".",
    },
    zattrs: { ...e.attrs, _ARRAY_DIMENSIONS: e.dims },
  };
}

export function v3ArrayDoc(e: ArrayEncoding): Record<string, unknown> {
  const after = e.compressor.v3(itemSize(e.dtype));
  const first = e.dtype === "string"
    ? { name: "vlen-utf8" }
    : { name: "bytes", configuration: { endian: "little" } };
  return {
    zarr_format: 3, node_type: "array", shape: e.shape, data_type: e.dtype, chunk_grid: {
      name: "regular", configuration: { chunk_shape: e.shape.length ? e.chunks : [] },
    },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: fillJson(e), codecs: [first, ...after],
    attributes: e.attrs, dimension_names: e.dims,
  };
}

/** Key of a chunk, given its grid coordinates. */
export function chunkKey(e: ArrayEncoding, coords: readonly number[]): `/${string}` {
  if (e.format === 2) return `/${e.key}/${coords.length ? coords.join(".") : "0"}`;
  return `/${e.key}/${["c", ...coords].join("/")}`;
}
