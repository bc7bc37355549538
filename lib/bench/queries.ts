/**
 * The queries people run on such archives, defined once and run on either format: `point` (the full
 * time series at the grid point nearest a lat/lon: the original sample's query), `map` (one time step
 * over the whole grid) and `box` (a lat/lon box over a time window). Places and times are given as
 * coordinate values (times also as ISO dates), never as indices.
 */
import { ConvertError } from "../errors.js";
import type { ArrayData } from "../model.js";
import { isoTime, nearestIndex, parseTimeUnits, rangeIndices, timeValue, type TimeUnits } from "./coords.js";
import type { Attrs, QueryArray, QueryDataset } from "./readers.js";

export type QueryKind = "point" | "map" | "box";
export const QUERY_KINDS: readonly QueryKind[] = ["point", "map", "box"];

export interface QuerySpec {
  kind: QueryKind;
  /** Variable path ("/T2M"); default: the first variable (by name) with latitude and longitude dimensions. */
  variable?: string;
  /** point: where (default: the middle of the grid). */
  lat?: number;
  lon?: number;
  /** map: which time step (nearest; default the first). */
  time?: number | string;
  /** box: the region and window (default: the middle quarter of the grid, the first 10 days' steps). */
  latRange?: [number, number];
  lonRange?: [number, number];
  timeRange?: [number | string, number | string];
}

type Role = "time" | "lat" | "lon" | "other";

function roleOf(dim: string, attrs: Attrs): Role {
  const units = String(attrs["units"] ?? ""), std = String(attrs["standard_name"] ?? ""), axis = String(attrs["axis"] ?? "");
  if (std === "latitude" || /^degrees?_?n(orth)?$/i.test(units) || axis === "Y" || /^lat(itude)?$/i.test(dim)) return "lat";
  if (std === "longitude" || /^degrees?_?e(ast)?$/i.test(units) || axis === "X" || /^lon(gitude)?$/i.test(dim)) return "lon";
  if (std === "time" || / since /.test(units) || axis === "T" || /^time$/i.test(dim)) return "time";
  return "other";
}

export interface ResolvedQuery {
  spec: QuerySpec;
  array: QueryArray;
  start: number[];
  count: number[];
  /** The chosen coordinate values along each selected axis (by dimension name). */
  coords: Record<string, number[]>;
  time?: { dim: string; units?: TimeUnits };
  /** A human description: "point T2M at lat 40.5, lon -74 (nearest 40.5, -74.375), 1416 steps". */
  describe: string;
}

export interface QueryResult {
  query: ResolvedQuery;
  values: ArrayData;
  /** The selection's shape, in the variable's dimension order. */
  shape: number[];
}

/**
 * A 1-D coordinate variable: its attributes (from the metadata) and its values as numbers, read
 * in the background; undefined when the dimension has none.
 */
async function coordinate(ds: QueryDataset, dim: string): Promise<{ values: Promise<number[]>; attrs: Attrs } | undefined> {
  if (!ds.variables().some((v) => v.path === `/${dim}` && v.dims.length === 1 && v.dims[0] === dim)) return undefined;
  const a = await ds.array(`/${dim}`);
  const values = a.read([0], [a.shape[0]!]).then((data) => Array.from(data as ArrayLike<number | bigint>, Number));
  values.catch(() => {}); // awaited by whoever needs them; an axis that does not must not leave it unhandled
  return { values, attrs: a.attrs };
}

export function defaultVariable(ds: QueryDataset): string {
  const looks = (d: string) => /^(lat|latitude|lon|longitude|y|x)$/i.test(d);
  // Sorted, so both formats pick the same one whatever order their metadata lists variables in.
  const v = [...ds.variables()].sort((a, b) => a.path.localeCompare(b.path)).find((x) => x.dims.length >= 2 && x.dims.filter(looks).length >= 2 && !x.dims.includes(x.path.slice(1)));
  if (!v) throw new ConvertError("Usage", "no variable with latitude and longitude dimensions; name one with --variable", ds.label);
  return v.path;
}

