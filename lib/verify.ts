/**
 * Compares a Zarr store with its NetCDF source(s): every array, dimension, attribute and value.
 * Values are read back through zarrita — an independent decoder — and compared bit for bit
 * (so NaN payloads and packed integers must match exactly). Stops at the first difference.
 */
import "./zarr/read-codecs.js";
import * as zarr from "zarrita";
import { openCollection } from "./collection.js";
import { ConvertError } from "./errors.js";
import { allocate, byteShape, elementSize, product, walkGroups, walkVariables, type ArrayData, type Attribute, type Variable } from "./model.js";
import { cartesian, chunkIndices, copyOut } from "./source/region.js";
import type { Store } from "./store/types.js";
import { openStore } from "./store/open.js";
import { expandInputs } from "./io/inputs.js";
import { readStoreContents, recordChunk, zarritaView, zarritaData, type StoreContents } from "./store/read.js";
import { looksLikeTimeUnits } from "./cf/time.js";
import type { TimeTarget } from "./recode.js";
import { attrToJson, JsonFloat } from "./zarr/attrs.js";
import { chunkKey, storedDType, v3FillDropped } from "./zarr/encoding.js";
import { storePath } from "./zarr/layout.js";

export interface VerifyOptions {
  concatDim?: string;
  /** Variables that were converted (as given to convert); their coordinates are included. */
  variables?: string[];
}

export interface VerifyReport {
  store: string;
  zarrFormat: 2 | 3;
  arrays: number;
  values: number;
  attributes: number;
  /** Source variables absent from the store because their type is unsupported. */
  skipped: string[];
}

const SLAB_BYTES = 32 * 1024 * 1024;

function differ(store: string, what: string): never {
  throw new ConvertError("VerifyFailed", what, store);
}

/** Decodes a store attribute back to a number/string for comparison with the source's. */
function sameAttr(src: Attribute, stored: unknown): boolean {
  const want = typeof src.value === "string" ? [src.value] : (src.value as unknown[]);
  const got = Array.isArray(stored) ? stored : [stored];
  if (src.type === "string" && typeof stored === "string") return want.length === 1 && want[0] === stored;
  if (want.length !== got.length) return false;
  return want.every((w, i) => {
    const g = got[i];
    if (typeof w === "string") return w === g;
    if (typeof w === "bigint") return (typeof g === "bigint" || typeof g === "number") && BigInt(g) === w;
    if (typeof g === "string") return false; // a number must not come back as text (e.g. "NaN")
    const gn = Number(g as number);
    if (Number.isNaN(w as number)) return Number.isNaN(gn);
    return (src.type === "float32" ? Math.fround(gn) : gn) === w;
  });
}

function decodeFillAttr(v: Variable, stored: unknown): unknown {
  if (typeof stored === "string" && (v.dtype === "float32" || v.dtype === "float64")) {
    const b = Buffer.from(stored, "base64");
    if (b.length === 8) return b.readDoubleLE(0);
  }
  return stored;
}

/** Each stored time variable's units and type, by variable path: what a collection re-expresses times in. */
export function storedTimeTargets(contents: Pick<StoreContents, "format" | "nodes">): Record<string, TimeTarget> {
  const out: Record<string, TimeTarget> = {};
  for (const [key, node] of contents.nodes) {
    const units = node.attrs["units"];
    if (node.kind !== "array" || typeof units !== "string" || !looksLikeTimeUnits(units)) continue;
    const dtype = storedDType(contents.format, node.meta);
    out[`/${key}`] = { units, ...(dtype && { dtype }) };
    // Its bounds (CF: in its units) keep their own stored type.
    const bounds = node.attrs["bounds"];
    const dir = key.includes("/") ? key.slice(0, key.lastIndexOf("/") + 1) : "";
    const b = typeof bounds === "string" ? contents.nodes.get(`${dir}${bounds}`) : undefined;
    const bdtype = b && storedDType(contents.format, b.meta);
    if (b && b.attrs["units"] === undefined) out[`/${dir}${bounds}`] = { units, ...(bdtype && { dtype: bdtype }) };
  }
  return out;
}

/**
 * The stored float arrays without packing attributes: where a packed source variable is found among
 * them, the store holds it unpacked (`--unpack`), and it is read back that way.
 */
