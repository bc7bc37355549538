/**
 * NetCDF-4 / HDF5 reader on h5wasm's ESM build, with the throwing error handler on (without it, a
 * missing filter yields garbage, not an error) and the h5wasm-plugins compression filters registered,
 * so every filter h5wasm can decode is readable. HDF5 reads each file through a ByteSource: a node
 * in the wasm's in-memory file system whose reads call back into JS (FIELD-NOTES §1.6), so a local
 * file and an object on S3 are opened the same way. (The Node build's raw host file system has no
 * such nodes; the ESM build measured as fast on local files.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { ConvertError, oneLine } from "../errors.js";
import type { ByteSource } from "../io/byte-source.js";
import {
  allocate, allocateFor, findVariable, itemSize, walkVariables, type ArrayData, type Attribute, type AttrValue, type CompoundType, type Dataset, type Dimension, type DType,
  type FieldType, type Group, type Variable,
} from "../model.js";
import { readChunkIndex, readRawBytes, type ChunkIndex } from "./hdf5-chunks.js";
import { readChunkPlanes, readDirect, type ChunkPlanes } from "./hdf5-direct.js";
import { validateRegion } from "./region.js";
import type { SourceFile } from "./types.js";

type H5 = typeof import("h5wasm");
type H5Group = import("h5wasm").Group;
type H5Dataset = import("h5wasm").Dataset;
type H5Attribute = import("h5wasm").Attribute;
type H5Metadata = import("h5wasm").Metadata;

let h5Promise: Promise<H5> | undefined;
let h5Module: H5Module | undefined;
let h5Loaded: H5 | undefined;

/** Where lazy files and plugins live inside the wasm's in-memory file system. */
const FILES_DIR = "/convert-to-zarr-files";
const PLUGINS_DIR = "/convert-to-zarr-plugins";

/** Loads h5wasm once per process (or worker), lazily, so the CLI starts fast. */
export function loadH5wasm(): Promise<H5> {
  h5Promise ??= (async () => {
    const h5 = (await import("h5wasm")).default as unknown as H5;
    const Module = (await h5.ready) as unknown as H5Module;
    h5Module = Module;
    Module.activate_throwing_error_handler();
    // h5wasm-plugins' installer fetch()es file:// URLs, which Node's fetch refuses: copy the filter
    // libraries into the in-memory file system ourselves.
    const plugins = join(dirname(createRequire(import.meta.url).resolve("h5wasm-plugins/package.json")), "plugins");
    Module.FS.mkdirTree(PLUGINS_DIR);
    for (const name of readdirSync(plugins).filter((n) => n.endsWith(".so"))) {
      Module.FS.writeFile(`${PLUGINS_DIR}/${name}`, readFileSync(join(plugins, name)));
    }
    Module.insert_plugin_search_path(PLUGINS_DIR, 0);
    Module.FS.mkdirTree(FILES_DIR);
    h5Loaded = h5;
    return h5;
  })();
  return h5Promise;
}

let lazyFiles = 0;

/** A file in the wasm's file system whose reads are served by `src`; returns its path there. */
function mountByteSource(src: ByteSource): string {
  const FS = h5Module!.FS;
  const name = `f${++lazyFiles}`;
  const node = FS.createFile(FILES_DIR, name, {}, true, false) as LazyNode;
  node.contents = null;
  Object.defineProperty(node, "usedBytes", { get: () => src.size }); // MEMFS stat and llseek use it
  node.stream_ops = {
    ...node.stream_ops,
    read: (_stream: unknown, out: Uint8Array, offset: number, length: number, position: number) => src.readInto(position, length, out, offset),
  };
  return `${FILES_DIR}/${name}`;
}

interface LazyNode {
  contents: unknown;
  stream_ops: Record<string, unknown>;
}

/**
 * Attributes netCDF-C and HDF5 dimension scales use internally; not user metadata. netCDF-C (4.9.0
 * and 4.9.3) hides these names in NetCDF-4 files whoever wrote them; the NCZarr pair differs
 * between its versions and is NCZarr's own, so it is hidden too.
 */