/** Turns coordinate values into an index region of the variable. */
export async function resolveQuery(ds: QueryDataset, spec: QuerySpec): Promise<ResolvedQuery> {
  const { query, rest } = await planQuery(ds, spec);
  await rest;
  return query;
}

/**
 * The region, from the coordinates the selection needs; `rest` completes `coords` with the others
 * (a point query's times, a map's latitudes and longitudes), read meanwhile — so on object storage
 * the data's requests need not wait for coordinates that do not choose them.
 */
async function planQuery(ds: QueryDataset, spec: QuerySpec): Promise<{ query: ResolvedQuery; rest: Promise<unknown> }> {
  const path = spec.variable ? (spec.variable.startsWith("/") ? spec.variable : `/${spec.variable}`) : defaultVariable(ds);
  const array = await ds.array(path);
  const start = array.shape.map(() => 0), count = array.shape.slice();
  const coords: Record<string, number[]> = {};
  const parts: string[] = [];
  let time: ResolvedQuery["time"];
  // All coordinates at once: one round trip on object storage, not one per dimension.
  const coordinates = await Promise.all(array.dims.map((dim) => coordinate(ds, dim)));
  const later: Promise<void>[] = [];
  for (const [axis, dim] of array.dims.entries()) {
    const c = coordinates[axis];
    const role = roleOf(dim, c?.attrs ?? {});
    const length = array.shape[axis]!;
    const valuesOf = async () => (c ? c.values : Array.from({ length }, (_, i) => i));
    // A point takes every time step and a map every latitude and longitude: those need no values to choose.
    const whole = (role === "time" && spec.kind === "point") || ((role === "lat" || role === "lon") && spec.kind === "map");
    const values = whole ? [] : await valuesOf();
    const pick = (i: number, n: number) => {
      start[axis] = i;
      count[axis] = n;
      coords[dim] = values.slice(i, i + n);
    };
    if (role === "time") {
      const units = parseTimeUnits(c?.attrs["units"] as string | undefined, (c?.attrs["calendar"] as string | undefined) ?? "standard");
      time = { dim, ...(units && { units }) };
      const show = (v: number) => (units ? isoTime(v, units) : String(v));
      if (spec.kind === "map") {
        const i = spec.time === undefined ? 0 : nearestIndex(values, timeValue(spec.time, units, "--time"));
        pick(i, 1);
        parts.push(`${dim} ${show(values[i]!)}`);
      } else if (spec.kind === "box") {
        const [t0, t1] = spec.timeRange ?? [values[0]!, values[Math.min(values.length - 1, 239)]!];
        const [i, n] = rangeIndices(values, timeValue(t0, units, "--time-range"), timeValue(t1, units, "--time-range"));
        pick(i, n);
        parts.push(n ? `${dim} ${show(values[i]!)} to ${show(values[i + n - 1]!)}` : `no ${dim} in range`);
      } else {
        // Every step, chosen without the values: they are read alongside the data.
        later.push(valuesOf().then((v) => void (coords[dim] = v)));
        parts.push(`${length} ${dim} steps`);
      }
    } else if (role === "lat" || role === "lon") {
      const want = role === "lat" ? spec.lat : spec.lon;
      const range = role === "lat" ? spec.latRange : spec.lonRange;
      if (spec.kind === "point") {
        const mid = (values[0]! + values[values.length - 1]!) / 2;
        const i = nearestIndex(values, want ?? mid);
        pick(i, 1);
        parts.push(`${dim} ${values[i]}${want !== undefined && want !== values[i] ? ` (nearest to ${want})` : ""}`);
      } else if (spec.kind === "box") {
        const q = Math.floor(values.length / 4);
        const [lo, hi] = range ?? [values[q]!, values[values.length - 1 - q]!];
        const [i, n] = rangeIndices(values, lo, hi);
        pick(i, n);
        parts.push(`${dim} ${lo}..${hi} (${n})`);
      } else parts.push(`all ${length} ${dim}`);
    } else if (spec.kind === "point" || spec.kind === "map") {
      // Another axis (a level, say): its first element, as xarray's isel(dim=0) would.
      if (spec.kind === "point" && array.dims.length > 3) pick(0, 1);
    }
  }
  if (count.some((n) => n === 0)) throw new ConvertError("Usage", `the ${spec.kind} query selects nothing (${parts.join(", ")})`, ds.label);
  const query = { spec, array, start, count, coords, ...(time && { time }), describe: `${spec.kind} ${path.slice(1)}: ${parts.join(", ")}` };
  return { query, rest: Promise.all(later) };
}

