/**
 * A task's block: the target chunks it writes, each in its own stretch of one buffer (chunk-major),
 * in its valid shape (edge chunks are padded only when encoded), and in the byte order it is stored
 * in — C-order elements, or byte planes when the compressor shuffles. Sources write into it once;
 * each chunk is then encoded straight from its stretch, with no extraction copy (edge chunks: one
 * padded copy). Shuffled source chunks (HDF5's shuffle) move plane to plane and are never
 * unshuffled and reshuffled: on the seed-shaped job that was half of the CPU time outside libzstd.
 */
import { allocate, byteShape, elementSize, product, type ArrayData } from "../model.js";
import { cartesian, chunkIndices, contiguousOffset, copyOut, INT_INDEX_LIMIT, rowsOf, rowTerms, stridesOf, widestWord } from "../source/region.js";
import type { ChunkPlanes } from "../source/hdf5-direct.js";
import { filled, isAllFill, rawChunkBytes } from "../zarr/chunk.js";
import { elementOf, type ArrayEncoding } from "../zarr/encoding.js";

/** One target chunk of a block. */
export interface Segment {
  /** Chunk grid coordinates. */
  coords: number[];
  /** First element of the chunk in the array, and the part of the chunk inside the array. */
  start: number[];
  valid: number[];
  /** The chunk's valid part: elements in C order, or (planar blocks) its byte planes one after another. */
  data: ArrayData;
}

type TypedCtor = new (b: ArrayBufferLike, offset: number, length: number) => ArrayData;

export class TaskBlock {
  readonly segments: Segment[] = [];
  /** Element size of the byte planes segments hold; 0 when they hold elements. */
  readonly planar: number;
  private readonly first: number[];
  private readonly grid: number[];
  /** Holds every numeric segment (from its start). */
  readonly buffer: ArrayBuffer | SharedArrayBuffer | undefined;

  /**
   * `memory`: "shared" puts the segments in a new SharedArrayBuffer (other threads will encode them);
   * a SharedArrayBuffer (at least `bytes` long; the segments use its start) is the memory of the
   * same block filled by another thread, or one reused from an earlier block, zeroed by the caller.
   */
  constructor(private readonly e: ArrayEncoding, start: readonly number[], count: readonly number[], planar: boolean, memory?: "shared" | SharedArrayBuffer) {
    const indices = chunkIndices(start, count, e.chunks);
    this.first = indices.map((l) => l[0] ?? 0);
    this.grid = stridesOf(indices.map((l) => l.length));
    const typed = e.dtype !== "string";
    // Compound records are held as their bytes (Uint8Array segments, es bytes an element).
    const es = elementSize(elementOf(e));
    this.planar = planar && typed ? es : 0;
    const shapes = [...cartesian(indices)].map((coords) => {
      const s = coords.map((c, i) => c * e.chunks[i]!);
      return { coords, start: s, valid: s.map((x, i) => Math.min(e.chunks[i]!, e.shape[i]! - x)) };
    });
    // One buffer for all numeric segments: no allocation (or zeroing) per chunk.
    const bytes = shapes.reduce((a, s) => a + product(s.valid) * es, 0);
    const buffer = !typed ? undefined : memory === undefined ? new ArrayBuffer(bytes) : memory === "shared" ? new SharedArrayBuffer(bytes) : memory;
    if (buffer && buffer.byteLength < bytes) throw new Error(`block of ${bytes} bytes given a buffer of ${buffer.byteLength}`);
    this.buffer = buffer;
    const bytewise = this.planar || e.dtype === "compound";
    const Typed = bytewise ? Uint8Array : allocate(e.dtype, 0).constructor as TypedCtor;
    let offset = 0;
    for (const s of shapes) {
      const n = product(s.valid);
      const data = !buffer ? allocate(e.dtype, n) : bytewise ? new Uint8Array(buffer, offset, n * es) : new Typed(buffer, offset, n);
      this.segments.push({ ...s, data });
      offset += n * es;
    }
  }

