/**
 * Values a collection re-expresses on their way to the store, when its files encode one variable
 * differently:
 * - times whose `units` differ from file to file ("minutes since 2021-01-01 00:30:00", then
 *   "... 2021-01-02 00:30:00") are rewritten in one encoding, exactly — as xarray's open_mfdataset
 *   does by decoding and re-encoding them: v' = v · scale + shift with exact ratios;
 * - with `--unpack`, packed integers (scale_factor, add_offset, whose values may differ between
 *   files) are stored as the floats xarray's CF decoding gives, masked values as NaN.
 * The plan is plain data: it travels with the job to workers.
 */
import { ConvertError } from "./errors.js";
import { exactDouble, looksLikeTimeUnits, parseCalendar, parseTimeUnits, ratioOf, rebase, reduce, type Calendar, type Ratio } from "./cf/time.js";
import {
  allocate, findVariable, getAttr, INTEGER_RANGES, itemSize, textAttr, walkVariables, type ArrayData, type Attribute, type Dataset, type DType, type Variable,
} from "./model.js";
import type { SourceFile } from "./source/types.js";

/** How one variable's values change from each file to the store. */
export type VariableRecode = TimeRecode | UnpackRecode;

interface StoredAs {
  /** The stored type (the source's, or wider when the re-expressed values need it). */
  dtype: DType;
  /** The stored attributes, replacing the first file's. */
  attrs: Attribute[];
}

export interface TimeRecode extends StoredAs {
  kind: "time";
  /** Per file path: v' = v · scale + shift, ratios written "p/q". */
  files: Record<string, { scale: string; shift: string }>;
  /** Source values that mean "missing" (_FillValue, missing_value): stored as they are. */
  keep: number[];
}

export interface UnpackRecode extends StoredAs {
  kind: "unpack";
  /** Per file path: its packing, as xarray decodes it. */
  files: Record<string, Packing>;
}

/** One file's packing of a variable, and the float type xarray decodes it in. */
export interface Packing {
  scale?: number;
  offset?: number;
  /** Raw values that are missing (_FillValue, missing_value; after _Unsigned). */
  missing: number[];
  /** `_Unsigned = "true"` on a signed integer: read its bits as unsigned. */
  unsigned: boolean;
  /** xarray's _choose_float_dtype for this file: the type the arithmetic is done in. */
  float: "float32" | "float64";
}

/** Variable path → its recode; empty when every file encodes every variable alike. */
export type RecodeSpec = Record<string, VariableRecode>;

/** Time units to store a variable in (an append: the store's), with the type the store has, if any. */
export interface TimeTarget {
  units: string;
  dtype?: DType;
}

const ratioText = (r: Ratio) => `${r.p}/${r.q}`;
const ratioFrom = (s: string): Ratio => {
  const [p, q] = s.split("/");
  return { p: BigInt(p!), q: BigInt(q!) };
};

/** The variables along `dim` whose values are times (units "X since Y"), with the bounds variables they name. */
function timeVariables(ds: Dataset, dim: string | undefined): { v: Variable; unitsOf: Variable }[] {
  const all = [...walkVariables(ds.root)];
  const out: { v: Variable; unitsOf: Variable }[] = [];
  for (const v of all) {
    if (v.unsupported || (dim && !v.dims.includes(dim)) || !looksLikeTimeUnits(textAttr(v.attrs, "units"))) continue;
    out.push({ v, unitsOf: v });
    const bounds = textAttr(v.attrs, "bounds") ?? textAttr(v.attrs, "climatology");
    const b = bounds && all.find((x) => x.name === bounds && x.path.slice(0, x.path.lastIndexOf("/")) === v.path.slice(0, v.path.lastIndexOf("/")));
    // CF: bounds carry their coordinate's units (and may repeat them).
    if (b && !getAttr(b.attrs, "units")) out.push({ v: b, unitsOf: v });
  }
  return out;
}