const INTERNAL_ATTRS = new Set([
  "CLASS", "NAME", "REFERENCE_LIST", "DIMENSION_LIST", "_Netcdf4Dimid", "_Netcdf4Coordinates",
  "_NCProperties", "_nc3_strict", "_SuperblockVersion", "_IsNetcdf4", "_Format", "_Codecs",
  "_ARRAY_DIMENSIONS", "_NCZARR_ATTR", "_nczarr_attr",
]);
const NC_DIM_WITHOUT_VAR = "This is a netCDF dimension but not a netCDF variable.";

function integerType(m: H5Metadata): DType | { unsupported: string } {
  const bits = m.size * 8;
  if (![8, 16, 32, 64].includes(bits)) return { unsupported: `${bits}-bit integer type` };
  return `${m.signed ? "int" : "uint"}${bits}` as DType;
}

/** Maps an HDF5 type to ours, or explains why it has no faithful Zarr equivalent. */
function dtypeOf(m: H5Metadata): DType | { unsupported: string } {
  switch (m.type) {
    case 0: // H5T_INTEGER
      return integerType(m);
    case 1: // H5T_FLOAT
      if (m.size === 4) return "float32";
      if (m.size === 8) return "float64";
      return { unsupported: `${m.size * 8}-bit float type` };
    case 3: // H5T_STRING
      if (m.vlen) return "string";
      if (m.size === 1) return "char";
      return { unsupported: `fixed-length string type of ${m.size} bytes` };
    case 6: {
      const c = compoundOf(m);
      return c.type ? "compound" : { unsupported: c.unsupported! };
    }
    // netCDF-4 enums have an integer base; values are stored as that integer type.
    case 8: return m.enum_type?.type === 0 ? integerType(m) : { unsupported: "enum type with a non-integer base" };
    case 9: return { unsupported: "variable-length (non-string) type" };
    case 5: return { unsupported: "opaque type" };
    case 10: return { unsupported: "array type" };
    case 7: return { unsupported: "reference type" };
    default: return { unsupported: `HDF5 type class ${m.type}` };
  }
}

/**
 * A compound type we can store as Zarr's `structured` type: numeric scalar fields only. Array
 * members (`char tag(4)`), strings, nested compounds, enums and vlens have no form zarr-python and
 * xarray read back as the source's dtype, so they are refused by name.
 */
function compoundOf(m: H5Metadata): { type?: CompoundType; unsupported?: string } {
  const members = m.compound_type?.members ?? [];
  const fields: CompoundType["fields"] = [];
  for (const f of members) {
    const kind = f.type === 10 ? "an array" : f.type === 3 ? "a string" : f.type === 6 ? "a compound" : f.type === 8 ? "an enum"
      : f.type === 9 ? "a variable-length" : f.type === 0 || f.type === 1 ? undefined : "an unsupported";
    const t = kind ? undefined : dtypeOf(f as H5Metadata);
    if (kind || typeof t !== "string" || (f.shape?.length ?? 0) > 0) {
      return { unsupported: `compound type with ${kind ?? "an unsupported"} member ${f.name}` };
    }
    fields.push({ name: f.name, type: t as FieldType });
  }
  if (!fields.length) return { unsupported: "compound type without members" };
  return {
    type: {
      fields, size: fields.reduce((a, f) => a + itemSize(f.type), 0),
      // h5wasm reads with the file type set to little-endian order, which HDF5 applies to every
      // member when the whole type is big-endian; a mixed-order type is read as stored.
      file: {
        size: m.size, offsets: members.map((f) => f.offset),
        littleEndian: members.every((f) => !f.littleEndian || f.size === 1) ? members.map(() => true) : members.map((f) => f.littleEndian),
      },
    },
  };
}

/** Records in the file's layout (aligned, either byte order) → packed little-endian records. */
export function packRecords(t: CompoundType, file: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n * t.size);
  const sizes = t.fields.map((f) => itemSize(f.type));
  for (let r = 0; r < n; r++) {
    let o = r * t.size;
    const base = r * t.file.size;
    for (let k = 0; k < sizes.length; k++) {
      const w = sizes[k]!, src = base + t.file.offsets[k]!;
      if (t.file.littleEndian[k] || w === 1) out.set(file.subarray(src, src + w), o);
      else for (let b = 0; b < w; b++) out[o + b] = file[src + w - 1 - b]!;
      o += w;
    }
  }
  return out;
}

