/**
 * Reads a region of a chunked HDF5 dataset stored with the filters netCDF-4 files almost always use —
 * deflate, optionally after shuffle — without h5wasm: each chunk's bytes come from our own chunk index
 * (hdf5-chunks.ts), node:zlib inflates them natively and a word-wise unshuffle restores the order.
 * Measured on the seed-shaped archive (24 x 361 x 576 float32 per file): ~30 ms a chunk against ~70 ms
 * through h5wasm's WASM zlib. Written by hand because no library reads HDF5 chunks in Node without
 * holding the file in memory (jsfive) or going through WASM (h5wasm).
 * Whenever it cannot be sure — another filter, a chunk that was never written (fill value) or skipped
 * a filter, big-endian data, no v1 B-tree index, an inflated size that is not the chunk's — it returns
 * undefined and the caller reads through h5wasm, which stays the reference.
 */
import * as zlib from "node:zlib";
import { allocate, itemSize, product, type ArrayData, type Variable } from "../model.js";
import type { ChunkIndex } from "./hdf5-chunks.js";
import { cartesian, chunkIndices, copyOut } from "./region.js";
import { outputRoom } from "../zarr/zlib-oneshot.js";
import { unshuffle } from "../zarr/shuffle.js";
import { inflateInto, releaseInflateBuffer } from "./inflate.js";

const DEFLATE = 1;
const SHUFFLE = 2;

/** Off switch for tests that compare both paths (and for ruling this path out when in doubt). */
let enabled = process.env.CONVERT_TO_ZARR_HDF5_DIRECT !== "0";
export function setDirectReads(on: boolean): void {
  enabled = on;
}

/** Chunks decoded by this path, in reads it completed, since the process started (tests check that it ran). */
let decodedChunks = 0;
export const directChunksDecoded = (): number => decodedChunks;

export interface ChunkSource {
  chunkLocations(varPath: string): ChunkIndex | undefined;
  readRaw(offset: number, size: number, into?: Uint8Array): Uint8Array;
}

