/**
 * Region reads for the arrays this tool writes by default — C-order, little-endian numbers, either
 * uncompressed or zstd, optionally after numcodecs' byte shuffle, no sharding. Each chunk is decoded
 * in pieces of 1 MiB and the region's elements are picked out of each piece as it comes; decoding
 * stops as soon as the last element the region needs has appeared (a map at the first time step
 * decodes ~1% of a (1080, 90, 90) chunk; shuffled, ~75%, since it needs a byte from each of the four
 * planes). A shuffled chunk is never unshuffled: each element's bytes are picked out of the planes
 * as they pass. No chunk-sized buffer is ever allocated: zarrita decodes every chunk into a fresh
 * one, and the page faults of a fresh 35 MB buffer cost about as much as the decoding (35-40 ms
 * against ~21 ms into a warm one, measured).
 *
 * The pieces come from the zstd-napi addon (synchronously, pooled buffers), else from node:zlib
 * (Node ≥ 22.15, on the libuv pool). Anything else (other codecs or filters, big-endian types,
 * sharding, fill values we cannot represent, no zstd decoder) gets no fast reader, and zarrita reads
 * it: it stays the general reader, and `verify` and the tests use it as the independent check of
 * what this one returns.
 */
import pLimit from "p-limit";
import { ConvertError } from "../errors.js";
import { allocate, itemSize, product, type ArrayData, type DType } from "../model.js";
import { cartesian, chunkIndices, copyRegion, forEachRun, validateRegion } from "../source/region.js";
import { hasNativeZstd, nodeZstd } from "./zlib-oneshot.js";
import { zstdAddon } from "./zstd-addon.js";

export interface FastArray {
  read(start: readonly number[], count: readonly number[]): Promise<ArrayData>;
}

type Meta = Record<string, unknown>;
type Getter = (key: `/${string}`) => Promise<Uint8Array | undefined>;
/** Store.readPieces: an object's bytes in pieces, each fed on before the next is read; bytes or undefined when missing. */
type PieceReader = (key: `/${string}`, take: (piece: Uint8Array) => Promise<unknown>) => Promise<number | undefined>;