/** One record given as field values (h5wasm's decoding of a compound attribute) → its packed bytes. */
function packValues(t: CompoundType, values: readonly unknown[]): Uint8Array {
  const b = Buffer.alloc(t.size);
  let o = 0;
  t.fields.forEach((f, k) => {
    const x = values[k] as number | bigint;
    switch (f.type) {
      case "int8": b.writeInt8(Number(x), o); break;
      case "uint8": b.writeUInt8(Number(x), o); break;
      case "int16": b.writeInt16LE(Number(x), o); break;
      case "uint16": b.writeUInt16LE(Number(x), o); break;
      case "int32": b.writeInt32LE(Number(x), o); break;
      case "uint32": b.writeUInt32LE(Number(x), o); break;
      case "int64": b.writeBigInt64LE(BigInt(x), o); break;
      case "uint64": b.writeBigUInt64LE(BigInt(x), o); break;
      case "float32": b.writeFloatLE(Number(x), o); break;
      case "float64": b.writeDoubleLE(Number(x), o); break;
    }
    o += itemSize(f.type);
  });
  return new Uint8Array(b);
}

function attrValue(a: H5Attribute, dtype: DType): AttrValue {
  const v = a.value;
  if (dtype === "char") return (Array.isArray(v) ? v.join("") : String(v ?? "")).replace(/\0/g, "");
  if (dtype === "string") return Array.isArray(v) ? v.map(String) : [String(v ?? "")];
  if (typeof v === "bigint") return [v];
  if (typeof v === "number") return [v];
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return Array.from(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  throw new Error(`unexpected attribute value of type ${typeof v}`);
}

/**
 * `compound`: the variable's own compound type, whose `_FillValue` (a record of that type) is kept
 * as its packed bytes (type "compound"). Other compound-typed attributes are refused.
 */
function readAttrs(attrs: Record<string, H5Attribute>, problems: string[], compound?: { type: CompoundType; key: string }): Attribute[] {
  const out: Attribute[] = [];
  for (const [name, a] of Object.entries(attrs)) {
    if (INTERNAL_ATTRS.has(name)) continue;
    // NC_CHAR attributes are one fixed-length HDF5 string of any size: text.
    const m = a.metadata;
    if (compound && name === "_FillValue" && m.type === 6 && compoundKey(m) === compound.key) {
      const v = a.value as unknown;
      const record = Array.isArray(v) && Array.isArray(v[0]) ? v[0] : v;
      if (!Array.isArray(record) || record.length !== compound.type.fields.length) {
        problems.push(`attribute ${name} holding ${Array.isArray(v) ? v.length : 0} records, not one`);
        continue;
      }
      out.push({ name, type: "compound", value: Array.from(packValues(compound.type, record)) });
      continue;
    }
    const t = m.type === 3 && !m.vlen ? "char" : dtypeOf(m);
    if (typeof t !== "string" || t === "compound") {
      // (a compound attribute other than its variable's own fill record has no JSON form xarray reads back)
      problems.push(`${typeof t === "string" ? "compound type" : t.unsupported} in attribute ${name}`);
      continue;
    }
    let value: AttrValue;
    try {
      value = attrValue(a, t);
    } catch (e) {
      // HDF5 cannot convert a big-endian enum to native order (H5Tset_order refuses enums): netCDF-C
      // leaves such an attribute out, and so do we.
      if (m.type === 8 && !m.littleEndian) continue;
      problems.push(`attribute ${name} (HDF5 cannot read it: ${hdf5Reason(e)})`);
      continue;
    }
    out.push({ name, type: t, value });
  }
  return out;
}

function filterNames(ds: H5Dataset): string[] {
  return ds.filters.map((f) => {
    const name = f.name || `filter ${f.id}`;
    return f.id === 1 && f.cd_values.length ? `${name}(${f.cd_values[0]})` : name;
  });
}

// (attributes are passed in: h5wasm's `attrs` getter makes every attribute object anew on each use)
const isDimScale = (attrs: Record<string, H5Attribute>) => attrs["CLASS"]?.value === "DIMENSION_SCALE";
const isPureDim = (attrs: Record<string, H5Attribute>) =>
  isDimScale(attrs) && String(attrs["NAME"]?.value ?? "").startsWith(NC_DIM_WITHOUT_VAR);
const compoundKey = (m: H5Metadata) => JSON.stringify([m.size, m.compound_type?.members]);
const enumKey = (m: H5Metadata) => JSON.stringify([m.size, m.signed, m.enum_type?.members]);
const baseName = (p: string) => p.slice(p.lastIndexOf("/") + 1);
const hex = (b: ArrayLike<number>) => Buffer.from(Array.from(b)).toString("hex");
/** Marks a dimension named later by the address of its scale. */
const ADDRESS = "\0scale:";

/**
 * Per axis, the address of the first dimension scale attached (DIMENSION_LIST's object references),
 * marked with ADDRESS; undefined where none is attached.
 */
function attachedScales(attrs: Record<string, H5Attribute>, rank: number): (string | undefined)[] {
  const list = attrs["DIMENSION_LIST"]?.value as unknown;
  const out = new Array<string | undefined>(rank).fill(undefined);
  if (!Array.isArray(list)) return out;
  list.slice(0, rank).forEach((refs: unknown, i) => {
    const first = Array.isArray(refs) ? (refs[0] as { ref_data?: Uint8Array } | undefined) : undefined;
    if (first?.ref_data) out[i] = ADDRESS + hex(first.ref_data);
  });
  return out;
}

/** Builds our model of an HDF5 file, assigning dimension names the way netCDF-C does. */
function describe(h5: H5, file: H5Group, path: string): { dataset: Dataset; datasets: Map<string, H5Dataset> } {
  const datasets = new Map<string, H5Dataset>();
  let phonyCounter = 0;
  const namedEnums = new Map<string, string>();
  const enumVars: [Variable, string][] = [];
  const namedCompounds = new Map<string, string>();
  const compoundVars: [Variable, string][] = [];
  let sawNetcdf = false;
  /** Dimension scales by object address (hex), first path's name; variables to name dimensions of. */
  const scaleNames = new Map<string, string>();
  const withScales: [Variable, H5Dataset][] = [];

  const visit = (g: H5Group, gpath: string, name: string): Group => {
    const problems: string[] = [];
    const gAttrs = g.attrs;
    if (g === file && "_NCProperties" in gAttrs) sawNetcdf = true;
    const group: Group = { name, path: gpath, attrs: readAttrs(gAttrs, problems), dims: [], variables: [], groups: [] };
    if (problems.length) throw new ConvertError("Unsupported", `group ${gpath} has an unsupported ${problems[0]}`, path);
    // netCDF-C: phony dimensions are per group and per distinct size, reused across datasets.
    const phony: Dimension[] = [];
    for (const key of g.keys()) {
      const entity = g.get(key);
      const childPath = gpath === "/" ? `/${key}` : `${gpath}/${key}`;
      if (entity instanceof h5.Group) {
        group.groups.push(visit(entity, childPath, key));
        continue;
      }
      if (entity instanceof h5.Datatype) {
        if (entity.metadata.enum_type) namedEnums.set(enumKey(entity.metadata), childPath);
        if (entity.metadata.compound_type) namedCompounds.set(compoundKey(entity.metadata), childPath);
        continue;
      }
      if (!(entity instanceof h5.Dataset)) continue; // links to nothing hold no data
      const ds = entity;
      const shape = ds.shape ?? [];
      const attrs = ds.attrs, dimScale = isDimScale(attrs);
      if (dimScale) {
        sawNetcdf = true;
        const address = hex(h5Module!.create_object_reference(file.file_id, childPath));
        if (!scaleNames.has(address)) scaleNames.set(address, key);
        const max = ds.metadata.maxshape?.[0] ?? shape[0]!;
        group.dims.push({ name: key, size: shape[0] ?? 0, unlimited: max > Number.MAX_SAFE_INTEGER });
        if (isPureDim(attrs)) continue;
      }
      const varProblems: string[] = [];
      const t = dtypeOf(ds.metadata);
      const compound = t === "compound" ? { type: compoundOf(ds.metadata).type!, key: compoundKey(ds.metadata) } : undefined;
      const used = new Set<string>();
      const attached = attachedScales(attrs, shape.length);
      const dims = shape.map((size, i) => {
        if (attached[i]) return attached[i]!; // a dimension scale's address, named once all are seen
        if (i === 0 && dimScale) return key;
        let d = phony.find((p) => p.size === size && !used.has(p.name));
        if (!d) {
          d = { name: `phony_dim_${phonyCounter++}`, size, unlimited: false };
          phony.push(d);
        }
        used.add(d.name);
        return d.name;
      });
      const v: Variable = {
        name: key, path: childPath, dtype: typeof t === "string" ? t : "uint8", dims, shape,
        attrs: typeof t === "string" ? readAttrs(attrs, varProblems, compound) : [],
        sourceChunks: ds.metadata.chunks ?? null, filters: filterNames(ds),
        hdf5: { filters: ds.filters.map((f) => ({ id: f.id, cdValues: [...f.cd_values] })), littleEndian: ds.metadata.littleEndian },
      };
      if (ds.metadata.enum_type && typeof t === "string") {
        v.enum = { members: { ...ds.metadata.enum_type.members } };
        enumVars.push([v, enumKey(ds.metadata)]);
      }
      if (compound) {
        v.compound = compound.type;
        compoundVars.push([v, compound.key]);
      }
      if (typeof t !== "string") v.unsupported = t.unsupported;
      else if (varProblems.length) v.unsupported = varProblems[0];
      group.variables.push(v);
      datasets.set(childPath, ds);
      if (attached.some(Boolean)) withScales.push([v, ds]);
    }
    group.dims.push(...phony);
    return group;
  };
  const root = visit(file, "/", "");
  // Dimension names by the address each DIMENSION_LIST reference holds; h5wasm's get_attached_scales
  // names a scale with H5Iget_name, a search of the whole file per call (quadratic in the variables:
  // 4,000 variables took 90 s), so it is asked only for a scale we did not meet (outside this file's
  // groups).
  for (const [v, ds] of withScales) {
    v.dims = v.dims.map((d, i) => {
      if (!d.startsWith(ADDRESS)) return d;
      const name = scaleNames.get(d.slice(ADDRESS.length));
      if (name !== undefined) return name;
      const scales = ds.get_attached_scales(i);
      return scales.length ? baseName(scales[0]!) : d;
    });
  }
  // netCDF-C commits every enum type it writes; a variable's type is the one with the same members.
  for (const [v, key] of enumVars) {
    const name = namedEnums.get(key);
    if (name) v.enum!.name = name;
  }
  for (const [v, key] of compoundVars) {
    const name = namedCompounds.get(key);
    if (name) v.compound!.name = name;
  }
  return { dataset: { format: sawNetcdf ? "NETCDF4" : "HDF5", root }, datasets };
}

export async function openNetcdf4(src: ByteSource): Promise<SourceFile> {
  return openNetcdf4With(await loadH5wasm(), src);
}

/** Opens the HDF5 file behind `src`; on failure, everything is released and a one-line error thrown. */
function openH5(h5: H5, src: ByteSource): { file: import("h5wasm").File; fsPath: string } {
  const fsPath = mountByteSource(src);
  try {
    const file = new h5.File(fsPath, "r");
    if (Number(file.file_id) < 0) throw new Error("cannot open as HDF5");
    return { file, fsPath };
  } catch (e) {
    h5Module!.FS.unlink(fsPath);
    src.close();
    if (e instanceof ConvertError) throw e;
    throw new ConvertError("Corrupt", `cannot open as HDF5 (truncated or corrupt?): ${hdf5Reason(e)}`, src.url);
  }
}

/**
 * Opens for reading only, synchronously, once h5wasm is loaded (undefined before that): no metadata
 * walk (12 ms a file on the sample's archive), `like` stands in for the dataset description, and
 * datasets are looked up when first read. For files the main thread has already checked.
 */
export function openNetcdf4Data(src: ByteSource, like: Dataset): SourceFile | undefined {
  const h5 = h5Loaded;
  if (!h5) return undefined;
  const { file, fsPath } = openH5(h5, src);
  const datasets = new Map<string, H5Dataset>();
  for (const v of walkVariables(like.root)) {
    const d = file.get(v.path);
    if (d instanceof h5.Dataset) datasets.set(v.path, d);
  }
  return new Netcdf4File(src, fsPath, file, like, datasets, true);
}

function openNetcdf4With(h5: H5, src: ByteSource): SourceFile {
  const { file, fsPath } = openH5(h5, src);
  try {
    const { dataset, datasets } = describe(h5, file, src.url);
    return new Netcdf4File(src, fsPath, file, dataset, datasets);
  } catch (e) {
    file.close();
    h5Module!.FS.unlink(fsPath);
    src.close();
    if (e instanceof ConvertError) throw e;
    throw new ConvertError("Corrupt", `cannot read HDF5 metadata: ${hdf5Reason(e)}`, src.url);
  }
}

/** The most telling line of an h5wasm/HDF5 error: the innermost "major/minor" message, never source. */
function hdf5Reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && l.length < 500);
  const minor = lines.filter((l) => l.startsWith("minor:")).pop();
  const major = lines.filter((l) => /^#\d+:/.test(l)).pop();
  return oneLine(major ? `${major.replace(/^#\d+:\s*\S+\s+line\s+\d+\s+in\s+/, "")}${minor ? ` (${minor})` : ""}` : lines[0] ?? text);
}