export function storedUnpacked(contents: Pick<StoreContents, "format" | "nodes">): string[] {
  return [...contents.nodes].filter(([, n]) => n.kind === "array" && /^float(32|64)$/.test(storedDType(contents.format, n.meta) ?? "")
    && !("scale_factor" in n.attrs) && !("add_offset" in n.attrs)).map(([k]) => `/${k}`);
}

/** A text _FillValue carried by the v3 array's fill_value only: base64 of the char byte, or the string. */
function checkTextFill(store: string, v: Variable, src: Attribute, stored: unknown): void {
  const want = typeof src.value === "string" ? src.value : String(src.value[0] ?? "");
  const got = v.dtype === "char" && typeof stored === "string" ? Buffer.from(stored, "base64").toString("latin1").replace(/\0/g, "") : stored;
  const expected = v.dtype === "char" ? want.slice(0, 1) : want;
  if (got !== expected) differ(store, `variable ${v.path}: fill_value ${fmt(stored)} in the store, _FillValue ${fmt(want)} in the source`);
}

function checkAttrs(store: string, where: string, src: readonly Attribute[], stored: Record<string, unknown>, ignore: Set<string>): number {
  let n = 0;
  for (const a of src) {
    if (ignore.has(a.name)) continue;
    if (!(a.name in stored)) differ(store, `${where}: attribute ${a.name} is missing from the store`);
    if (!sameAttr(a, stored[a.name])) {
      differ(store, `${where}: attribute ${a.name} differs: source ${fmt(attrToJson(a.type, a.value))}, store ${fmt(stored[a.name])}`);
    }
    n++;
  }
  for (const k of Object.keys(stored)) {
    if (!ignore.has(k) && !src.some((a) => a.name === k)) differ(store, `${where}: store has extra attribute ${k}`);
  }
  return n;
}

const fmt = (v: unknown) => JSON.stringify(v, (_k, x: unknown) =>
  typeof x === "bigint" ? `${x}` : typeof x === "number" && !Number.isFinite(x) ? String(x) : x instanceof JsonFloat ? x.value : x);

function bytesOf(a: ArrayData): Uint8Array {
  return new Uint8Array((a as Uint8Array).buffer, (a as Uint8Array).byteOffset, (a as Uint8Array).byteLength);
}

/** What zarrita returned, as our ArrayData. */
function fromZarrita(raw: unknown, n: number, dtype: Variable["dtype"]): ArrayData {
  const data = zarritaData(raw);
  if (Array.isArray(data)) return data.map((s) => (s == null ? "" : String(s)));
  if (ArrayBuffer.isView(data)) return data as unknown as ArrayData;
  const out = allocate(dtype, n) as unknown as unknown[];
  out[0] = data; // a scalar from a 0-d array
  return out as unknown as ArrayData;
}

function firstDifference(a: ArrayData, b: ArrayData, es: number): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  if (Array.isArray(a) || Array.isArray(b)) {
    for (let i = 0; i < a.length; i++) if ((a as unknown[])[i] !== (b as unknown[])[i]) return i;
    return -1;
  }
  const x = bytesOf(a), y = bytesOf(b);
  if (Buffer.compare(x, y) === 0) return -1;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return Math.floor(i / es);
  return -1;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = i % shape[a]!;
    i = Math.floor(i / shape[a]!);
  }
  return idx;
}