/**
 * Plans the time recodes of a collection: every time variable whose files' units differ (or differ
 * from `targets`) is re-expressed in the first file's units (or the target's). Reads those
 * variables' values (times are small) to choose the stored type: the source's when every value
 * stays a whole number in its range, else int64, else float64 when exact; refuses, naming both
 * files, when calendars differ or no exact encoding exists.
 */
export function planTimeRecodes(files: readonly SourceFile[], dim: string | undefined, targets: Record<string, TimeTarget> = {}): RecodeSpec {
  const spec: RecodeSpec = {};
  const first = files[0]!;
  for (const { v, unitsOf } of timeVariables(first.dataset, dim)) {
    const target = targets[unitsOf.path]?.units ?? textAttr(unitsOf.attrs, "units")!;
    const calendars = files.map((f) => {
      const u = findVariable(f.dataset, unitsOf.path);
      const name = u ? textAttr(u.attrs, "calendar") : undefined;
      const c = parseCalendar(name);
      if (!c) throw new ConvertError("Unsupported", `variable ${unitsOf.path}: calendar "${name}" is none of CF's`, f.path);
      return c;
    });
    const unitsPerFile = files.map((f) => textAttr((findVariable(f.dataset, unitsOf.path) ?? unitsOf).attrs, "units") ?? "");
    if (unitsPerFile.every((u) => u === target)) continue;
    const differs = calendars.findIndex((c) => c !== calendars[0]);
    if (differs >= 0) {
      throw new ConvertError("Mismatch", `does not match ${first.path}: variable ${unitsOf.path} has calendar ${calendars[differs]}, expected ${calendars[0]} (files in different calendars cannot share one time axis)`, files[differs]!.path);
    }
    const calendar: Calendar = calendars[0]!;
    const parse = (u: string, where: string) => {
      try {
        return parseTimeUnits(u, calendar);
      } catch (e) {
        throw new ConvertError("Unsupported", `variable ${unitsOf.path}: ${(e as Error).message}`, where);
      }
    };
    const to = parse(target, targets[unitsOf.path] ? "--time-units" : first.path);
    const keep = ["_FillValue", "missing_value"].flatMap((n) => (getAttr(v.attrs, n)?.value as number[] | undefined) ?? []).map(Number);
    const perFile: TimeRecode["files"] = {};
    const results: Ratio[] = [];
    files.forEach((f, i) => {
      const { scale, shift } = rebase(parse(unitsPerFile[i]!, f.path), to);
      perFile[f.path] = { scale: ratioText(scale), shift: ratioText(shift) };
      const fv = findVariable(f.dataset, v.path);
      if (!fv) return;
      const values = f.read(v.path, fv.shape.map(() => 0), fv.shape) as ArrayLike<number | bigint>;
      for (let k = 0; k < values.length; k++) {
        const x = values[k]!;
        if (keep.includes(Number(x)) || (typeof x === "number" && Number.isNaN(x))) continue;
        results.push(transform(x, scale, shift));
      }
    });
    const dtype = storedType(v, results, targets[v.path]?.dtype, first.path, files.at(-1)!.path);
    const attrs = v.attrs.map((a) => (a.name === "units" ? { ...a, value: target } : a));
    spec[v.path] = { kind: "time", dtype, attrs, files: perFile, keep };
  }
  return spec;
}

function transform(x: number | bigint, scale: Ratio, shift: Ratio): Ratio {
  const r = typeof x === "bigint" ? { p: x, q: 1n } : ratioOf(x);
  return reduce({ p: r.p * scale.p * shift.q + shift.p * scale.q * r.q, q: r.q * scale.q * shift.q });
}