interface H5Module {
  FS: {
    mkdirTree(path: string): void;
    writeFile(path: string, data: Uint8Array): void;
    createFile(dir: string, name: string, props: object, canRead: boolean, canWrite: boolean): unknown;
    unlink(path: string): void;
  };
  activate_throwing_error_handler(): void;
  insert_plugin_search_path(path: string, index: number): void;
  create_object_reference(fileId: bigint, path: string): Uint8Array;
  _malloc(n: number): number;
  _free(p: number): void;
  HEAPU8: Uint8Array;
  get_dataset_data(fileId: bigint, path: string, count: bigint[] | null, offset: bigint[] | null, strides: bigint[] | null, ptr: bigint): number;
}

class Netcdf4File implements SourceFile {
  readonly path: string;
  constructor(
    private src: ByteSource,
    private fsPath: string,
    private file: import("h5wasm").File,
    readonly dataset: Dataset,
    private datasets: Map<string, H5Dataset>,
    /** `dataset` describes another file of the collection: take shapes from HDF5 itself. */
    private borrowed = false,
  ) {
    this.path = src.url;
  }

  /**
   * A variable's dataset and description, and for the direct reader its layout and extent in this
   * very file (they are its own when the description is borrowed from another file).
   */
  private lookup(varPath: string) {
    const ds = this.datasets.get(varPath);
    const v = ds && findVariable(this.dataset, varPath);
    if (!ds || !v) return undefined;
    return this.borrowed ? { ds, v, own: this.ownLayout(ds, v), shape: ds.shape ?? [] } : { ds, v, own: v, shape: v.shape };
  }