const V2_TYPES: Record<string, DType> = {
  "|i1": "int8", "|u1": "uint8", "<i1": "int8", "<u1": "uint8", "<i2": "int16", "<u2": "uint16", "<i4": "int32", "<u4": "uint32",
  "<i8": "int64", "<u8": "uint64", "<f4": "float32", "<f8": "float64",
};
const V3_TYPES = new Set<string>(["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]);
const NAMED_FLOATS: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

/** A fill value we can represent exactly, or undefined (then no fast path). null reads as 0, as in zarrita. */
function fillOf(v: unknown, dtype: DType): number | bigint | undefined {
  const n = v === null ? 0 : typeof v === "string" ? NAMED_FLOATS[v] : v;
  if (dtype === "int64" || dtype === "uint64") return typeof n === "bigint" ? n : typeof n === "number" && Number.isSafeInteger(n) ? BigInt(n) : undefined;
  if (typeof n === "bigint") return Number(n);
  return typeof n === "number" ? n : undefined;
}

/** The element size of a shuffle filter we can read (numcodecs' shuffle over whole elements), 0 for a one-byte type, else undefined. */
function shuffleSize(id: string | undefined, elementsize: number | undefined, dtype: DType): number | undefined {
  const size = itemSize(dtype);
  if (id !== "shuffle" || (elementsize ?? 4) !== size) return undefined;
  return size > 1 ? size : 0;
}

interface Layout {
  dtype: DType;
  shape: number[];
  chunks: number[];
  zstd: boolean;
  /** Element size of the byte shuffle before compression, 0 for none. */
  shuffle: number;
  fill: number | bigint;
  key: (coords: readonly number[]) => string;
}

function v2Layout(meta: Meta): Layout | undefined {
  const dtype = V2_TYPES[String(meta["dtype"])];
  const filters = (meta["filters"] ?? []) as { id?: string; elementsize?: number }[];
  const compressor = meta["compressor"] as { id?: string } | null | undefined;
  if (!dtype || (meta["order"] ?? "C") !== "C" || filters.length > 1) return undefined;
  const shuffle = filters.length ? shuffleSize(filters[0]!.id, filters[0]!.elementsize, dtype) : 0;
  if (shuffle === undefined) return undefined;
  if (compressor && compressor.id !== "zstd") return undefined;
  const fill = fillOf(meta["fill_value"], dtype);
  if (fill === undefined) return undefined;
  const sep = String(meta["dimension_separator"] ?? ".");
  return {
    dtype, shape: (meta["shape"] as number[]).map(Number), chunks: (meta["chunks"] as number[]).map(Number), zstd: !!compressor, shuffle, fill,
    key: (c) => (c.length ? c.join(sep) : "0"),
  };
}

function v3Layout(meta: Meta): Layout | undefined {
  const dtype = String(meta["data_type"]) as DType;
  const grid = meta["chunk_grid"] as { name?: string; configuration?: { chunk_shape?: number[] } } | undefined;
  const enc = meta["chunk_key_encoding"] as { name?: string; configuration?: { separator?: string } } | undefined;
  const codecs = (meta["codecs"] ?? []) as { name: string; configuration?: { endian?: string; elementsize?: number } }[];
  if (!V3_TYPES.has(dtype) || grid?.name !== "regular" || !grid.configuration?.chunk_shape) return undefined;
  const [bytes, ...after] = codecs;
  if (bytes?.name !== "bytes" || (bytes.configuration?.endian ?? "little") !== "little") return undefined;
  const filter = after[0]?.name === "numcodecs.shuffle" ? after[0] : undefined;
  const shuffle = filter ? shuffleSize("shuffle", filter.configuration?.elementsize, dtype) : 0;
  const rest = filter ? after.slice(1) : after;
  if (shuffle === undefined) return undefined;
  if (rest.length > 1 || (rest.length === 1 && rest[0]!.name !== "zstd")) return undefined;
  const fill = fillOf(meta["fill_value"], dtype);
  if (fill === undefined || (enc?.name !== "default" && enc?.name !== "v2")) return undefined;
  const v2Keys = enc.name === "v2";
  const sep = enc.configuration?.separator ?? (v2Keys ? "." : "/");
  return {
    dtype, shape: (meta["shape"] as number[]).map(Number), chunks: grid.configuration.chunk_shape.map(Number), zstd: rest.length === 1, shuffle, fill,
    key: (c) => (v2Keys ? (c.length ? c.join(sep) : "0") : ["c", ...c].join(sep)),
  };
}

/** Fetches at once at most this many chunks (bounds the compressed bytes held while decoding). */
const FETCHES = 8;
/** Decoded piece size: big enough that per-piece overhead vanishes, small enough to stay in cache. */
const PIECE = 1 << 20;

/**
 * Byte runs to copy out of a chunk's decoded bytes, in the order they appear: source offset,
 * destination offset, length, and the step between destination bytes (1, or the element size when
 * the run is a stretch of one byte plane of a shuffled chunk).
 */
interface Runs {
  src: number[];
  dst: number[];
  len: number[];
  step: number;
}

function runsOf(chunkShape: readonly number[], start: readonly number[], count: readonly number[], itemSize: number, shuffle: number): Runs {
  const runs: Runs = { src: [], dst: [], len: [], step: shuffle || 1 };
  if (!shuffle) {
    forEachRun(chunkShape, start, count, (s, d, n) => {
      runs.src.push(s * itemSize);
      runs.dst.push(d * itemSize);
      runs.len.push(n * itemSize);
    });
    return runs;
  }
  // Plane k holds byte k of every element: element e's byte k is at k * elements + e.
  const elements = product(chunkShape);
  const el: number[][] = [[], [], []];
  forEachRun(chunkShape, start, count, (s, d, n) => void (el[0]!.push(s), el[1]!.push(d), el[2]!.push(n)));
  for (let k = 0; k < shuffle; k++) {
    el[0]!.forEach((s, r) => {
      runs.src.push(k * elements + s);
      runs.dst.push(el[1]![r]! * shuffle + k);
      runs.len.push(el[2]![r]!);
    });
  }
  return runs;
}

/**
 * A consumer of a chunk's decoded bytes, in order, copying the runs into `out`; returns false once
 * every run is complete (the caller stops decoding). `seen()` is the number of bytes consumed.
 */
function picker(runs: Runs, out: Uint8Array): { take(piece: Uint8Array): boolean; seen(): number } {
  let pos = 0, r = 0;
  const n = runs.src.length, step = runs.step;
  return {
    take(piece) {
      const end = pos + piece.byteLength;
      while (r < n) {
        const a = runs.src[r]!, len = runs.len[r]!;
        if (a >= end) break;
        const from = Math.max(a, pos), to = Math.min(a + len, end), at = runs.dst[r]! + (from - a) * step;
        // Point queries copy thousands of one-element runs: a loop, not a subarray each.
        if (step !== 1) for (let k = from; k < to; k++) out[at + (k - from) * step] = piece[k - pos]!;
        else if (to - from <= 16) for (let k = from; k < to; k++) out[at + k - from] = piece[k - pos]!;
        else out.set(piece.subarray(from - pos, to - pos), at);
        if (a + len > end) break;
        r++;
      }
      pos = end;
      return r < n;
    },
    seen: () => pos,
  };
}

/** One chunk's decoding: compressed pieces in (false: stop feeding), then finish (throws on bad data). */
interface Session {
  feed(piece: Uint8Array): Promise<boolean>;
  finish(): Promise<void>;
}
type Decoder = (take: (piece: Uint8Array) => boolean) => Session;

/** Bytes as they are (uncompressed chunks). */
const identity: Decoder = (take) => {
  let more = true;
  return { feed: async (piece) => (more = more && take(piece)), finish: async () => {} };
};

/** node:zlib's zstd on the libuv pool: the chunks of one read decode in parallel. */
function nodeZstdSession(take: (piece: Uint8Array) => boolean): Session {
  const s = nodeZstd.createZstdDecompress({ chunkSize: PIECE });
  let stopped = false;
  const ended = new Promise<void>((resolve, reject) => {
    s.on("data", (b: Buffer) => {
      if (stopped || take(b)) return;
      stopped = true;
      s.destroy();
      resolve();
    });
    s.once("error", (e) => (stopped ? resolve() : reject(e)));
    s.once("end", resolve);
  });
  ended.catch(() => {}); // surfaced by finish()
  return {
    // The callback comes once zlib is done with the piece, so the caller may reuse its buffer.
    feed: (piece) => new Promise((resolve) => (stopped ? resolve(false) : s.write(piece, () => resolve(!stopped)))),
    finish: async () => {
      if (!stopped) s.end();
      await ended;
    },
  };
}

/**
 * The piece-wise zstd decoder this machine has, or undefined: the addon first — synchronous, into
 * pooled pieces, it beat node:zlib's streams even with those decoding two chunks in parallel (point
 * query, Node 24: 47-49 ms against 57-95 ms; node:zlib allocates every output piece afresh) — then
 * node:zlib.
 */
function zstdDecoder(): Decoder | undefined {
  const addon = zstdAddon();
  if (addon) {
    return (take) => {
      const d = addon.pieceDecoder(take);
      return { feed: async (src) => d.feed(src), finish: async () => d.finish() };
    };
  }
  return hasNativeZstd ? nodeZstdSession : undefined;
}

/**
 * A fast reader for the array at `path` (store-relative, "/T2M") with metadata `meta`, reading chunks
 * through `get`; undefined when the array's layout or this machine is outside the fast path.
 */
export function fastArray(get: Getter, path: string, meta: Meta, format: 2 | 3, pieces?: PieceReader): FastArray | undefined {
  const layout = format === 2 ? v2Layout(meta) : v3Layout(meta);
  if (!layout) return undefined;
  const decoder = layout.zstd ? zstdDecoder() : identity;
  if (!decoder) return undefined;
  const { dtype, shape, chunks, fill } = layout;
  const chunkBytes = product(chunks) * itemSize(dtype);
  const prefix = path.replace(/\/+$/, "");

  return {
    async read(start, count) {
      const why = validateRegion(shape, start, count);
      if (why) throw new ConvertError("Usage", `${path}: ${why}`);
      const out = allocate(dtype, product(count)) as Exclude<ArrayData, string[]>;
      if (count.some((c) => c === 0)) return out;
      const limit = pLimit(FETCHES);
      await Promise.all([...cartesian(chunkIndices(start, count, chunks))].map((coords) => limit(async () => {
        const lo = coords.map((c, i) => Math.max(start[i]!, c * chunks[i]!));
        const n = coords.map((c, i) => Math.min(start[i]! + count[i]!, (c + 1) * chunks[i]!) - lo[i]!);
        const at = lo.map((l, i) => l - start[i]!);
        const key = `${prefix}/${layout.key(coords)}`;
        const piece = allocate(dtype, product(n)) as Exclude<ArrayData, string[]>;
        const p = picker(runsOf(chunks, lo.map((l, i) => l - coords[i]! * chunks[i]!), n, piece.BYTES_PER_ELEMENT, layout.shuffle), new Uint8Array(piece.buffer));
        let more = true, session: Session | undefined;
        // Started on the first bytes: a chunk never written has none, and no decoder to finish.
        const feed = (b: Uint8Array) => (session ??= decoder((d) => (more = p.take(d)))).feed(b);
        // Streamed from the store when it can (no chunk-sized buffer at all), else fetched whole.
        const found = pieces
          ? (await pieces(key as `/${string}`, feed)) !== undefined
          : await get(key as `/${string}`).then((raw) => raw && feed(raw).then(() => true));
        await session?.finish();
        if (!found) (piece as unknown as { fill(v: number | bigint): void }).fill(fill);
        // A chunk that ran out before the region did is short; one that ended the region long enough.
        else if (more || p.seen() > chunkBytes) {
          throw new ConvertError("VerifyFailed", `chunk ${key} decodes to ${p.seen()} bytes, expected ${chunkBytes}`);
        }
        copyRegion(out, count, piece, n, at);
      })));
      return out;
    },
  };
}