/** The decode steps for a filter pipeline (listed in encoding order), or undefined if unsupported. */
function decodeSteps(filters: readonly { id: number }[]): { shuffle: boolean; deflate: boolean } | undefined {
  const ids = filters.map((f) => f.id);
  if (ids.some((id) => id !== DEFLATE && id !== SHUFFLE)) return undefined;
  if (ids.filter((id) => id === DEFLATE).length > 1 || ids.filter((id) => id === SHUFFLE).length > 1) return undefined;
  // Shuffle must come before deflate when both are there (as every writer puts them).
  if (ids.length === 2 && ids[0] !== SHUFFLE) return undefined;
  return { shuffle: ids.includes(SHUFFLE), deflate: ids.includes(DEFLATE) };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What this path needs to know of a variable to decode its chunks, or undefined when it does not apply. */
function directLayout(file: ChunkSource, v: Variable, rank: number) {
  if (!enabled || !LITTLE_ENDIAN_HOST) return undefined;
  if (!v.hdf5 || !v.hdf5.littleEndian || !v.sourceChunks || v.dtype === "char" || v.dtype === "string") return undefined;
  // Compound records are repacked from the file's layout (netcdf4.ts), never decoded here.
  if (v.dtype === "compound") return undefined;
  const steps = decodeSteps(v.hdf5.filters);
  if (!steps || rank === 0 || v.sourceChunks.length !== rank) return undefined;
  const index = file.chunkLocations(v.path);
  if (!index) return undefined;
  const size = itemSize(v.dtype);
  return { steps, index, chunk: v.sourceChunks, size, chunkBytes: product(v.sourceChunks) * size };
}

/** This thread's buffer for compressed chunk bytes on their way to the inflater. */
let compressed = new Uint8Array(0);

/** Lets go of this thread's reused read buffers, so that they are not held while a task encodes. */
export function releaseReadBuffers(): void {
  compressed = new Uint8Array(0);
  releaseInflateBuffer();
}

/**
 * One stored chunk's bytes after inflating (still shuffled, if it was), or undefined if in doubt.
 * `transient`: the caller is done with them before this thread's next read, so they may live in
 * buffers reused from chunk to chunk (see inflate.ts).
 */
function inflated(file: ChunkSource, layout: NonNullable<ReturnType<typeof directLayout>>, coords: readonly number[], transient: boolean): Uint8Array | undefined {
  const where = layout.index.get(coords.join(","));
  if (!where || where.filterMask !== 0) return undefined;
  if (!layout.steps.deflate) return file.readRaw(where.offset, where.size);
  if (compressed.byteLength < where.size) compressed = new Uint8Array(where.size);
  const input = file.readRaw(where.offset, where.size, compressed);
  let bytes = transient ? inflateInto(input, layout.chunkBytes) : undefined;
  if (!bytes) {
    try {
      bytes = zlib.inflateSync(input, { chunkSize: outputRoom(layout.chunkBytes) });
    } catch {
      return undefined; // let h5wasm say what is wrong
    }
  }
  return bytes.byteLength === layout.chunkBytes ? bytes : undefined;
}

/**
 * The region [start, start + count) of `v` (whose extent in this file is `shape`), or undefined when
 * this path does not apply. With `into` (the region's size, element-aligned), the values are decoded
 * into it and the result is a view of it: a converting task's block receives the planes of a whole
 * chunk unshuffled in place, with no chunk-sized buffer in between.
 */
export function readDirect(
  file: ChunkSource, v: Variable, shape: readonly number[], start: readonly number[], count: readonly number[], into?: Uint8Array,
): ArrayData | undefined {
  const layout = directLayout(file, v, start.length);
  if (!layout) return undefined;
  const { steps, chunk, size } = layout;
  const target = into && into.byteLength === product(count) * size && into.byteOffset % size === 0 ? into : undefined;
  const Typed = allocate(v.dtype, 0).constructor as new (b: ArrayBufferLike, o: number, n: number) => ArrayData;
  const view = (b: Uint8Array, n: number) => new Typed(b.buffer, b.byteOffset, n);
  const out = target ? view(target, product(count)) : allocate(v.dtype, product(count));
  let decoded = 0;
  for (const coords of cartesian(chunkIndices(start, count, chunk))) {
    const origin = coords.map((c, i) => c * chunk[i]!);
    // The region is this one whole chunk (one chunk per file, typically): it is the answer as it is,
    // decoded straight into the target when there is one.
    const whole = origin.every((o, i) => o === start[i] && chunk[i] === count[i]);
    // Inflated bytes handed back as they are must not be reused; any others are copied out first.
    const bytes = inflated(file, layout, coords, !(whole && !target && !(steps.shuffle && size > 1)));
    if (!bytes) return undefined;
    decoded++;
    const dest = whole ? target : undefined;
    let ordered: Uint8Array;
    if (steps.shuffle && size > 1) ordered = unshuffle(bytes, size, dest);
    else if (dest) ordered = (dest.set(bytes), dest);
    else ordered = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
    const values = view(ordered, product(chunk));
    if (whole) {
      decodedChunks += 1;
      return values;
    }
    const lo = origin.map((o, i) => Math.max(o, start[i]!));
    const hi = origin.map((o, i) => Math.min(o + chunk[i]!, start[i]! + count[i]!, shape[i]!));
    copyOut(out, count, lo.map((l, i) => l - start[i]!), values, chunk, lo.map((l, i) => l - origin[i]!), hi.map((h, i) => h - lo[i]!));
  }
  decodedChunks += decoded;
  return out;
}

/**
 * A stored chunk as byte planes: the shuffled bytes of every element, plane after plane. The planes
 * may live in a buffer this thread reuses: they are valid until its next read.
 */
export interface ChunkPlanes {
  planes: Uint8Array;
  /** The stored chunk's shape (edge chunks are stored whole, padded). */
  chunk: number[];
  /** Where the region asked for starts inside the chunk. */
  at: number[];
}

/**
 * The one stored chunk holding the region [start, start + count), inflated but not unshuffled, when
 * it was shuffled with `size`-byte elements: a task writing shuffled Zarr chunks moves its planes
 * as they are, and never unshuffles and reshuffles. Undefined when the region spans chunks, the
 * chunk is not shuffled that way, or this path does not apply.
 */
export function readChunkPlanes(
  file: ChunkSource, v: Variable, start: readonly number[], count: readonly number[], size: number,
): ChunkPlanes | undefined {
  const layout = directLayout(file, v, start.length);
  if (!layout || !layout.steps.shuffle || layout.size !== size || count.some((c) => c === 0)) return undefined;
  const coords = chunkIndices(start, count, layout.chunk);
  if (coords.some((c) => c.length !== 1)) return undefined;
  const which = coords.map(([c]) => c!);
  const planes = inflated(file, layout, which, true);
  if (!planes) return undefined;
  decodedChunks += 1;
  return { planes, chunk: layout.chunk.slice(), at: start.map((s, i) => s - which[i]! * layout.chunk[i]!) };
}
