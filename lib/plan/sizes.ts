import { ConvertError } from "../errors.js";

const UNITS: Record<string, number> = {
  "": 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** Parses "1GiB", "512MB", "1e9", "300 MiB" (like dask's and rechunker's max_mem). */
export function parseBytes(text: string, option = "--max-mem"): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ConvertError("Usage", `${option}: expected a size like 1GiB or 512MB, got "${text}"`);
  const n = Math.floor(Number(m[1]) * unit);
  if (!(n > 0)) throw new ConvertError("Usage", `${option}: must be positive, got "${text}"`);
  return n;
}
