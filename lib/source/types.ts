import type { ArrayData, Dataset } from "../model.js";
import type { ChunkIndex } from "./hdf5-chunks.js";
import type { ChunkPlanes } from "./hdf5-direct.js";

/** An open source file: its metadata, and synchronous reads of rectangular regions. */
export interface SourceFile {
  readonly path: string;
  readonly dataset: Dataset;
  /**
   * Reads the region `[start, start + count)` of the variable at `varPath` (e.g. "/grp/sst"),
   * C order, native byte order. `char` data comes back as bytes, `string` data as strings.
   * `into`, if given, is where the caller wants the region's bytes (exactly its size, aligned to the
   * element size): a reader may decode straight into it and return a view of it, or ignore it.
   */
  read(varPath: string, start: readonly number[], count: readonly number[], into?: Uint8Array): ArrayData;
  /**
   * The stored chunk holding the region, decoded but still byte-shuffled (`size`-byte elements), when
   * the region lies in one chunk stored that way; else undefined (then `read` it). The planes may
   * live in a buffer the reader reuses: use them before its next read.
   */
  readPlanes?(varPath: string, start: readonly number[], count: readonly number[], size: number): ChunkPlanes | undefined;
  /** HDF5 sources: where each stored chunk of a variable lies, when the chunk index is readable. */
  chunkLocations?(varPath: string): ChunkIndex | undefined;
  /** Raw bytes of the file (a located chunk), into `into` (a view of it) when given and big enough. */
  readRaw?(offset: number, size: number, into?: Uint8Array): Uint8Array;
  close(): void;
}
