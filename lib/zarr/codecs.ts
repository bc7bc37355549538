/**
 * Chunk compressors, with both their Zarr v2 and v3 metadata. Encoding is ours because zarrita
 * cannot encode gzip or vlen-utf8 and writes blosc unshuffled (FIELD-NOTES §3.3); decoding for
 * read-back stays with zarrita, an independent implementation.
 */
import * as zlib from "node:zlib";
import { promisify } from "node:util";
import { ConvertError } from "../errors.js";

export type CodecName = "zstd" | "gzip" | "blosc" | "none";
export const CODEC_NAMES: readonly CodecName[] = ["zstd", "gzip", "blosc", "none"];

export interface Compressor {
  readonly name: CodecName;
  readonly level: number | null;
  /** `.zarray` "compressor" entry. */
  v2(): Record<string, unknown> | null;
  /** v3 bytes-to-bytes codec entry (itemSize for blosc's typesize), or null for none. */
  v3(itemSize: number): Record<string, unknown> | null;
  encode(bytes: Uint8Array): Promise<Uint8Array>;
}

const u8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/**
 * Output buffer size for one-shot node:zlib calls: the whole (bound of the) result at once. With the
 * default 16 KiB, a 2 MiB chunk takes ~100 thread-pool round trips; native zstd then ran at 111 MB/s
 * instead of 253 MB/s (Node 24, one core, measured).
 */
const oneShot = (n: number) => Math.max(64 * 1024, n + (n >> 8) + 1024);
const gzipAsync = promisify(zlib.gzip);

interface NativeZstd {
  zstdCompress?: (b: Uint8Array, o: object, cb: (e: Error | null, r: Buffer) => void) => void;
  constants: Record<string, number>;
}
/** Node ≥ 22.15 ships libzstd in node:zlib, 2-3x the WASM codec; older Node uses numcodecs.js. */
export const hasNativeZstd = typeof (zlib as unknown as NativeZstd).zstdCompress === "function";

async function zstdEncoder(level: number): Promise<(b: Uint8Array) => Promise<Uint8Array>> {
  if (hasNativeZstd) {
    const z = zlib as unknown as Required<NativeZstd>;
    const compress = promisify(z.zstdCompress);
    const params = { [z.constants["ZSTD_c_compressionLevel"]!]: level, [z.constants["ZSTD_c_contentSizeFlag"]!]: 1 };
    // pledgedSrcSize puts the content size in the frame header; numcodecs < 0.13 cannot decode without it.
    return async (b) => u8(await compress(b, { params, pledgedSrcSize: b.byteLength, chunkSize: oneShot(b.byteLength) }));
  }
  const Zstd = (await import("numcodecs/zstd")).default;
  const codec = Zstd.fromConfig({ level, id: "zstd" });
  return async (b) => codec.encode(b) as Promise<Uint8Array>;
}

export async function makeCompressor(name: CodecName, level?: number): Promise<Compressor> {
  switch (name) {
    case "none":
      return { name, level: null, v2: () => null, v3: () => null, encode: async (b) => b };
    case "zstd": {
      const lv = level ?? 3;
      if (lv < -131072 || lv > 22) throw new ConvertError("Usage", `zstd level must be between -131072 and 22, got ${lv}`);
      const enc = await zstdEncoder(lv);
      return {
        name, level: lv, encode: enc,
        v2: () => ({ id: "zstd", level: lv }),
        v3: () => ({ name: "zstd", configuration: { level: lv, checksum: false } }),
      };
    }
    case "gzip": {
      const lv = level ?? 5;
      if (lv < 0 || lv > 9) throw new ConvertError("Usage", `gzip level must be between 0 and 9, got ${lv}`);
      return {
        name, level: lv,
        encode: async (b) => u8(await gzipAsync(b, { level: lv, chunkSize: oneShot(b.byteLength) })),
        v2: () => ({ id: "gzip", level: lv }),
        v3: () => ({ name: "gzip", configuration: { level: lv } }),
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
        v3: () => ({ name: "blosc", configuration: { cname: "lz4", clevel: lv, shuffle: "shuffle", typesize: 4, blocksize: 0 } }),
      };
    }
  }
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

/** The codec and level a store was written with, from an array's metadata (for appends). */
export function codecOfMetadata(format: 2 | 3, meta: Record<string, unknown>): { codec: CodecName; level: number | null } {
  const known = (name: string, level: unknown) => {
    if (name === "zstd" || name === "gzip" || name === "blosc") return { codec: name as CodecName, level: typeof level === "number" ? level : null };
    throw new ConvertError("Unsupported", `the store uses the ${name} codec; appending supports zstd, gzip, blosc and none`);
  };
  if (format === 2) {
    const c = meta["compressor"] as { id: string; level?: number; clevel?: number } | null;
    return c ? known(c.id, c.level ?? c.clevel) : { codec: "none", level: null };
  }
  const codecs = (meta["codecs"] ?? []) as { name: string; configuration?: { level?: number; clevel?: number } }[];
  const c = codecs.slice(1)[0];
  return c ? known(c.name, c.configuration?.level ?? c.configuration?.clevel) : { codec: "none", level: null };
}
