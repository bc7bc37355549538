import type { ArrayData, Dataset } from "../model.js";
import type { ChunkIndex } from "./hdf5-chunks.js";

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
  /** HDF5 sources: where each stored chunk of a variable lies, when the chunk index is readable. */
  chunkLocations?(varPath: string): ChunkIndex | undefined;
  /** Raw bytes of the file (for copying a located chunk). */
  readRaw?(offset: number, size: number): Uint8Array;
  close(): void;
}
