/**
 * Chunk compressors, with both their Zarr v2 and v3 metadata. Encoding is ours because zarrita
 * cannot encode gzip or vlen-utf8 and writes blosc unshuffled (FIELD-NOTES §3.3); decoding for
 * read-back stays with zarrita, an independent implementation.
 */
import * as zlib from "node:zlib";
import { ConvertError } from "../errors.js";
import { hasNativeZstd, nodeZstd, oneShot, outputRoom } from "./zlib-oneshot.js";
import { zstdAddon, type Scratch } from "./zstd-addon.js";
import { shuffle } from "./shuffle.js";
import { firstZstdFrame } from "./zstd-frame.js";
import { itemSize, type DType } from "../model.js";

/** "copy": keep the source's own compression where it maps onto Zarr codecs (else zstd). */
export type CodecName = "zstd" | "gzip" | "blosc" | "none" | "copy";
export const CODEC_NAMES: readonly CodecName[] = ["zstd", "gzip", "blosc", "none", "copy"];

export interface Compressor {
  readonly name: CodecName;
  readonly level: number | null;
  /** `.zarray` "compressor" entry. */
  v2(): Record<string, unknown> | null;
  /** `.zarray` "filters" entries before the compressor (copied HDF5 shuffle), if any. */
  v2Filters?(): Record<string, unknown>[];
  /** v3 bytes-to-bytes codec entries (itemSize for blosc's typesize); empty for none. */
  v3(itemSize: number): Record<string, unknown>[];
  /**
   * The encoded chunk; with `out`, possibly a view of its buffer, valid until the caller reuses it
   * (the caller must not reuse `out` before it has written the result).
   */
  encode(bytes: Uint8Array, out?: Scratch): Promise<Uint8Array>;
  /** Chunks are the source's own compressed bytes, copied as they are (encode is for exceptions). */
  readonly raw?: boolean;
  /** Element size of the byte shuffle applied before compressing, if any. */
  readonly shuffle?: number;
  /** As encode, for bytes already shuffled with that element size (a task assembles chunks so). */
  encodeShuffled?(planes: Uint8Array, out?: Scratch): Promise<Uint8Array>;
}

export { hasNativeZstd };

/**
 * Encoders in order of preference: the zstd-napi addon (libzstd, one pass, into the slot's reused
 * buffer), else node:zlib's libzstd (Node >= 22.15; async on the libuv pool), else numcodecs.js (WASM).
 * The addon comes first on every Node: on the seed job (Node 24, 2 cores) it took 18% less CPU than
 * node:zlib — which hands back a fresh chunk-sized buffer per chunk, and so page faults and garbage
 * collections — and ran 5-8% faster, even though node:zlib can encode a task's chunks in parallel.
 */
async function zstdEncoder(level: number): Promise<(b: Uint8Array, out?: Scratch) => Promise<Uint8Array>> {
  const addon = zstdAddon();
  if (addon) return async (b, out) => addon.compress(b, level, out);
  if (hasNativeZstd) {
    const c = nodeZstd.constants;
    const params = { [c["ZSTD_c_compressionLevel"]!]: level, [c["ZSTD_c_contentSizeFlag"]!]: 1 };
    // pledgedSrcSize puts the content size in the frame header; numcodecs < 0.13 cannot decode without it.
    // The whole chunk goes in with ZSTD_e_end, so libzstd compresses it in one pass (as the addon
    // does, to the same bytes) instead of buffering it through its window: 25-30% less CPU per chunk
    // (Node 24, 35 MB chunks). The stream's closing flush then adds an empty frame, left out.
    const once = { params, flush: c["ZSTD_e_end"]! };
    return async (b) => {
      const out = await oneShot(nodeZstd.createZstdCompress({ ...once, pledgedSrcSize: b.byteLength, chunkSize: outputRoom(b.byteLength) }), b);
      const frame = firstZstdFrame(out);
      if (!frame) throw new Error("node:zlib returned no whole zstd frame");
      return frame;
    };
  }
  const Zstd = (await import("numcodecs/zstd")).default;
  const codec = Zstd.fromConfig({ level, id: "zstd" });
  return async (b) => codec.encode(b) as Promise<Uint8Array>;
}