export async function verify(inputs: string[], storeUrl: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const store = openStore(storeUrl);
  const contents = await readStoreContents(store);
  // Times are compared in the units the store holds them in (re-expressed from per-file units).
  const collection = await openCollection(await expandInputs(inputs), {
    ...(opts.concatDim && { concatDim: opts.concatDim }), timeTargets: storedTimeTargets(contents), unpack: storedUnpacked(contents),
  });
  try {
    const ds = collection.dataset;
    const fmtN = contents.format;
    const report: VerifyReport = { store: storeUrl, zarrFormat: fmtN, arrays: 0, values: 0, attributes: 0, skipped: [] };
    report.attributes += checkAttrs(storeUrl, "root group", ds.root.attrs, contents.rootAttrs, new Set());
    for (const g of walkGroups(ds.root)) {
      if (g.path === "/") continue;
      const node = contents.nodes.get(storePath(g.path));
      if (!node || node.kind !== "group") differ(storeUrl, `group ${g.path} is missing from the store`);
      report.attributes += checkAttrs(storeUrl, `group ${g.path}`, g.attrs, node.attrs, new Set());
    }
    const all = [...walkVariables(ds.root)];
    const wanted = opts.variables?.length ? all.filter((v) => contents.nodes.has(storePath(v.path))) : all;
    const root = zarr.root(zarritaView(store));
    for (const v of wanted) {
      const key = storePath(v.path);
      const node = contents.nodes.get(key);
      if (v.unsupported && !node) {
        report.skipped.push(v.path);
        continue;
      }
      if (!node || node.kind !== "array") differ(storeUrl, `variable ${v.path} is missing from the store`);
      const { shape, dims } = v;
      const storedShape = node.meta["shape"] as number[];
      if (fmt(storedShape) !== fmt(shape)) differ(storeUrl, `variable ${v.path}: shape ${fmt(storedShape)} in the store, ${fmt(shape)} in the source`);
      const storedDims = fmtN === 2 ? node.attrs["_ARRAY_DIMENSIONS"] : node.meta["dimension_names"];
      if (fmt(storedDims) !== fmt(dims)) differ(storeUrl, `variable ${v.path}: dimensions ${fmt(storedDims)} in the store, (${dims.join(", ")}) in the source`);
      // _FillValue: v2 keeps it as fill_value (strings: as an attribute); v3 as an attribute.
      const stored = { ...node.attrs };
      if (fmtN === 2) delete stored["_ARRAY_DIMENSIONS"];
      const srcFill = v.attrs.find((a) => a.name === "_FillValue");
      if (v.dtype === "compound") {
        // The fill record is the array's fill_value only (never an attribute: xarray fails on one).
        if ("_FillValue" in stored) differ(storeUrl, `variable ${v.path}: _FillValue is stored as an attribute of a structured array`);
        const want = srcFill ? Buffer.from(srcFill.value as number[]).toString("base64") : fmtN === 2 ? null : Buffer.alloc(elementSize(v)).toString("base64");
        if (node.meta["fill_value"] !== want) differ(storeUrl, `variable ${v.path}: fill_value ${fmt(node.meta["fill_value"])} in the store, ${srcFill ? "_FillValue" : "fill"} ${fmt(want)} (packed record, base64) from the source`);
        report.attributes += checkAttrs(storeUrl, `variable ${v.path}`, v.attrs, stored, new Set(["_FillValue"]));
        const loc = root.resolve(key);
        const arr = fmtN === 2 ? await zarr.open.v2(loc, { kind: "array" }) : await zarr.open.v3(loc, { kind: "array" });
        report.values += await compareRecords(storeUrl, store, collection.read, v, arr, node.meta, key, fmtN);
        report.arrays++;
        continue;
      }
      if (fmtN === 2 && srcFill && !("_FillValue" in stored)) {
        let fv = node.meta["fill_value"];
        if (v.dtype === "char" && typeof fv === "string") fv = Buffer.from(fv, "base64").toString("latin1");
        // the spec's "NaN", "Infinity", "-Infinity" for floats
        if ((v.dtype === "float32" || v.dtype === "float64") && typeof fv === "string") fv = Number(fv);
        stored["_FillValue"] = fv;
      }
      if (fmtN === 3 && "_FillValue" in stored) stored["_FillValue"] = decodeFillAttr(v, stored["_FillValue"]);
      if (srcFill && srcFill.type === "char" && typeof stored["_FillValue"] === "string") {
        stored["_FillValue"] = String(stored["_FillValue"]).replace(/\0/g, "");
      }
      // v3 leaves out a _FillValue xarray cannot decode there; a text fill must then be the fill_value.
      const dropped = fmtN === 3 ? v3FillDropped(v) : undefined;
      if (dropped && "_FillValue" in stored) differ(storeUrl, `variable ${v.path}: _FillValue is stored as an attribute (${dropped})`);
      if (dropped && (v.dtype === "char" || v.dtype === "string")) checkTextFill(storeUrl, v, srcFill!, node.meta["fill_value"]);
      report.attributes += checkAttrs(storeUrl, `variable ${v.path}`, v.attrs, stored, new Set(dropped ? ["_FillValue"] : []));

      const loc = root.resolve(key);
      const arr = fmtN === 2 ? await zarr.open.v2(loc, { kind: "array" }) : await zarr.open.v3(loc, { kind: "array" });
      report.values += await compareValues(storeUrl, collection.read, v, arr, shape);
      report.arrays++;
    }
    for (const [k, node] of contents.nodes) {
      if (node.kind === "array" && !wanted.some((v) => storePath(v.path) === k)) differ(storeUrl, `store has array ${k} that the source does not`);
    }
    return report;
  } finally {
    collection.close();
  }
}

