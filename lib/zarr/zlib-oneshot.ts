/**
 * One buffer in, one buffer out, through a node:zlib stream on the libuv thread pool (so several
 * chunks encode or decode at once). node:zlib's own callback API (zlib.zstdCompress(buf, cb) and
 * friends) ends with Buffer.concat even when the output came in one piece — a copy of every chunk —
 * so this collects the pieces itself and hands back the single piece as it is.
 */
import type { Transform } from "node:stream";
import * as zlib from "node:zlib";

/** node:zlib's zstd streams, which @types/node 20 does not declare (Node ≥ 22.15 has them). */
interface NodeZstd {
  zstdCompress?: unknown;
  createZstdCompress(o: object): Transform;
  createZstdDecompress(o: object): Transform;
  constants: Record<string, number>;
}
export const nodeZstd = zlib as unknown as NodeZstd;
/** Node ≥ 22.15 ships libzstd in node:zlib, 2-3x the WASM codec. */
export const hasNativeZstd = typeof nodeZstd.zstdCompress === "function";

export function oneShot(stream: Transform, input: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    stream.on("data", (b: Buffer) => {
      parts.push(b);
      n += b.byteLength;
    });
    stream.once("error", reject);
    stream.once("end", () => {
      const b = parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
      resolve(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    });
    stream.end(input);
  });
}

/**
 * Output buffer size for one-shot calls: room for the whole result (or its bound) and the stream's
 * end. With the default 16 KiB, a 2 MiB chunk takes ~100 thread-pool round trips (native zstd ran at
 * 111 MB/s instead of 253 MB/s, Node 24, one core, measured); with exactly the result's size, zlib
 * allocates a second buffer just to see the end.
 */
export const outputRoom = (n: number): number => Math.max(64 * 1024, n + (n >> 8) + 1024);
