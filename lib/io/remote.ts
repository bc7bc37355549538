/**
 * An object on S3 as a ByteSource: ranged GETs through the synchronous bridge, behind a block cache
 * shared by the thread's remote files. HDF5 and NetCDF-3 metadata is read in many small pieces, so
 * small reads are rounded out to whole 256 KiB blocks (one request opens a typical file); reads of
 * four blocks or more (compressed chunks, data runs) go straight through, uncached.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LRUCache } from "lru-cache";
import pLimit from "p-limit";
import { S3Store } from "../store/s3.js";
import { parseS3Url } from "../store/s3-url.js";
import { inputS3Settings } from "../store/s3-config.js";
import type { StoreKey } from "../store/types.js";
import { ConvertError } from "../errors.js";
import { FileByteSource, type ByteSource } from "./byte-source.js";
import { s3Bridge } from "./s3-bridge.js";

export const BLOCK_SIZE = 256 << 10;
const DIRECT_READ = 4 * BLOCK_SIZE;
const blocks = new LRUCache<string, Uint8Array>({ maxSize: 64 << 20, sizeCalculation: (b) => Math.max(1, b.byteLength) });
/** Object sizes learnt by prefetchHeads, so opening does not HEAD again. */
const sizes = new Map<string, number>();

/**
 * Fetches the size and first block of many objects at once (16 in flight), so that opening a
 * collection costs about one round trip instead of two per file, one file after another.
 */
export async function prefetchHeads(urls: readonly string[], concurrency = 16): Promise<void> {
  const limit = pLimit(concurrency);
  const stores = new Map<string, S3Store>();
  const settings = inputS3Settings();
  await Promise.all(urls.map((url) => limit(async () => {
    const { bucket, prefix } = parseS3Url(url);
    let store = stores.get(bucket);
    if (!store) stores.set(bucket, (store = new S3Store(`s3://${bucket}`, { settings })));
    const key = `/${prefix}` as StoreKey;
    const [head, first] = await Promise.all([store.head(key), store.readRange(key, 0, BLOCK_SIZE)]);
    if (!head || !first) return; // opening reports it, with the usual message
    sizes.set(url, head.size);
    blocks.set(`${url}#0`, first);
  })));
}

export class RemoteByteSource implements ByteSource {
  readonly size: number;

  constructor(readonly url: string) {
    const size = sizes.get(url) ?? s3Bridge().call({ op: "head", url }).size ?? -1;
    if (size < 0) throw new ConvertError("NotFound", "no such object", url);
    this.size = size;
  }

  /** Exactly `length` bytes (the caller never asks past the end); a short answer is an error, never zeros. */
  private fetch(offset: number, length: number): Uint8Array {
    const b = s3Bridge().call({ op: "range", url: this.url, offset, length }).bytes ?? new Uint8Array(0);
    if (b.byteLength !== length) {
      throw new ConvertError("Remote", `short read: ${b.byteLength} of ${length} bytes at ${offset} (object changed or connection cut?)`, this.url);
    }
    return b;
  }

  readInto(position: number, length: number, out: Uint8Array, offset: number): number {
    const want = Math.max(0, Math.min(length, this.size - position));
    if (want === 0) return 0;
    if (want >= DIRECT_READ) {
      const b = this.fetch(position, want);
      out.set(b, offset);
      return b.byteLength;
    }
    const first = Math.floor(position / BLOCK_SIZE), last = Math.floor((position + want - 1) / BLOCK_SIZE);
    const missing: number[] = [];
    for (let i = first; i <= last; i++) if (!blocks.has(`${this.url}#${i}`)) missing.push(i);
    if (missing.length > 0) {
      // One request for the run of missing blocks.
      const lo = missing[0]!, hi = missing[missing.length - 1]!;
      const start = lo * BLOCK_SIZE, b = this.fetch(start, Math.min((hi + 1) * BLOCK_SIZE, this.size) - start);
      for (let i = lo; i <= hi; i++) blocks.set(`${this.url}#${i}`, b.subarray((i - lo) * BLOCK_SIZE, (i - lo + 1) * BLOCK_SIZE));
    }
    let done = 0;
    for (let i = first; i <= last && done < want; i++) {
      const block = blocks.get(`${this.url}#${i}`)!;
      const from = position + done - i * BLOCK_SIZE;
      const n = Math.min(want - done, block.byteLength - from);
      if (n <= 0) break;
      out.set(block.subarray(from, from + n), offset + done);
      done += n;
    }
    return done;
  }

  close() {}
}

/** The whole object copied to a temporary file first: for reading most of a file anyway. */
export class DownloadedByteSource implements ByteSource {
  private readonly dir: string;
  private readonly file: FileByteSource;
  readonly size: number;

  constructor(readonly url: string) {
    this.dir = mkdtempSync(join(tmpdir(), "convert-to-zarr-"));
    const to = join(this.dir, "object");
    try {
      const size = s3Bridge().call({ op: "download", url, to }).size ?? -1;
      if (size < 0) throw new ConvertError("NotFound", "no such object", url);
      this.file = new FileByteSource(to, false);
    } catch (e) {
      rmSync(this.dir, { recursive: true, force: true });
      throw e;
    }
    this.size = this.file.size;
  }

  readInto(position: number, length: number, out: Uint8Array, offset: number): number {
    return this.file.readInto(position, length, out, offset);
  }

  close() {
    this.file.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Drops every cached block (a cold start, for benchmarks). */
export function clearBlockCache(): void {
  blocks.clear();
  sizes.clear();
}