/**
 * A compound array: every chunk's records, as zarrita decodes them through zarritaView (the chunk's
 * bytes shown as uint8 with a last axis of record bytes), byte for byte against the source's packed
 * records; a chunk absent from the store must be all fill records. Throws VerifyFailed at the first
 * record that differs.
 */
async function compareRecords(
  storeUrl: string, store: Store, read: (p: string, s: readonly number[], c: readonly number[]) => ArrayData, v: Variable,
  arr: zarr.Array<zarr.DataType, zarr.Readable>, meta: Record<string, unknown>, key: string, format: 2 | 3,
): Promise<number> {
  const shape = v.shape, size = elementSize(v);
  if (product(shape) === 0) return 0;
  const chunks = format === 2 ? (meta["chunks"] as number[]) : (meta["chunk_grid"] as { configuration: { chunk_shape: number[] } }).configuration.chunk_shape;
  const fill = Buffer.from(String(meta["fill_value"] ?? ""), "base64");
  let compared = 0;
  for (const coords of cartesian(chunkIndices(shape.map(() => 0), shape, chunks))) {
    const start = coords.map((c, i) => c * chunks[i]!), valid = start.map((s, i) => Math.min(chunks[i]!, shape[i]! - s));
    const n = product(valid);
    const want = read(v.path, start, valid) as Uint8Array;
    const stored = chunkKey({ format, key }, coords);
    const got = new Uint8Array(n * size);
    const chunk = await recordChunk(store, arr, stored, coords);
    if (chunk) {
      const zeros = [...valid.map(() => 0), 0];
      copyOut(got, byteShape(v, valid), zeros, chunk, byteShape(v, chunks), zeros, byteShape(v, valid));
    } else {
      if (fill.length !== size) differ(storeUrl, `variable ${v.path}: chunk ${stored} is absent and there is no fill record`);
      for (let i = 0; i < n; i++) got.set(fill, i * size);
    }
    const at = firstDifference(want, got, size);
    if (at >= 0) {
      const idx = unravel(at, valid).map((x, i) => x + start[i]!);
      const hex = (b: Uint8Array) => Buffer.from(b.subarray(at * size, (at + 1) * size)).toString("hex");
      differ(storeUrl, `variable ${v.path}: record differs at [${idx.join(", ")}]: source ${hex(want)}, store ${hex(got)} (packed little-endian)`);
    }
    compared += n;
  }
  return compared;
}

/** Compares one array's values with its source, slab by slab; throws VerifyFailed at the first difference. */
export async function compareValues(
  storeUrl: string,
  read: (p: string, s: readonly number[], c: readonly number[]) => ArrayData,
  v: Variable,
  arr: zarr.Array<zarr.DataType, zarr.Readable>,
  shape: number[],
): Promise<number> {
  if (product(shape) === 0) return 0;
  const es = elementSize(v);
  const rowBytes = product(shape.slice(1)) * es;
  const rows = shape.length === 0 ? 1 : Math.max(1, Math.floor(SLAB_BYTES / Math.max(1, rowBytes)));
  let compared = 0;
  for (let r0 = 0; r0 < (shape[0] ?? 1); r0 += rows) {
    const r1 = Math.min(shape[0] ?? 1, r0 + rows);
    const start = shape.map((_, i) => (i === 0 ? r0 : 0));
    const count = shape.map((n, i) => (i === 0 ? r1 - r0 : n));
    const want = read(v.path, start, count);
    // zarrita's get() returns a mangled scalar for 0-d arrays; their single chunk is the value.
    const got = shape.length === 0
      ? await arr.getChunk([])
      : await zarr.get(arr, [zarr.slice(r0, r1), ...shape.slice(1).map(() => null)]);
    const n = product(count);
    const gotData = fromZarrita(got && typeof got === "object" && "data" in got ? (got as { data: unknown }).data : got, n, v.dtype);
    const at = firstDifference(want, gotData, es);
    if (at >= 0) {
      const idx = unravel(at, count).map((x, i) => (i === 0 ? x + r0 : x));
      const show = (d: ArrayData) => fmt(Array.isArray(d) ? d[at] : (d as unknown as ArrayLike<unknown>)[at]);
      differ(storeUrl, `variable ${v.path}: value differs at [${idx.join(", ")}]: source ${show(want)}, store ${show(gotData)}`);
    }
    compared += n;
  }
  return compared;
}