  /** The segments a region [start, start + count) of the array overlaps, with the overlap. */
  private *overlapping(start: readonly number[], count: readonly number[]) {
    for (const coords of cartesian(chunkIndices(start, count, this.e.chunks))) {
      const seg = this.segments[coords.reduce((a, c, i) => a + (c - this.first[i]!) * this.grid[i]!, 0)]!;
      const lo = seg.start.map((s, i) => Math.max(s, start[i]!));
      const n = lo.map((l, i) => Math.min(seg.start[i]! + seg.valid[i]!, start[i]! + count[i]!) - l);
      yield { seg, lo, n };
    }
  }

  /**
   * Where a source may decode the region [start, start + count) in place: the bytes of the one
   * element segment holding it, when the region is one contiguous stretch of it.
   */
  intoFor(start: readonly number[], count: readonly number[]): Uint8Array | undefined {
    // (compound sources repack records into a new buffer anyway)
    if (this.planar || this.e.dtype === "string" || this.e.dtype === "compound") return undefined;
    const [only, more] = [...this.overlapping(start, count)];
    if (!only || more || only.n.some((x, i) => x !== count[i])) return undefined;
    const offset = contiguousOffset(only.seg.valid, only.lo.map((l, i) => l - only.seg.start[i]!), count);
    if (offset === undefined) return undefined;
    const t = only.seg.data as Uint8Array, es = t.BYTES_PER_ELEMENT;
    return new Uint8Array(t.buffer, t.byteOffset + offset * es, product(count) * es);
  }

  /**
   * Places the region [start, start + count) of the array from `data`, values in C order of shape
   * `shape` whose first element is the array's element `origin`.
   */
  placeElements(data: ArrayData, shape: readonly number[], origin: readonly number[], start: readonly number[], count: readonly number[]): void {
    if (Array.isArray(data) || !this.buffer) {
      for (const { seg, lo, n } of this.overlapping(start, count)) {
        copyOut(seg.data, seg.valid, lo.map((l, i) => l - seg.start[i]!), data, shape, lo.map((l, i) => l - origin[i]!), n);
      }
      return;
    }
    const bytes = rawChunkBytes(data);
    if (!this.planar) return this.scatter(bytes, shape, origin, start, count, 1, elementSize(elementOf(this.e)));
    // Elements into planes, byte by byte: only for sources that cannot hand over planes (NetCDF-3,
    // h5wasm, an append's stored chunks).
    const es = this.planar;
    for (const { seg, lo, n } of this.overlapping(start, count)) {
      const planes = seg.data as Uint8Array, plane = product(seg.valid);
      const rows = rowsOf(seg.valid, lo.map((l, i) => l - seg.start[i]!), shape, lo.map((l, i) => l - origin[i]!), n);
      for (let r = 0; r < rows.d.length; r++) {
        for (let b = 0; b < es; b++) {
          const p = b * plane + rows.d[r]!;
          for (let k = 0, q = rows.s[r]! * es + b; k < rows.n; k++, q += es) planes[p + k] = bytes[q]!;
        }
      }
    }
  }

  /** Places the region [start, start + count) of the array from a source chunk's byte planes (planar blocks). */
  placePlanes(p: ChunkPlanes, start: readonly number[], count: readonly number[]): void {
    this.scatter(p.planes, p.chunk, start.map((s, i) => s - p.at[i]!), start, count, this.planar, 1);
  }