export async function runQuery(ds: QueryDataset, spec: QuerySpec): Promise<QueryResult> {
  const { query, rest } = await planQuery(ds, spec);
  const [values] = await Promise.all([query.array.read(query.start, query.count), rest]);
  return { query, values, shape: query.count };
}

/** Bytes the query decodes at least: every chunk (cell) it touches, whole; contiguous axes only the selection. */
export function decodedBytes(cells: readonly (number[] | null)[], start: readonly number[], count: readonly number[], itemSize: number): number {
  let total = itemSize;
  for (const [axis, lengths] of cells.entries()) {
    const lo = start[axis]!, hi = lo + count[axis]!;
    if (!lengths) {
      total *= count[axis]!;
      continue;
    }
    let covered = 0;
    for (let s = 0, i = 0; i < lengths.length; s += lengths[i]!, i++) if (s < hi && s + lengths[i]! > lo) covered += lengths[i]!;
    total *= covered;
  }
  return count.some((n) => n === 0) ? 0 : total;
}

/** The raw values of two results are identical, byte for byte; else the first differing index. */
export function firstDifference(a: ArrayData, b: ArrayData): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  if (Array.isArray(a) || Array.isArray(b)) return (a as unknown[]).findIndex((x, i) => x !== (b as unknown[])[i]);
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength), y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (x.equals(y)) return -1;
  const es = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return Math.floor(i / es);
  return -1;
}

/** A number from an attribute as either format stores it (v3 float fill values are base64 float64s). */
function attrNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string") {
    if (/^(NaN|Infinity|-Infinity)$/.test(v)) return Number(v);
    const b = Buffer.from(v, "base64");
    if (b.length === 8 && /^[A-Za-z0-9+/]{11}=$/.test(v)) return b.readDoubleLE(0);
  }
  return undefined;
}

/**
 * CF decoding as xarray does it by default: _Unsigned, _FillValue / missing_value → NaN, then
 * scale_factor and add_offset. Returns float64 values.
 */
export function decodeCF(values: ArrayData, attrs: Attrs): Float64Array {
  if (Array.isArray(values)) throw new ConvertError("Unsupported", "text values have no CF decoding");
  let raw: ArrayLike<number | bigint> = values as ArrayLike<number | bigint>;
  const unsigned = String(attrs["_Unsigned"] ?? "").toLowerCase() === "true";
  if (unsigned && values instanceof Int8Array) raw = new Uint8Array(values.buffer, values.byteOffset, values.length);
  if (unsigned && values instanceof Int16Array) raw = new Uint16Array(values.buffer, values.byteOffset, values.length);
  if (unsigned && values instanceof Int32Array) raw = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const fills = [attrs["_FillValue"], attrs["missing_value"]].flat().map(attrNumber).filter((x): x is number => x !== undefined);
  const scale = attrNumber(attrs["scale_factor"]) ?? 1, offset = attrNumber(attrs["add_offset"]) ?? 0;
  const out = new Float64Array(raw.length);
  const isFloat = values instanceof Float32Array || values instanceof Float64Array;
  for (let i = 0; i < raw.length; i++) {
    let x = Number(raw[i]!);
    // float32 data compare against the float32 fill value, as netCDF4-python does
    if (fills.some((f) => (isFloat && values instanceof Float32Array ? Math.fround(f) === x : f === x) || (Number.isNaN(f) && Number.isNaN(x)))) x = NaN;
    out[i] = x * scale + offset;
  }
  return out;
}
