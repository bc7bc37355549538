/**
 * libzstd through the zstd-napi addon, an optional dependency compiled at install time by
 * tools/build-native.sh. It does what node:zlib cannot: Node 20 has no zstd at all (WASM runs at
 * 70-90 MB/s where libzstd encodes at ~200), and no Node version decodes into a buffer the caller
 * owns — decoding a 35 MB chunk into a reused buffer takes ~21 ms, into a fresh one 35-40 ms, the
 * difference being the fresh buffer's page faults (measured, both Node versions).
 *
 * The calls are synchronous (the addon has no async API): right for worker threads and for decoding
 * one chunk after another into one buffer; node:zlib's async streams stay the choice where chunks
 * should encode in parallel on the libuv pool. Absent addon (a failed build, the slim worker image,
 * CONVERT_TO_ZARR_ZSTD_ADDON=0): every caller falls back to node:zlib or numcodecs.js.
 */
import { createRequire } from "node:module";

interface Binding {
  CCtx: new () => {
    setParameter(param: number, value: number): void;
    compress2(dst: Uint8Array, src: Uint8Array): number;
  };
  DCtx: new () => {
    decompress(dst: Uint8Array, src: Uint8Array): number;
    decompressStream(dst: Uint8Array, src: Uint8Array): [ret: number, produced: number, consumed: number];
    reset(directive: number): void;
  };
  ResetDirective: Record<string, number>;
  CParameter: Record<string, number>;
  getFrameContentSize(frame: Uint8Array): number | null;
  findFrameCompressedSize(frame: Uint8Array): number;
  compressBound(n: number): number;
  versionString(): string;
}

/** A growable output buffer, reused from call to call (the caller owns what it holds until its next use). */
export class Scratch {
  #buf = new Uint8Array(0);
  #side: Scratch | undefined;
  /** At least n bytes; the contents are not kept when it grows. */
  get(n: number): Uint8Array {
    if (this.#buf.byteLength < n) this.#buf = new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
    return this.#buf;
  }
  /** A second buffer that lives as long as this one (a filter's output before the compressor's). */
  get side(): Scratch {
    return (this.#side ??= new Scratch());
  }
}

export interface ZstdAddon {
  version: string;
  /** One frame with its content size in the header (numcodecs < 0.13 needs it), into `out` when given. */
  compress(src: Uint8Array, level: number, out?: Scratch): Uint8Array;
  /** The frame's content, into `out` when given; undefined unless `src` is one frame that declares its size. */
  decompress(src: Uint8Array, out?: Scratch): Uint8Array | undefined;
  /**
   * A streaming decoder: compressed bytes go in by `feed` (any split), decoded bytes come out through
   * `piece`, handed whole (but the last) to `take` as views valid during the call. `feed` returns
   * false once `take` has returned false (stop: the caller needs no more); `finish` checks that the
   * data ended where a frame does and hands the context back. Sessions may interleave.
   */
  pieceDecoder(take: (bytes: Uint8Array) => boolean): { feed(src: Uint8Array): boolean; finish(): void };
}

let loaded: ZstdAddon | null | undefined;
/** Decoded piece size of pieceDecoder: big enough that per-call overhead vanishes, small enough to stay in cache. */
const PIECE = 1 << 20;

/** The addon, or undefined when it is not built, fails to load, or CONVERT_TO_ZARR_ZSTD_ADDON=0. */
export function zstdAddon(): ZstdAddon | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  loaded = null;
  if (process.env["CONVERT_TO_ZARR_ZSTD_ADDON"] === "0") return undefined;
  let b: Binding;
  try {
    b = createRequire(import.meta.url)("zstd-napi/binding") as Binding;
  } catch {
    return undefined;
  }
  // One context each per thread (module state is per thread), reused: creating one allocates its tables.
  const cctx = new b.CCtx(), dctx = new b.DCtx();
  let cLevel: number | undefined;
  const sessions: { ctx: InstanceType<Binding["DCtx"]>; piece: Uint8Array }[] = [];
  loaded = {
    version: b.versionString(),
    compress(src, level, out) {
      if (level !== cLevel) {
        cctx.setParameter(b.CParameter["compressionLevel"]!, level);
        cLevel = level;
      }
      const bound = b.compressBound(src.byteLength);
      const dst = out ? out.get(bound) : new Uint8Array(bound);
      return dst.subarray(0, cctx.compress2(dst, src));
    },
    decompress(src, out) {
      const size = b.getFrameContentSize(src);
      // Several concatenated frames are valid zstd too, but the first header sizes only the first.
      if (size === null || b.findFrameCompressedSize(src) !== src.byteLength) return undefined;
      const dst = out ? out.get(size) : new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
      const n = dctx.decompress(dst, src);
      return dst.subarray(0, n);
    },
    pieceDecoder(take) {
      // Contexts and piece buffers are pooled: each holds a window and tables worth reusing warm.
      const { ctx, piece } = sessions.pop() ?? { ctx: new b.DCtx(), piece: new Uint8Array(PIECE) };
      let filled = 0, frameDone = true, stopped = false, done = false;
      const flush = (last: boolean) => {
        // Whole pieces only (but the last), so a piece never ends inside an element.
        if (filled === 0 || (!last && filled < piece.byteLength)) return;
        stopped = !take(piece.subarray(0, filled));
        filled = 0;
      };
      const reset = () => ctx.reset(b.ResetDirective["sessionOnly"]!);
      const release = () => {
        if (done) return;
        done = true;
        reset();
        sessions.push({ ctx, piece });
      };
      return {
        feed(src) {
          let off = 0;
          try {
            while (!stopped && off < src.byteLength) {
              const [ret, produced, consumed] = ctx.decompressStream(piece.subarray(filled), src.subarray(off));
              off += consumed;
              filled += produced;
              frameDone = ret === 0;
              flush(false);
              if (produced === 0 && consumed === 0) throw new Error("zstd decoder made no progress");
            }
            // Input used up, output may still be pending inside the context (a full piece stopped it).
            while (!stopped && !frameDone) {
              const [ret, produced] = ctx.decompressStream(piece.subarray(filled), src.subarray(src.byteLength));
              filled += produced;
              frameDone = ret === 0;
              flush(false);
              if (produced === 0) break;
            }
          } catch (e) {
            release();
            throw e;
          }
          return !stopped;
        },
        finish() {
          if (done) return;
          if (!stopped) flush(true);
          release();
          if (!stopped && !frameDone) throw new Error("zstd data ends inside a frame");
        },
      };
    },
  };
  return loaded;
}
