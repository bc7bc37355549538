import { sniffFormat } from "./sniff.js";
import { openNetcdf3 } from "./netcdf3.js";
import { ConvertError } from "../errors.js";
import { openNetcdf4, openNetcdf4Data } from "./netcdf4.js";
import type { Dataset } from "../model.js";
import type { SourceFile } from "./types.js";

/** Opens a NetCDF-3 or NetCDF-4/HDF5 file, chosen by its magic bytes; reads metadata only. */
export async function openSource(path: string): Promise<SourceFile> {
  const format = sniffFormat(path);
  return format === "NETCDF4" ? openNetcdf4(path) : openNetcdf3(path, format);
}

/**
 * Opens a file for reading data only, synchronously, describing it by `like` (another file of a
 * checked collection): NetCDF-3 always, NetCDF-4 once h5wasm has been loaded by an async open.
 */
export function openSourceSync(path: string, like: Dataset): SourceFile {
  const format = sniffFormat(path);
  if (format !== "NETCDF4") return openNetcdf3(path, format);
  const f = openNetcdf4Data(path, like);
  if (!f) throw new ConvertError("Unreadable", "HDF5 reader not loaded yet (open a NetCDF-4 file asynchronously first)", path);
  return f;
}