/** The types a re-expressed variable may widen to, narrowest first. */
const WIDER: Partial<Record<DType, DType[]>> = {
  int8: ["int16", "int32", "int64", "float64"], int16: ["int32", "int64", "float64"], int32: ["int64", "float64"], int64: ["float64"],
  uint8: ["uint16", "uint32", "uint64", "int64", "float64"], uint16: ["uint32", "uint64", "int64", "float64"],
  uint32: ["uint64", "int64", "float64"], uint64: ["int64", "float64"], float32: ["float64"],
};

/** The narrowest type, starting from the source's (or the store's), that holds every re-expressed value exactly. */
function storedType(v: Variable, values: Ratio[], required: DType | undefined, firstPath: string, lastPath: string): DType {
  const whole = values.every((r) => r.q === 1n);
  const fits = (t: DType) => {
    const lim = INTEGER_RANGES[t];
    if (lim) return whole && values.every((r) => r.p >= lim[0] && r.p <= lim[1]);
    if (t === "float64") return values.every((r) => exactDouble(r) !== undefined);
    if (t === "float32") return values.every((r) => { const x = exactDouble(r); return x !== undefined && Math.fround(x) === x; });
    return false;
  };
  const candidates: DType[] = required ? [required] : [v.dtype, ...WIDER[v.dtype] ?? []];
  const t = candidates.find(fits);
  if (!t) {
    const as = required ? `as ${required}, the store's type` : "in the first file's units (--time-units can name finer ones)";
    throw new ConvertError("Mismatch", `variable ${v.path}: the times of ${lastPath} and ${firstPath} have no exact common encoding ${as}`, lastPath);
  }
  return t;
}

/** A recoded variable as stored: its type and attributes from the spec. */
export function recodedDataset(ds: Dataset, spec: RecodeSpec): void {
  for (const v of walkVariables(ds.root)) {
    const r = spec[v.path];
    if (!r) continue;
    v.dtype = r.dtype;
    v.attrs = structuredClone(r.attrs);
    delete v.hdf5; // the stored values are not the file's: nothing is copied or read as planes
  }
}

/** One file's values of a recoded variable, in the stored type. */
export function applyRecode(r: VariableRecode, file: string, data: ArrayData): ArrayData {
  if (!r.files[file]) throw new ConvertError("Usage", `no recode for ${file}`);
  return r.kind === "time" ? applyTime(r, file, data) : applyUnpack(r, file, data);
}

function applyTime(r: TimeRecode, file: string, data: ArrayData): ArrayData {
  const f = r.files[file]!;
  const scale = ratioFrom(f.scale), shift = ratioFrom(f.shift);
  const src = data as ArrayLike<number | bigint>;
  const out = allocate(r.dtype, src.length) as unknown as { [i: number]: number | bigint };
  const big = r.dtype === "int64" || r.dtype === "uint64";
  const float = r.dtype === "float32" || r.dtype === "float64";
  for (let i = 0; i < src.length; i++) {
    const x = src[i]!;
    if (r.keep.includes(Number(x)) || (typeof x === "number" && Number.isNaN(x))) {
      out[i] = big ? BigInt(Number.isNaN(Number(x)) ? 0 : x) : Number(x);
      continue;
    }
    const y = transform(x, scale, shift);
    out[i] = float ? exactDouble(y)! : big ? y.p : Number(y.p);
  }
  return out as unknown as ArrayData;
}

const PACKING_ATTRS = ["scale_factor", "add_offset", "_FillValue", "missing_value", "_Unsigned"];
/** Attributes whose values may differ between files when their variable is unpacked. */
export const isPackingAttr = (name: string): boolean => PACKING_ATTRS.includes(name);

const numbers = (a: Attribute | undefined): number[] =>
  a && typeof a.value !== "string" ? (a.value as (number | bigint | string)[]).map(Number) : [];

/** A signed integer's bits read as unsigned (`_Unsigned = "true"`), as xarray decodes them. */
const asUnsigned = (x: number, bytes: number) => (x < 0 ? x + 2 ** (8 * bytes) : x);