export async function makeCompressor(name: CodecName, level?: number): Promise<Compressor> {
  switch (name) {
    case "copy": // arrays that cannot be copied are re-encoded with the default
      return makeCompressor("zstd", level);
    case "none":
      return { name, level: null, v2: () => null, v3: () => [], encode: async (b) => b };
    case "zstd": {
      const lv = level ?? 3;
      if (lv < -131072 || lv > 22) throw new ConvertError("Usage", `zstd level must be between -131072 and 22, got ${lv}`);
      const enc = await zstdEncoder(lv);
      return {
        name, level: lv, encode: enc,
        v2: () => ({ id: "zstd", level: lv }),
        v3: () => [{ name: "zstd", configuration: { level: lv, checksum: false } }],
      };
    }
    case "gzip": {
      const lv = level ?? 5;
      if (lv < 0 || lv > 9) throw new ConvertError("Usage", `gzip level must be between 0 and 9, got ${lv}`);
      return {
        name, level: lv,
        encode: (b) => oneShot(zlib.createGzip({ level: lv, chunkSize: outputRoom(b.byteLength) }), b),
        v2: () => ({ id: "gzip", level: lv }),
        v3: () => [{ name: "gzip", configuration: { level: lv } }],
      };
    }
    case "blosc": {
      const lv = level ?? 5;
      if (lv < 0 || lv > 9) throw new ConvertError("Usage", `blosc level must be between 0 and 9, got ${lv}`);
      const Blosc = (await import("numcodecs/blosc")).default;
      // Byte shuffle really applied (numeric 1): zarrita's own v3 blosc never maps "shuffle" to 1.
      const codec = Blosc.fromConfig({ cname: "lz4", clevel: lv, shuffle: 1, blocksize: 0, id: "blosc" });
      return {
        name, level: lv,
        encode: async (b) => codec.encode(b) as Promise<Uint8Array>,
        v2: () => ({ id: "blosc", cname: "lz4", clevel: lv, shuffle: 1, blocksize: 0 }),
        // numcodecs.js always shuffles with a 4-byte typesize; the header records it, and readers use the header.
        v3: () => [{ name: "blosc", configuration: { cname: "lz4", clevel: lv, shuffle: "shuffle", typesize: 4, blocksize: 0 } }],
      };
    }
  }
}

/** Byte shuffle pays off for numbers of more than one byte (text and bytes have no planes to group). */
export function shufflable(dtype: DType): boolean {
  // Compound records interleave fields of different widths: no one element size to shuffle by.
  return dtype !== "compound" && dtype !== "char" && dtype !== "string" && itemSize(dtype) > 1;
}

/**
 * `inner` after numcodecs' byte shuffle (v2 filter "shuffle", v3 "numcodecs.shuffle"). On float32
 * temperatures, shuffle + zstd-3 stores 30% fewer bytes and encodes in half the time of zstd-3 alone:
 * the planes of high bytes are nearly constant. The shuffled bytes go into the slot's side buffer.
 */
export function withShuffle(inner: Compressor, size: number): Compressor {
  return {
    ...inner,
    shuffle: size,
    v2Filters: () => [{ id: "shuffle", elementsize: size }],
    v3: (s) => [{ name: "numcodecs.shuffle", configuration: { elementsize: size } }, ...inner.v3(s)],
    encode: (b, out) => inner.encode(shuffle(b, size, out ? out.side.get(b.byteLength) : new Uint8Array(b.byteLength)), out),
    encodeShuffled: (planes, out) => inner.encode(planes, out),
  };
}

/**
 * The Zarr form of an HDF5 filter pipeline whose chunks can be copied as they are: none, deflate, or
 * shuffle + deflate. An HDF5 deflate chunk is zlib data (RFC 1950), which is numcodecs' "zlib", and
 * HDF5's shuffle is numcodecs' "shuffle". Returns the reason when the pipeline has no such form.
 */