  read(varPath: string, start: readonly number[], count: readonly number[], into?: Uint8Array): ArrayData {
    const found = this.lookup(varPath);
    if (!found) throw new ConvertError("Usage", `no variable ${varPath}`, this.path);
    const { ds, v, own, shape } = found;
    if (v.unsupported) throw new ConvertError("Unsupported", `variable ${varPath} has an unsupported ${v.unsupported}`, this.path);
    const bad = validateRegion(shape, start, count);
    if (bad) throw new ConvertError("Usage", `${varPath}: ${bad}`, this.path);
    const n = count.reduce((a, b) => a * b, 1);
    if (n === 0) return allocateFor(v, 0);
    // Deflate (+ shuffle) chunks decoded natively when we can be sure of them; h5wasm otherwise.
    const direct = readDirect(this, own, shape, start, count, into);
    if (direct) return direct;
    let raw: unknown;
    try {
      if (v.dtype === "char") return this.readRawElements(ds, start, count, n);
      if (v.compound) return packRecords(v.compound, this.readRawElements(ds, start, count, n * v.compound.file.size), n);
      raw = start.length === 0 ? ds.value : ds.slice(start.map((s, i) => [s, s + count[i]!]));
    } catch (e) {
      throw new ConvertError("Corrupt", `cannot read variable ${varPath}: ${hdf5Reason(e)}`, this.path);
    }
    return normalise(raw, v.dtype, n, varPath, this.path);
  }

