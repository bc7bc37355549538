import { sniffFormat } from "./sniff.js";
import { openNetcdf3 } from "./netcdf3.js";
import { openNetcdf4 } from "./netcdf4.js";
import type { SourceFile } from "./types.js";

/** Opens a NetCDF-3 or NetCDF-4/HDF5 file, chosen by its magic bytes; reads metadata only. */
export async function openSource(path: string): Promise<SourceFile> {
  const format = sniffFormat(path);
  return format === "NETCDF4" ? openNetcdf4(path) : openNetcdf3(path, format);
}