export function copyCompressor(filters: readonly { id: number; cdValues: readonly number[] }[], itemSize: number): Compressor | string {
  const ids = filters.map((f) => f.id);
  const shuffled = ids.length === 2 && ids[0] === 2 && ids[1] === 1;
  if (!(ids.length === 0 || (ids.length === 1 && ids[0] === 1) || shuffled)) {
    return `its HDF5 filters (${ids.join(", ")}) have no Zarr equivalent`;
  }
  if (shuffled && (filters[0]!.cdValues[0] ?? itemSize) !== itemSize) return "its shuffle element size differs from the type size";
  const level = ids.length ? (filters[ids.length - 1]!.cdValues[0] ?? 4) : null;
  const planes = shuffled ? [{ id: "shuffle", elementsize: itemSize }] : [];
  return {
    name: "copy", level, raw: true, ...(shuffled && { shuffle: itemSize }),
    v2: () => (level === null ? null : { id: "zlib", level }),
    v2Filters: () => planes,
    v3: () => [
      ...(shuffled ? [{ name: "numcodecs.shuffle", configuration: { elementsize: itemSize } }] : []),
      ...(level === null ? [] : [{ name: "numcodecs.zlib", configuration: { level } }]),
    ],
    // For the chunks that cannot be copied (skipped filters, unwritten chunks): the same pipeline.
    encode: async (b) => {
      const x = shuffled ? shuffle(b, itemSize, new Uint8Array(b.byteLength)) : b;
      return level === null ? x : oneShot(zlib.createDeflate({ level, chunkSize: outputRoom(x.byteLength) }), x);
    },
  };
}

/** numcodecs' VLenUTF8 layout: u32 item count, then (u32 byte length, UTF-8 bytes) per item, little-endian. */
export function encodeVlenUtf8(items: readonly string[]): Uint8Array {
  const enc = new TextEncoder();
  const parts = items.map((s) => enc.encode(s));
  const out = new Uint8Array(4 + parts.reduce((a, p) => a + 4 + p.length, 0));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.length, true);
  let pos = 4;
  for (const p of parts) {
    dv.setUint32(pos, p.length, true);
    out.set(p, pos + 4);
    pos += 4 + p.length;
  }
  return out;
}

/**
 * The codec and level a store's array was written with, and whether its bytes are shuffled first
 * (for appends).
 */
export function codecOfMetadata(format: 2 | 3, meta: Record<string, unknown>): { codec: CodecName; level: number | null; shuffle: boolean } {
  const unsupported = (what: string): never => {
    throw new ConvertError("Unsupported", `the store uses ${what}; appending supports zstd, gzip, blosc and none, optionally after shuffle`);
  };
  const known = (name: string, level: unknown, shuffle: boolean) => {
    if (name === "zstd" || name === "gzip" || name === "blosc") return { codec: name as CodecName, level: typeof level === "number" ? level : null, shuffle };
    return unsupported(`the ${name} codec`);
  };
  if (format === 2) {
    const filters = ((meta["filters"] ?? []) as { id: string }[]).filter((f) => f.id !== "vlen-utf8").map((f) => f.id);
    if (filters.length > 1 || (filters.length === 1 && filters[0] !== "shuffle")) unsupported(`the filters ${filters.join(" + ")}`);
    const c = meta["compressor"] as { id: string; level?: number; clevel?: number } | null;
    const shuffled = filters.length === 1;
    return c ? known(c.id, c.level ?? c.clevel, shuffled) : { codec: "none", level: null, shuffle: shuffled };
  }
  const codecs = ((meta["codecs"] ?? []) as { name: string; configuration?: { level?: number; clevel?: number } }[]).slice(1);
  const shuffled = codecs[0]?.name === "numcodecs.shuffle";
  const rest = shuffled ? codecs.slice(1) : codecs;
  if (rest.length > 1) unsupported(`the codecs ${codecs.map((c) => c.name).join(" + ")}`);
  const c = rest[0];
  return c ? known(c.name, c.configuration?.level ?? c.configuration?.clevel, shuffled) : { codec: "none", level: null, shuffle: shuffled };
}