  readPlanes(varPath: string, start: readonly number[], count: readonly number[], size: number): ChunkPlanes | undefined {
    const found = this.lookup(varPath);
    if (!found || found.v.unsupported || validateRegion(found.shape, start, count)) return undefined;
    return readChunkPlanes(this, found.own, start, count, size);
  }

  /**
   * The region's `n` bytes as the file stores them: the same hyperslab read h5wasm's slice() does,
   * without its decoding. For NC_CHAR, whose fixed strings slice() decodes with TextDecoder("ascii")
   * (really windows-1252: bytes ≥ 0x80 would come back remapped), and for compound records, which
   * come in the file's layout for packRecords to turn into ours.
   */
  private readRawElements(ds: H5Dataset, start: readonly number[], count: readonly number[], n: number): Uint8Array {
    const Module = h5Module!;
    const ptr = Module._malloc(n);
    if (!ptr) throw new Error(`cannot allocate ${n} bytes`);
    try {
      // A scalar dataspace takes no hyperslab (H5Sselect_hyperslab refuses H5S_SCALAR): read it whole.
      const scalar = start.length === 0;
      Module.get_dataset_data(
        this.file.file_id, ds.path, scalar ? null : count.map(BigInt), scalar ? null : start.map(BigInt),
        scalar ? null : count.map(() => 1n), BigInt(ptr),
      );
      return Module.HEAPU8.slice(ptr, ptr + n);
    } finally {
      Module._free(ptr);
    }
  }