  /**
   * Copies the region [start, start + count) of the array from `src` — an array of `shape` whose
   * first element is the array's element `origin`, `unit` bytes per element, in `planes` planes —
   * into the segments it overlaps, plane by plane and in the source's own order: a source chunk
   * (20 MB for a day of the seed data) is bigger than the caches, and going over it once per target
   * chunk instead made the copy up to 2x slower. Written by hand: it is the one place where the rechunking
   * moves every byte.
   */
  private scatter(src: Uint8Array, shape: readonly number[], origin: readonly number[], start: readonly number[], count: readonly number[], planes: number, unit: number) {
    const srcPlane = product(shape) * unit;
    const parts = [...this.overlapping(start, count)].map(({ seg, lo, n }) => {
      const at = lo.map((l, i) => l - seg.start[i]!), from = lo.map((l, i) => l - origin[i]!);
      return {
        base: (seg.data as Uint8Array).byteOffset,
        plane: product(seg.valid) * unit,
        rows: rowsOf(seg.valid, at, shape, from, n),
        terms: rowTerms(seg.valid, at, shape, from, n),
      };
    });
    if (parts.length === 0) return;
    // Overlaps come last axis fastest: those differing only in it share rows, and take turns.
    const nd = shape.length, turn = nd === 0 ? 1 : chunkIndices(start, count, this.e.chunks)[nd - 1]!.length;
    // The widest words every row starts and ends on (bytes come 2 or 4 at a time, elements whole).
    const w = widestWord([src.byteOffset, srcPlane, ...parts.flatMap((q) => [q.base, q.plane, ...q.terms.map((t) => t * unit)])]);
    // (typed as over an ArrayBuffer: the union of the three constructors takes no SharedArrayBuffer in TS)
    const View = (w === 4 ? Uint32Array : w === 2 ? Uint16Array : Uint8Array) as new (b: ArrayBufferLike, o: number, n: number) => Uint8Array | Uint16Array | Uint32Array;
    const out = new View(this.buffer!, 0, Math.floor(this.buffer!.byteLength / w));
    const from = new View(src.buffer, src.byteOffset, Math.floor(src.byteLength / w));
    const k = unit / w;
    for (let g = 0; g < parts.length; g += turn) {
      // The group's runs in source order, as word offsets (without the plane's).
      const group = parts.slice(g, g + turn), rows = group[0]!.rows.d.length, m = group.length;
      const d = new Float64Array(rows * m), s = new Float64Array(rows * m), n = new Float64Array(m), plane = new Float64Array(m);
      group.forEach((q, j) => {
        n[j] = q.rows.n * k;
        plane[j] = q.plane / w;
        for (let r = 0; r < rows; r++) {
          d[r * m + j] = q.base / w + q.rows.d[r]! * k;
          s[r * m + j] = q.rows.s[r]! * k;
        }
      });
      for (let b = 0; b < planes; b++) moveRuns(out, from, d, s, n, plane, b, (b * srcPlane) / w);
    }
  }

  /** True when the chunk holds the fill value everywhere (its padding does by construction). */
  allFill(seg: Segment): boolean {
    const { fill } = this.e;
    if (!this.planar) return isAllFill(seg.data, this.e);
    if (fill === null) return false;
    const pattern = rawChunkBytes(filled(this.e, 1)), planes = seg.data as Uint8Array, plane = product(seg.valid);
    for (let b = 0; b < this.planar; b++) {
      const want = pattern[b]!;
      for (let i = b * plane, end = i + plane; i < end; i++) if (planes[i] !== want) return false;
    }
    return true;
  }

