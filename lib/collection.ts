/**
 * Many NetCDF files as one dataset, concatenated along one dimension (the unlimited/record
 * dimension by default). Files are ordered by their coordinate values, never by name, and every
 * file must agree with the first on everything but the length of that dimension.
 */
import { isS3Url } from "./store/s3-url.js";
import { remoteMode } from "./io/open.js";
import { prefetchHeads } from "./io/remote.js";
import { ConvertError } from "./errors.js";
import {
  allocateFor, byteShape, typeText, getAttr, textAttr, isDimensionCoordinate, product, walkGroups, walkVariables, type ArrayData, type Dataset, type Variable,
} from "./model.js";
import { openSource, openSourceSync } from "./source/open.js";
import type { SourceAxis } from "./plan/types.js";
import { copyRegion } from "./source/region.js";
import type { SourceFile } from "./source/types.js";
import type { ChunkPlanes } from "./source/hdf5-direct.js";
import { looksLikeTimeUnits } from "./cf/time.js";
import { applyRecode, isPackingAttr, planTimeRecodes, planUnpack, recodedDataset, type RecodeSpec, type TimeTarget } from "./recode.js";

export interface Collection {
  readonly dataset: Dataset;
  readonly files: readonly SourceFile[];
  /** The dimension files were concatenated along; undefined for a single file. */
  readonly concatDim: string | undefined;
  /** As SourceFile.read (`into` is passed on when the region lies in one file). */
  read(varPath: string, start: readonly number[], count: readonly number[], into?: Uint8Array): ArrayData;
  /** As SourceFile.readPlanes, when the region lies in one file. */
  readPlanes(varPath: string, start: readonly number[], count: readonly number[], size: number): ChunkPlanes | undefined;
  /** How the sources split each axis of a variable into decoding units (see plan/types.ts). */
  sourceAxes(varPath: string): SourceAxis[];
  /** The file holding a position of a variable, and the position within that file. */
  locate(varPath: string, start: readonly number[]): { file: SourceFile; start: number[] };
  /** Values re-expressed between the files and the store (times in per-file units); plain data for workers. */
  readonly recode: RecodeSpec;
  close(): void;
}

/** Source chunk lengths along each axis of one file's variable (null: contiguous, any region). */
function fileAxes(v: Variable): SourceAxis[] {
  return v.shape.map((n, i) => {
    const c = v.sourceChunks?.[i];
    if (!c) return null;
    const out: number[] = [];
    for (let s = 0; s < n; s += c) out.push(Math.min(c, n - s));
    return out;
  });
}

export interface CollectionOptions {
  concatDim?: string;
  /**
   * The files were already checked and ordered (by the main thread of a job): skip the checks, and
   * with `lengths` (each file's length along the concat dimension) open files only when first read.
   * Workers use this, so a task opens just the files it touches.
   */
  trusted?: { lengths?: number[]; recode?: RecodeSpec };
  /** Store every time variable in these units (`--time-units`) instead of the first file's. */
  timeUnits?: string;
  /** Per time variable: the units (and type) to store it in, e.g. an existing store's for an append. */
  timeTargets?: Record<string, TimeTarget>;
  /** Store packed variables unpacked (`--unpack`): all of them, or just these paths (an existing store's). */
  unpack?: boolean | string[];
}

/** The collection's recodes: times in per-file units, then (--unpack) packed variables. */
function planRecodes(files: readonly SourceFile[], dim: string | undefined, opts: CollectionOptions): RecodeSpec {
  const times = planTimeRecodes(files, dim, timeTargets(files[0]!.dataset, dim, opts));
  if (!opts.unpack) return times;
  const unpacked = planUnpack(files, opts.unpack === true ? undefined : opts.unpack);
  for (const k of Object.keys(times)) delete unpacked[k];
  return { ...unpacked, ...times };
}

/** Attributes that change how values decode: files must agree on them or the store would lie. */
const ENCODING_ATTRS = ["scale_factor", "add_offset", "_FillValue", "missing_value", "units", "calendar", "_Unsigned", "dtype"];