/** xarray's CF decoding of one file's variable: which float type, which values are missing. */
function packingOf(v: Variable): Packing {
  const scaleA = getAttr(v.attrs, "scale_factor"), offsetA = getAttr(v.attrs, "add_offset");
  const scale = numbers(scaleA)[0], offset = numbers(offsetA)[0];
  const scale32 = scaleA?.type === "float32";
  const unsigned = /^(int8|int16|int32|int64)$/.test(v.dtype) && textAttr(v.attrs, "_Unsigned")?.toLowerCase() === "true";
  const bytes = itemSize(v.dtype);
  const missing = [...numbers(getAttr(v.attrs, "_FillValue")), ...numbers(getAttr(v.attrs, "missing_value"))]
    .map((x) => (unsigned ? asUnsigned(x, bytes) : x));
  // xarray's _choose_float_dtype: both attributes of one float type → that type (float64 for 32-bit
  // integers); an offset alone → float64; a scale alone → its type.
  const both = scaleA && offsetA && scaleA.type === offsetA.type;
  const float: Packing["float"] = both ? (/^u?int32$/.test(v.dtype) || !scale32 ? "float64" : "float32")
    : offsetA ? "float64" : scaleA ? (scale32 ? "float32" : "float64") : "float64";
  return { ...(scale !== undefined && { scale }), ...(offset !== undefined && { offset }), missing, unsigned, float };
}

/**
 * With --unpack: every variable packed in some file (scale_factor or add_offset) is stored as
 * xarray's CF decoding gives it, file by file — float32 when every file decodes to float32, else
 * float64 (as open_mfdataset's concatenation promotes) — missing values as NaN, the packing
 * attributes gone and `_FillValue` NaN. `only`: just these variables (an existing store's).
 */
export function planUnpack(files: readonly SourceFile[], only?: readonly string[]): RecodeSpec {
  const spec: RecodeSpec = {};
  const first = files[0]!;
  for (const v of walkVariables(first.dataset.root)) {
    if (v.unsupported || (only && !only.includes(v.path)) || !/int|float/.test(v.dtype)) continue;
    const perFile = files.map((f) => findVariable(f.dataset, v.path) ?? v);
    if (!perFile.some((x) => getAttr(x.attrs, "scale_factor") || getAttr(x.attrs, "add_offset"))) continue;
    const packings = perFile.map(packingOf);
    const dtype: DType = packings.every((p) => p.float === "float32") ? "float32" : "float64";
    const attrs: Attribute[] = [
      ...v.attrs.filter((a) => !isPackingAttr(a.name)),
      { name: "_FillValue", type: dtype, value: [NaN] },
    ];
    spec[v.path] = { kind: "unpack", dtype, attrs, files: Object.fromEntries(files.map((f, i) => [f.path, packings[i]!])) };
  }
  return spec;
}

/** numpy's `data.astype(T); data *= scale; data += offset`, element by element, masked values NaN. */
function applyUnpack(r: UnpackRecode, file: string, data: ArrayData): ArrayData {
  const p = r.files[file]!;
  const src = data as ArrayLike<number | bigint>;
  const out = allocate(r.dtype, src.length) as Float32Array | Float64Array;
  const f32 = p.float === "float32";
  const round = (x: number) => (f32 ? Math.fround(x) : x);
  const bytes = (data as Int8Array).BYTES_PER_ELEMENT ?? 8;
  for (let i = 0; i < src.length; i++) {
    let x = Number(src[i]!);
    if (p.unsigned) x = asUnsigned(x, bytes);
    if (p.missing.includes(x) || Number.isNaN(x)) {
      out[i] = NaN;
      continue;
    }
    let y = round(x);
    // float32 data times a float64 scale: numpy computes in float64 and casts back (the same rounding)
    if (p.scale !== undefined) y = round(y * p.scale);
    if (p.offset !== undefined) y = round(y + p.offset);
    out[i] = y;
  }
  return out;
}
