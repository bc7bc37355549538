/**
 * NetCDF-3 reader: classic (CDF-1), 64-bit offset (CDF-2) and 64-bit data (CDF-5).
 *
 * Written by hand because no npm package reads CDF-5 or reads by region: netcdfjs rejects CDF-5 and
 * needs the whole file in memory. The format is small (NetCDF Users Guide, "File Format
 * Specifications"): a header, then big-endian data, fixed-size variables first, then records.
 */
import { ConvertError } from "../errors.js";
import {
  allocate, product, type ArrayData, type Attribute, type Dataset, type Dimension, type DType,
  type SourceFormat, type Variable,
} from "../model.js";
import { forEachRun, validateRegion } from "./region.js";
import type { ByteSource } from "../io/byte-source.js";
import type { SourceFile } from "./types.js";

const NC_DIMENSION = 0x0a, NC_VARIABLE = 0x0b, NC_ATTRIBUTE = 0x0c;
const STREAMING = 0xffffffff;

const NC_TYPES: Record<number, DType> = {
  1: "int8", 2: "char", 3: "int16", 4: "int32", 5: "float32", 6: "float64",
  7: "uint8", 8: "uint16", 9: "uint32", 10: "int64", 11: "uint64",
};
const SIZES: Record<DType, number> = {
  int8: 1, uint8: 1, char: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4,
  int64: 8, uint64: 8, float64: 8, string: 0, compound: 0,
};

class OutOfHeader extends Error {}

/** Sequential big-endian reader over the header bytes read so far. */
class HeaderReader {
  pos = 0;
  constructor(private buf: Buffer, private cdf5: boolean, private offset64: boolean) {}
  private need(n: number) {
    if (this.pos + n > this.buf.length) throw new OutOfHeader();
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`size ${v} too large`);
    return Number(v);
  }
  /** NON_NEG: 32-bit, or 64-bit in CDF-5. */
  count(): number {
    return this.cdf5 ? this.u64() : this.u32();
  }
  /** OFFSET: 32-bit in CDF-1, 64-bit in CDF-2 and CDF-5. */
  offset(): number {
    return this.offset64 ? this.u64() : this.u32();
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n + ((4 - (n % 4)) % 4);
    this.need(0);
    return b;
  }
  name(): string {
    // netCDF-C stops a name at the first NUL (some old files count a trailing NUL in the length).
    return this.bytes(this.count()).toString("utf8").replace(/\0.*$/s, "");
  }
}

interface Nc3Var {
  v: Variable;
  begin: number;
  isRecord: boolean;
  /** Bytes of one record of this variable (all of it, when not a record variable). */
  slabBytes: number;
}

/** Decodes `n` big-endian values from `b` into a native array. */
function decodeBE(b: Buffer, dtype: DType, n: number): ArrayData {
  if (dtype === "char") return new Uint8Array(b.buffer, b.byteOffset, n);
  const size = SIZES[dtype];
  // Copy into a fresh, aligned buffer so typed-array views are legal, then swap in place.
  const own = Buffer.alloc(n * size);
  b.copy(own, 0, 0, n * size);
  if (size === 2) own.swap16();
  else if (size === 4) own.swap32();
  else if (size === 8) own.swap64();
  const out = allocate(dtype, 0) as Exclude<ArrayData, string[]>;
  const Ctor = out.constructor as new (buf: ArrayBufferLike, off: number, len: number) => ArrayData;
  return new Ctor(own.buffer, own.byteOffset, n);
}

function decodeAttr(name: string, dtype: DType, raw: Buffer, n: number): Attribute {
  if (dtype === "char") {
    // netCDF4-python decodes text as UTF-8 and drops NUL padding; do the same.
    return { name, type: "char", value: raw.subarray(0, n).toString("utf8").replace(/\0/g, "") };
  }
  const arr = decodeBE(raw, dtype, n);
  const value = dtype === "int64" || dtype === "uint64"
    ? Array.from(arr as BigInt64Array | BigUint64Array)
    : Array.from(arr as Float64Array);
  return { name, type: dtype, value };
}

/** Parses the header of a NetCDF-3 file; the file is closed when the result is (or on error). */
export function openNetcdf3(src: ByteSource, format: SourceFormat): SourceFile {
  try {
    const parsed = parseWithGrowingBuffer(src, src.size, src.url, format);
    return new Netcdf3File(src.url, src, parsed.dataset, parsed.vars);
  } catch (e) {
    src.close();
    throw e;
  }
}