export async function openCollection(paths: readonly string[], opts: CollectionOptions = {}): Promise<Collection> {
  if (paths.length === 0) throw new ConvertError("Usage", "no input files");
  const files: SourceFile[] = [];
  try {
    const lazy = opts.trusted?.lengths && opts.trusted.lengths.length === paths.length;
    const remote = paths.filter(isS3Url);
    if (!lazy && remote.length > 1 && remoteMode() === "ranged") await prefetchHeads(remote);
    for (const [i, p] of paths.entries()) files.push(lazy && i > 0 ? lazySource(p, files[0]!) : await openSource(p));
    const c = files.length === 1 && !opts.concatDim
      ? single(files[0]!, opts.trusted?.recode ?? planRecodes(files, undefined, opts))
      : merge(files, opts);
    // Closing twice is harmless (h5wasm would throw on a closed file).
    let open = true;
    return { ...c, close: () => { if (open) { open = false; c.close(); } } };
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
}

function variableOf(ds: Dataset, path: string): Variable {
  const v = [...walkVariables(ds.root)].find((x) => x.path === path);
  if (!v) throw new ConvertError("Usage", `no variable ${path}`);
  return v;
}

function single(f: SourceFile, recode: RecodeSpec): Collection {
  const dataset = structuredClone(f.dataset);
  recodedDataset(dataset, recode);
  return {
    dataset, files: [f], concatDim: undefined, recode,
    read: (p, s, c, into) => (recode[p] ? applyRecode(recode[p], f.path, f.read(p, s, c)) : f.read(p, s, c, into)),
    readPlanes: (p, s, c, size) => (recode[p] ? undefined : f.readPlanes?.(p, s, c, size)),
    sourceAxes: (p) => fileAxes(variableOf(f.dataset, p)), locate: (_p, start) => ({ file: f, start: start.slice() }),
    close: () => f.close(),
  };
}

/** Per time variable, the units to store it in: --time-units for all, or the given targets. */
function timeTargets(ds: Dataset, dim: string | undefined, opts: CollectionOptions): Record<string, TimeTarget> {
  if (!opts.timeUnits) return opts.timeTargets ?? {};
  const units = opts.timeUnits;
  return Object.fromEntries([...walkVariables(ds.root)]
    .filter((v) => (!dim || v.dims.includes(dim)) && looksLikeTimeUnits(textAttr(v.attrs, "units")))
    .map((v) => [v.path, { units }]));
}

const fmtAttr = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

function sameValues(a: ArrayData, b: ArrayData): boolean {
  if (a.length !== b.length) return false;
  if (Array.isArray(a) || Array.isArray(b)) return (a as unknown[]).every((x, i) => x === (b as unknown[])[i]);
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return Buffer.compare(x, y) === 0;
}

function compareStructure(first: SourceFile, other: SourceFile, dim: string, recode: RecodeSpec): void {
  const fail = (what: string) => {
    throw new ConvertError("Mismatch", `does not match ${first.path}: ${what}`, other.path);
  };
  const groupsA = [...walkGroups(first.dataset.root)], groupsB = [...walkGroups(other.dataset.root)];
  const gpA = groupsA.map((g) => g.path).join(","), gpB = groupsB.map((g) => g.path).join(",");
  if (gpA !== gpB) fail(`groups differ (${gpB} vs ${gpA})`);
  groupsA.forEach((ga, gi) => {
    const gb = groupsB[gi]!;
    for (const d of ga.dims) {
      const o = gb.dims.find((x) => x.name === d.name);
      if (!o) fail(`dimension ${d.name} is missing`);
      else if (d.name !== dim && o.size !== d.size) fail(`dimension ${d.name} has size ${o.size}, expected ${d.size}`);
    }
    const namesA = ga.variables.map((v) => v.name).sort(), namesB = gb.variables.map((v) => v.name).sort();
    const missing = namesA.filter((n) => !namesB.includes(n)), extra = namesB.filter((n) => !namesA.includes(n));
    if (missing.length) fail(`variable ${ga.path === "/" ? "" : ga.path + "/"}${missing[0]} is missing`);
    if (extra.length) fail(`has extra variable ${extra[0]}`);
    for (const va of ga.variables) {
      const vb = gb.variables.find((x) => x.name === va.name)!;
      if (vb.dtype !== va.dtype) fail(`variable ${va.path} has dtype ${vb.dtype}, expected ${va.dtype}`);
      const fa = typeText(va), fb = typeText(vb);
      if (fa !== fb) fail(`variable ${va.path} has type ${fb}, expected ${fa}`);
      if (fmtAttr(va.enum?.members) !== fmtAttr(vb.enum?.members)) fail(`variable ${va.path} has enum members ${fmtAttr(vb.enum?.members) ?? "none"}, expected ${fmtAttr(va.enum?.members) ?? "none"}`);
      if (vb.dims.join(",") !== va.dims.join(",")) fail(`variable ${va.path} has dimensions (${vb.dims.join(", ")}), expected (${va.dims.join(", ")})`);
      for (const name of ENCODING_ATTRS) {
        // Re-expressed times may differ in units (their calendars were compared when planning), and
        // unpacked variables in their packing.
        const r = recode[va.path];
        if (r?.kind === "time" && (name === "units" || name === "calendar")) continue;
        if (r?.kind === "unpack" && isPackingAttr(name)) continue;
        const a = getAttr(va.attrs, name), b = getAttr(vb.attrs, name);
        if (fmtAttr(a?.value) !== fmtAttr(b?.value)) {
          const hint = isPackingAttr(name) && name !== "_Unsigned" ? " (--unpack stores such variables unpacked)" : "";
          fail(`variable ${va.path} attribute ${name} is ${fmtAttr(b?.value) ?? "absent"}, expected ${fmtAttr(a?.value) ?? "absent"}${hint}`);
        }
      }
      // Coordinates along other dimensions must be identical, or the files describe different grids.
      if (!va.dims.includes(dim) && isDimensionCoordinate(va) && !va.unsupported) {
        const x = first.read(va.path, [0], va.shape), y = other.read(vb.path, [0], vb.shape);
        if (!sameValues(x, y)) fail(`coordinate ${va.path} has different values`);
      }
    }
  });
}

/**
 * A file of a trusted collection, opened on first read. Until then it answers with the first file's
 * metadata (the main thread checked that all files agree), which is all a worker needs to plan reads.
 */
function lazySource(path: string, like: SourceFile): SourceFile {
  let real: SourceFile | undefined;
  return {
    path,
    get dataset() { return real?.dataset ?? like.dataset; },
    read(varPath, start, count, into) {
      real ??= openSourceSync(path, like.dataset);
      return real.read(varPath, start, count, into);
    },
    readPlanes(varPath, start, count, size) {
      real ??= openSourceSync(path, like.dataset);
      return real.readPlanes?.(varPath, start, count, size);
    },
    chunkLocations(varPath) {
      real ??= openSourceSync(path, like.dataset);
      return real.chunkLocations?.(varPath);
    },
    readRaw(offset, size, into) {
      real ??= openSourceSync(path, like.dataset);
      return real.readRaw!(offset, size, into);
    },
    close() { real?.close(); },
  };
}

function merge(files: SourceFile[], opts: CollectionOptions): Collection {
  const trusted = opts.trusted;
  const root0 = files[0]!.dataset.root;
  const dim = opts.concatDim ?? root0.dims.find((d) => d.unlimited)?.name;
  if (!dim) throw new ConvertError("Usage", "no unlimited dimension to concatenate along; pass --concat-dim NAME", files[0]!.path);
  for (const f of files) {
    if (!f.dataset.root.dims.some((d) => d.name === dim)) {
      throw new ConvertError("Mismatch", `has no dimension ${dim} to concatenate along`, f.path);
    }
  }
  const recode = trusted?.recode ?? planRecodes(files, dim, opts);
  if (!trusted) for (const f of files.slice(1)) compareStructure(files[0]!, f, dim, recode);
  const ordered = trusted ? files : orderByCoordinate(files, dim, recode);
  const lengths = trusted?.lengths ?? ordered.map((f) => f.dataset.root.dims.find((d) => d.name === dim)!.size);
  const offsets = lengths.map((_, i) => lengths.slice(0, i).reduce((a, b) => a + b, 0));
  const total = lengths.reduce((a, b) => a + b, 0);

  const dataset = structuredClone(ordered[0]!.dataset);
  recodedDataset(dataset, recode);
  for (const g of walkGroups(dataset.root)) for (const d of g.dims) if (d.name === dim) d.size = total;
  for (const v of walkVariables(dataset.root)) {
    const axis = v.dims.indexOf(dim);
    if (axis >= 0) v.shape[axis] = total;
  }
  const variables = new Map<string, Variable>([...walkVariables(dataset.root)].map((v) => [v.path, v]));

  /**
   * The one file a region lies in (any file's, for variables without the concat axis: they are the
   * same in every file), and where it starts in that file; else undefined.
   */
  const within = (axis: number, start: readonly number[], count: readonly number[]) => {
    if (axis < 0) return { file: ordered[0]!, start };
    const lo = start[axis]!, hi = lo + count[axis]!;
    const i = ordered.findIndex((_, k) => offsets[k]! <= lo && hi <= offsets[k]! + lengths[k]!);
    if (i < 0) return undefined;
    const s = start.slice();
    s[axis] = lo - offsets[i]!;
    return { file: ordered[i]!, start: s };
  };
  const readPlanes = (varPath: string, start: readonly number[], count: readonly number[], size: number): ChunkPlanes | undefined => {
    if (recode[varPath]) return undefined;
    const one = within(variables.get(varPath)?.dims.indexOf(dim) ?? -1, start, count);
    return one?.file.readPlanes?.(varPath, one.start, count, size);
  };
  const read = (varPath: string, start: readonly number[], count: readonly number[], into?: Uint8Array): ArrayData => {
    const v = variables.get(varPath);
    if (!v) throw new ConvertError("Usage", `no variable ${varPath}`);
    const axis = v.dims.indexOf(dim);
    // Within one file (a task reads one source chunk at a time): that file's answer as it is, without
    // a second region-sized buffer and copy.
    const r = recode[varPath];
    const fileRead = (f: SourceFile, s: readonly number[], c: readonly number[], buf?: Uint8Array) =>
      (r ? applyRecode(r, f.path, f.read(varPath, s, c)) : f.read(varPath, s, c, buf));
    const one = within(axis, start, count);
    if (one) return fileRead(one.file, one.start, count, into);
    const lo = start[axis]!, hi = lo + count[axis]!;
    const out = allocateFor(v, product(count));
    ordered.forEach((f, i) => {
      const a = Math.max(lo, offsets[i]!), b = Math.min(hi, offsets[i]! + lengths[i]!);
      if (a >= b) return;
      const s = start.slice(), c = count.slice();
      s[axis] = a - offsets[i]!;
      c[axis] = b - a;
      const piece = fileRead(f, s, c);
      const at = count.map((_, k) => (k === axis ? a - lo : 0));
      // (compound records are bytes: copied with a last axis of record bytes)
      copyRegion(out, byteShape(v, count), piece, byteShape(v, c), v.dtype === "compound" ? [...at, 0] : at);
    });
    return out;
  };
  const sourceAxes = (varPath: string): SourceAxis[] => {
    const v = variableOf(dataset, varPath);
    const axis = v.dims.indexOf(dim);
    const perFile = ordered.map((f) => fileAxes(variableOf(f.dataset, varPath)));
    const axes = perFile[0]!.slice();
    if (axis >= 0) {
      // Along the concat axis each file is its own run of chunks; a contiguous file is one unit.
      axes[axis] = perFile.every((a) => a[axis] === null)
        ? null
        : perFile.flatMap((a, i) => a[axis] ?? (lengths[i]! > 0 ? [lengths[i]!] : []));
    }
    return axes;
  };
  const locate = (varPath: string, start: readonly number[]) => {
    const axis = variableOf(dataset, varPath).dims.indexOf(dim);
    if (axis < 0) return { file: ordered[0]!, start: start.slice() };
    const i = offsets.findIndex((o, k) => start[axis]! >= o && start[axis]! < o + lengths[k]!);
    const local = start.slice();
    local[axis] = start[axis]! - offsets[i]!;
    return { file: ordered[i]!, start: local };
  };
  return { dataset, files: ordered, concatDim: dim, read, readPlanes, sourceAxes, locate, recode, close: () => ordered.forEach((f) => f.close()) };
}

/** Orders files by the first value of the concat coordinate, refusing overlaps and non-monotonic values. */
function orderByCoordinate(files: SourceFile[], dim: string, recode: RecodeSpec): SourceFile[] {
  const coord = (f: SourceFile) => f.dataset.root.variables.find((v) => v.name === dim && isDimensionCoordinate(v));
  if (!coord(files[0]!)) return files;
  const ranges = files.map((f) => {
    const v = coord(f)!;
    // Times in per-file units are ordered as they will be stored.
    const raw = f.read(v.path, [0], v.shape);
    const r = recode[v.path];
    const vals = Array.from((r ? applyRecode(r, f.path, raw) : raw) as ArrayLike<number | bigint>, Number);
    for (let i = 1; i < vals.length; i++) {
      if (!(vals[i]! > vals[i - 1]!)) {
        throw new ConvertError("Mismatch", `coordinate ${dim} is not strictly increasing (${vals[i - 1]} then ${vals[i]} at index ${i})`, f.path);
      }
    }
    return { f, vals };
  });
  const withData = ranges.filter((r) => r.vals.length > 0).sort((a, b) => a.vals[0]! - b.vals[0]!);
  for (let i = 1; i < withData.length; i++) {
    const prev = withData[i - 1]!, cur = withData[i]!;
    if (cur.vals[0]! <= prev.vals[prev.vals.length - 1]!) {
      throw new ConvertError("Mismatch", `coordinate ${dim} overlaps ${prev.f.path} (${cur.vals[0]} ≤ ${prev.vals[prev.vals.length - 1]})`, cur.f.path);
    }
  }
  return [...withData.map((r) => r.f), ...ranges.filter((r) => r.vals.length === 0).map((r) => r.f)];
}