  private indexes = new Map<string, ChunkIndex | undefined>();
  private layouts = new Map<string, Variable>();

  /** A borrowed description with this file's own chunking and filters (files may differ in those). */
  private ownLayout(ds: H5Dataset, v: Variable): Variable {
    let own = this.layouts.get(v.path);
    if (!own) {
      own = { ...v, sourceChunks: ds.metadata.chunks ?? null, hdf5: { filters: ds.filters.map((f) => ({ id: f.id, cdValues: [...f.cd_values] })), littleEndian: ds.metadata.littleEndian } };
      this.layouts.set(v.path, own);
    }
    return own;
  }

  readRaw(offset: number, size: number, into?: Uint8Array): Uint8Array {
    return readRawBytes(this.src, offset, size, into);
  }

  /** Where each stored chunk of a variable is (for copying compressed chunks), if we can tell. */
  chunkLocations(varPath: string): ChunkIndex | undefined {
    if (!this.indexes.has(varPath)) {
      const ds = this.datasets.get(varPath);
      let index: ChunkIndex | undefined;
      if (ds && h5Module) {
        const ref = h5Module.create_object_reference(this.file.file_id, varPath);
        const addr = Number(Buffer.from(ref).readBigUInt64LE(0));
        index = readChunkIndex(this.src, addr, (ds.shape ?? []).length);
      }
      this.indexes.set(varPath, index);
    }
    return this.indexes.get(varPath);
  }

  close() {
    this.file.close();
    h5Module!.FS.unlink(this.fsPath);
    this.src.close();
  }
}

/** Turns what h5wasm returns (typed array, scalar, strings) into our ArrayData. */
function normalise(raw: unknown, dtype: DType, n: number, varPath: string, path: string): ArrayData {
  if (dtype === "string") return (Array.isArray(raw) ? raw : [raw]).map((s) => (s == null ? "" : String(s)));
  if (typeof raw === "number" || typeof raw === "bigint") {
    const out = allocate(dtype, 1) as Float64Array | BigInt64Array;
    (out as unknown as (number | bigint)[])[0] = raw;
    return out;
  }
  if (ArrayBuffer.isView(raw) && (raw as unknown as ArrayLike<number>).length === n) return raw as unknown as ArrayData;
  throw new ConvertError("Corrupt", `unexpected data returned for ${varPath}`, path);
}