  /**
   * The whole chunk as stored before compression: the segment itself, or for an edge chunk a copy
   * padded with the fill value (as zarr-python pads), in `spare` (a chunk-sized buffer, made on first use).
   */
  storedChunk(seg: Segment, spare: { chunk?: ArrayData }): ArrayData {
    const e = this.e;
    if (seg.valid.every((n, i) => n === e.chunks[i])) return seg.data;
    const n = product(e.chunks);
    const zeros = e.chunks.map(() => 0);
    // The spare may have held another array's chunk (slots outlive tasks): reused only if it has
    // the same type and length.
    const fits = (like: ArrayData, length: number) => spare.chunk?.constructor === like.constructor && spare.chunk.length === length;
    if (!this.planar) {
      if (e.dtype === "compound") {
        // Records as bytes: the fill records, then the valid part copied with a last axis of record bytes.
        const es = elementSize(elementOf(e));
        if (!fits(new Uint8Array(0), n * es)) spare.chunk = new Uint8Array(n * es);
        const chunk = spare.chunk as Uint8Array;
        chunk.set(filled(e, n) as Uint8Array);
        const at = [...zeros, 0];
        copyOut(chunk, byteShape(elementOf(e), e.chunks), at, seg.data, byteShape(elementOf(e), seg.valid), at, byteShape(elementOf(e), seg.valid));
        return chunk;
      }
      if (!fits(allocate(e.dtype, 0), n)) spare.chunk = allocate(e.dtype, n);
      const chunk = spare.chunk!;
      fillWith(chunk, filled(e, 1));
      copyOut(chunk, e.chunks, zeros, seg.data, seg.valid, zeros, seg.valid);
      return chunk;
    }
    const es = this.planar;
    if (!fits(new Uint8Array(0), n * es)) spare.chunk = new Uint8Array(n * es);
    const chunk = spare.chunk as Uint8Array;
    const pattern = rawChunkBytes(filled(e, 1)), src = seg.data as Uint8Array, plane = product(seg.valid);
    for (let b = 0; b < es; b++) {
      const out = chunk.subarray(b * n, (b + 1) * n);
      out.fill(pattern[b]!);
      copyOut(out, e.chunks, zeros, src.subarray(b * plane, (b + 1) * plane), seg.valid, zeros, seg.valid);
    }
    return chunk;
  }
}

/** Whether `piece` is the very memory of `place` (a source decoded in place). */
export const sameMemory = (place: ArrayData, piece: ArrayData): boolean =>
  !Array.isArray(place) && !Array.isArray(piece) && (place as Uint8Array).buffer === (piece as Uint8Array).buffer &&
  (place as Uint8Array).byteOffset === (piece as Uint8Array).byteOffset;

/** Fills every element of `a` with the single value in `one`. */
function fillWith(a: ArrayData, one: ArrayData) {
  if (Array.isArray(a)) a.fill((one as string[])[0]!);
  else (a as unknown as { fill(v: unknown): void }).fill((one as unknown as unknown[])[0]);
}

/** The copy loop of TaskBlock.scatter: run j goes from `from` at s[j] + srcShift to `out` at d[j] + b * plane[j mod m]. */
function moveRuns(
  out: Uint8Array | Uint16Array | Uint32Array, from: Uint8Array | Uint16Array | Uint32Array,
  d: Float64Array, s: Float64Array, n: Float64Array, plane: Float64Array, b: number, srcShift: number,
): void {
  const m = n.length;
  if (out.length >= INT_INDEX_LIMIT || from.length >= INT_INDEX_LIMIT) {
    // Indices past 32-bit integers (a block of over 2^31 words): one native copy per run.
    for (let j = 0; j < d.length; j++) {
      const o = d[j]! + b * plane[j % m]!, x = s[j]! + srcShift;
      out.set(from.subarray(x, x + n[j % m]!), o);
    }
    return;
  }
  for (let j = 0, runs = d.length; j < runs; j++) {
    const q = j % m;
    const o = (d[j]! + b * plane[q]!) | 0, x = (s[j]! + srcShift) | 0, len = n[q]! | 0;
    // Four words a turn: 1.5x the plain loop on Node 20, 1.2x on Node 24 (runs of 45 words).
    let i = 0;
    for (; i + 4 <= len; i += 4) {
      out[o + i] = from[x + i]!;
      out[o + i + 1] = from[x + i + 1]!;
      out[o + i + 2] = from[x + i + 2]!;
      out[o + i + 3] = from[x + i + 3]!;
    }
    for (; i < len; i++) out[o + i] = from[x + i]!;
  }
}
