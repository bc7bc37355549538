import { sniffFormat } from "./sniff.js";
import { openNetcdf3 } from "./netcdf3.js";
import { ConvertError } from "../errors.js";
import { openNetcdf4, openNetcdf4Data } from "./netcdf4.js";
import type { Dataset, SourceFormat } from "../model.js";
import type { ByteSource } from "../io/byte-source.js";
import type { SourceFile } from "./types.js";
import { openByteSource } from "../io/open.js";

/** The bytes of a file and its format; nothing is left open when the format is not NetCDF. */
function openSniffed(path: string): { src: ByteSource; format: SourceFormat } {
  const src = openByteSource(path);
  try {
    return { src, format: sniffFormat(src) };
  } catch (e) {
    src.close();
    throw e;
  }
}

/** Opens a NetCDF-3 or NetCDF-4/HDF5 file (a path or an s3:// URL), chosen by its magic bytes; reads metadata only. */
export async function openSource(path: string): Promise<SourceFile> {
  const { src, format } = openSniffed(path);
  return format === "NETCDF4" ? openNetcdf4(src) : openNetcdf3(src, format);
}

/**
 * Opens a file for reading data only, synchronously, describing it by `like` (another file of a
 * checked collection): NetCDF-3 always, NetCDF-4 once h5wasm has been loaded by an async open.
 */
export function openSourceSync(path: string, like: Dataset): SourceFile {
  const { src, format } = openSniffed(path);
  if (format !== "NETCDF4") return openNetcdf3(src, format);
  const f = openNetcdf4Data(src, like);
  if (!f) {
    src.close();
    throw new ConvertError("Unreadable", "HDF5 reader not loaded yet (open a NetCDF-4 file asynchronously first)", path);
  }
  return f;
}
