import { FileByteSource, type ByteSource } from "../io/byte-source.js";
import { ConvertError } from "../errors.js";
import type { SourceFormat } from "../model.js";

export { openError } from "../io/byte-source.js";

const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Identifies a file by its magic bytes: "CDF\x01|\x02|\x05" for NetCDF-3, the HDF5 signature at
 * offset 0 or, after a user block, at 512, 1024, 2048, … (powers of two, as the HDF5 spec says).
 */
export function sniffFormat(source: ByteSource | string): SourceFormat {
  if (typeof source === "string") {
    const src = new FileByteSource(source);
    try {
      return sniffFormat(src);
    } finally {
      src.close();
    }
  }
  const src = source;
  const size = src.size, path = src.url;
  if (size === 0) throw new ConvertError("NotNetCDF", "empty file, not NetCDF", path);
  const head = Buffer.alloc(8);
  const n = src.readInto(0, 8, head, 0);
  if (n >= 4 && head.toString("latin1", 0, 3) === "CDF") {
    switch (head[3]) {
      case 1: return "NETCDF3_CLASSIC";
      case 2: return "NETCDF3_64BIT_OFFSET";
      case 5: return "NETCDF3_64BIT_DATA";
      default: throw new ConvertError("NotNetCDF", `unknown NetCDF-3 version byte ${head[3]}`, path);
    }
  }
  for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
    src.readInto(off, 8, head, 0);
    if (head.equals(HDF5_MAGIC)) return "NETCDF4";
  }
  throw new ConvertError("NotNetCDF", "not a NetCDF or HDF5 file (no NetCDF-3 or HDF5 signature)", path);
}