function parseWithGrowingBuffer(src: ByteSource, fileSize: number, path: string, format: SourceFormat) {
  for (let len = Math.min(fileSize, 1 << 16); ; len = Math.min(fileSize, len * 4)) {
    const buf = Buffer.alloc(len);
    src.readInto(0, len, buf, 0);
    try {
      return parseHeader(buf, fileSize, path, format);
    } catch (e) {
      if (!(e instanceof OutOfHeader)) {
        if (e instanceof ConvertError) throw e;
        throw new ConvertError("Corrupt", `corrupt NetCDF-3 header: ${(e as Error).message}`, path);
      }
      if (len >= fileSize) throw new ConvertError("Corrupt", "truncated NetCDF-3 header", path);
    }
  }
}

function parseHeader(buf: Buffer, fileSize: number, path: string, format: SourceFormat) {
  const cdf5 = format === "NETCDF3_64BIT_DATA";
  const r = new HeaderReader(buf, cdf5, format !== "NETCDF3_CLASSIC");
  r.pos = 4;
  const numrecsRaw = cdf5 ? Number(buf.readBigUInt64BE(4)) : buf.readUInt32BE(4);
  r.pos = cdf5 ? 12 : 8;

  const dims: Dimension[] = [];
  const listTag = (expected: number, what: string) => {
    const tag = r.u32();
    const n = r.count();
    if (tag === 0 && n === 0) return 0;
    if (tag !== expected) throw new ConvertError("Corrupt", `corrupt NetCDF-3 header: bad ${what} list tag ${tag}`, path);
    return n;
  };
  const readAttrs = (): Attribute[] => {
    const n = listTag(NC_ATTRIBUTE, "attribute");
    const out: Attribute[] = [];
    for (let i = 0; i < n; i++) {
      const name = r.name();
      const t = r.u32();
      const dtype = NC_TYPES[t];
      if (!dtype) throw new ConvertError("Corrupt", `corrupt NetCDF-3 header: attribute ${name} has unknown type ${t}`, path);
      const count = r.count();
      out.push(decodeAttr(name, dtype, r.bytes(count * SIZES[dtype]), count));
    }
    return out;
  };

  const nd = listTag(NC_DIMENSION, "dimension");
  for (let i = 0; i < nd; i++) {
    const name = r.name();
    const len = r.count();
    dims.push({ name, size: len, unlimited: len === 0 });
  }
  const gattrs = readAttrs();
  const nv = listTag(NC_VARIABLE, "variable");
  const raw: { name: string; dimids: number[]; attrs: Attribute[]; dtype: DType; begin: number }[] = [];
  for (let i = 0; i < nv; i++) {
    const name = r.name();
    const ndims = r.count();
    const dimids: number[] = [];
    for (let j = 0; j < ndims; j++) {
      const id = r.count();
      if (id >= dims.length) throw new ConvertError("Corrupt", `corrupt NetCDF-3 header: variable ${name} uses dimension id ${id}`, path);
      dimids.push(id);
    }
    const attrs = readAttrs();
    const t = r.u32();
    const dtype = NC_TYPES[t];
    if (!dtype || (!cdf5 && t > 6)) throw new ConvertError("Corrupt", `corrupt NetCDF-3 header: variable ${name} has unknown type ${t}`, path);
    r.count(); // vsize: recomputed below, since it saturates for variables over 4 GiB
    const begin = r.offset();
    raw.push({ name, dimids, attrs, dtype, begin });
  }

  const recDim = dims.findIndex((d) => d.unlimited);
  const isRec = (x: { dimids: number[] }) => x.dimids.length > 0 && x.dimids[0] === recDim;
  const slabBytes = (x: { dimids: number[]; dtype: DType }) =>
    product(x.dimids.filter((_, j) => !(j === 0 && isRec(x))).map((id) => dims[id]!.size)) * SIZES[x.dtype];
  const pad4 = (n: number) => n + ((4 - (n % 4)) % 4);
  const recVars = raw.filter(isRec);
  // The one exception to 4-byte padding: a single record variable is not padded (spec, "Note on padding").
  const recSize = recVars.length === 1 ? slabBytes(recVars[0]!) : recVars.reduce((a, x) => a + pad4(slabBytes(x)), 0);
  let numrecs = numrecsRaw;
  if (numrecs === STREAMING || (cdf5 && numrecsRaw === Number.MAX_SAFE_INTEGER)) {
    const recStart = Math.min(...recVars.map((x) => x.begin));
    numrecs = recVars.length && recSize ? Math.floor((fileSize - recStart) / recSize) : 0;
  }
  if (recDim >= 0) dims[recDim]!.size = numrecs;

  const vars: Nc3Var[] = raw.map((x) => {
    const rec = isRec(x);
    const shape = x.dimids.map((id) => dims[id]!.size);
    const slab = slabBytes(x);
    // With zero records a record variable has no data to demand: netCDF-C ends such a file at the
    // start of the record section, so the `begin` of a second record variable lies past the end.
    const end = rec ? (numrecs > 0 ? x.begin + (numrecs - 1) * recSize + slab : 0) : x.begin + slab;
    if (end > fileSize) {
      throw new ConvertError("Corrupt", `truncated: data of variable ${x.name} ends at byte ${end}, file has ${fileSize}`, path);
    }
    return {
      begin: x.begin,
      isRecord: rec,
      slabBytes: slab,
      v: {
        name: x.name, path: "/" + x.name, dtype: x.dtype, dims: x.dimids.map((id) => dims[id]!.name),
        shape, attrs: x.attrs, sourceChunks: null, filters: [],
      },
    };
  });
  const dataset: Dataset = {
    format,
    root: { name: "", path: "/", attrs: gattrs, dims, variables: vars.map((x) => x.v), groups: [] },
  };
  return { dataset, vars: new Map(vars.map((x) => [x.v.path, { ...x, recSize }])) };
}

