import { sniffFormat } from "./sniff.js";
import { openNetcdf3 } from "./netcdf3.js";
import { ConvertError } from "../errors.js";
import { openNetcdf4, openNetcdf4Data } from "./netcdf4.js";
import type { Dataset } from "../model.js";
import type { SourceFile } from "./types.js";
import { openByteSource } from "../io/open.js";

/** Opens a NetCDF-3 or NetCDF-4/HDF5 file, chosen by its magic bytes; reads metadata only. */
export async function openSource(path: string): Promise<SourceFile> {
  const src = openByteSource(path);
  let format;
  try {
    format = sniffFormat(src);
  } catch (e) {
    src.close();
    throw e;
  }
  return format === "NETCDF4" ? openNetcdf4(src) : openNetcdf3(src, format);
}

/**
 * Opens a file for reading data only, synchronously, describing it by `like` (another file of a
 * checked collection): NetCDF-3 always, NetCDF-4 once h5wasm has been loaded by an async open.
 */
export function openSourceSync(path: string, like: Dataset): SourceFile {
  const src = openByteSource(path);
  let format;
  try {
    format = sniffFormat(src);
  } catch (e) {
    src.close();
    throw e;
  }
  if (format !== "NETCDF4") return openNetcdf3(src, format);
  const f = openNetcdf4Data(src, like);
  if (!f) {
    src.close();
    throw new ConvertError("Unreadable", "HDF5 reader not loaded yet (open a NetCDF-4 file asynchronously first)", path);
  }
  return f;
}
