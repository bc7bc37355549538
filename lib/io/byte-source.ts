/**
 * Synchronous random access to the bytes of one input file, wherever it lives. Every source reader
 * (NetCDF-3, HDF5 through h5wasm, the HDF5 chunk index) reads through this, so a local file and an
 * object on S3 take the same code path. Synchronous because HDF5 (in wasm) calls back for bytes and
 * cannot wait for a promise.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { ConvertError } from "../errors.js";
import { noteRequest } from "../store/metrics.js";

export interface ByteSource {
  /** The path or s3:// URL, for messages. */
  readonly url: string;
  readonly size: number;
  /** Copies up to `length` bytes at `position` into `out[offset…]`; returns how many (fewer only at the end). */
  readInto(position: number, length: number, out: Uint8Array, offset: number): number;
  close(): void;
}

/** Exactly `length` bytes at `position`, or a "truncated" error naming the source. */
export function readExact(src: ByteSource, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const got = src.readInto(position, length, out, 0);
  if (got < length) throw new ConvertError("Corrupt", `truncated: unexpected end of file at byte ${position + got}`, src.url);
  return out;
}

/** Reads from local files in this thread (count and bytes): what benchmarks report for local disk. */
export const localReads = { count: 0, bytes: 0 };

export class FileByteSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;

  /** `counted`: false for our own temporary copies, whose reads are not the user's disk traffic. */
  constructor(readonly url: string, private readonly counted = true) {
    let fd: number;
    try {
      fd = openSync(url, "r");
    } catch (e) {
      throw openError(url, e);
    }
    const st = fstatSync(fd);
    if (st.isDirectory()) {
      closeSync(fd);
      throw new ConvertError("Unreadable", "is a directory, not a file", url);
    }
    this.fd = fd;
    this.size = st.size;
  }

  readInto(position: number, length: number, out: Uint8Array, offset: number): number {
    if (this.fd === undefined) throw new ConvertError("Usage", "file already closed", this.url);
    const want = Math.max(0, Math.min(length, this.size - position));
    if (this.counted) noteRequest();
    let done = 0;
    while (done < want) {
      const got = readSync(this.fd, out, offset + done, want - done, position + done);
      if (got === 0) break;
      done += got;
    }
    if (this.counted) {
      localReads.count++;
      localReads.bytes += done;
    }
    return done;
  }

  close() {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export function openError(path: string, e: unknown): ConvertError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT") return new ConvertError("NotFound", "no such file", path);
  if (code === "EACCES" || code === "EPERM") return new ConvertError("Unreadable", "permission denied", path);
  if (code === "EISDIR") return new ConvertError("Unreadable", "is a directory, not a file", path);
  return new ConvertError("Unreadable", `cannot read file (${code ?? String(e)})`, path);
}