class Netcdf3File implements SourceFile {
  constructor(
    readonly path: string,
    private src: ByteSource,
    readonly dataset: Dataset,
    private vars: Map<string, Nc3Var & { recSize: number }>,
  ) {}

  read(varPath: string, start: readonly number[], count: readonly number[]): ArrayData {
    const x = this.vars.get(varPath);
    if (!x) throw new ConvertError("Usage", `no variable ${varPath}`, this.path);
    const bad = validateRegion(x.v.shape, start, count);
    if (bad) throw new ConvertError("Usage", `${varPath}: ${bad}`, this.path);
    const es = SIZES[x.v.dtype];
    const n = product(count);
    const out = Buffer.alloc(n * es);
    if (n > 0) {
      if (x.isRecord) {
        const inner = x.v.shape.slice(1);
        const per = product(count.slice(1)) * es;
        for (let k = 0; k < count[0]!; k++) {
          const base = x.begin + (start[0]! + k) * x.recSize;
          this.readRegion(base, inner, start.slice(1), count.slice(1), es, out.subarray(k * per, (k + 1) * per));
        }
      } else {
        this.readRegion(x.begin, x.v.shape, start, count, es, out);
      }
    }
    return decodeBE(out, x.v.dtype, n);
  }

  /** Reads a region of a C-order array at `base`: one read of the bounding span when it is dense enough. */
  private readRegion(base: number, shape: number[], start: readonly number[], count: readonly number[], es: number, out: Buffer) {
    const runs: [number, number, number][] = [];
    forEachRun(shape, start, count, (src, dst, n) => runs.push([src, dst, n]));
    if (runs.length === 0) return;
    const first = runs[0]!, last = runs[runs.length - 1]!;
    const spanStart = first[0] * es, spanEnd = (last[0] + last[2]) * es;
    if (runs.length === 1 || spanEnd - spanStart <= 4 * out.length + (1 << 20)) {
      const span = Buffer.alloc(spanEnd - spanStart);
      this.pread(span, base + spanStart);
      for (const [src, dst, n] of runs) span.copy(out, dst * es, src * es - spanStart, (src + n) * es - spanStart);
    } else {
      for (const [src, dst, n] of runs) this.pread(out.subarray(dst * es, (dst + n) * es), base + src * es);
    }
  }

  private pread(into: Buffer, position: number) {
    let done = 0;
    while (done < into.length) {
      const got = this.src.readInto(position + done, into.length - done, into, done);
      if (got === 0) throw new ConvertError("Corrupt", `truncated: unexpected end of file at byte ${position + done}`, this.path);
      done += got;
    }
  }

  close() {
    this.src.close();
  }
}
