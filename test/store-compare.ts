import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** Every file below a directory: relative path → bytes. */
export function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** The differences between two store directories, as readable lines (empty when byte-identical). */
export function storeDifferences(a: string, b: string): string[] {
  const x = snapshot(a), y = snapshot(b);
  const diffs: string[] = [];
  for (const [k, v] of x) {
    const w = y.get(k);
    if (!w) diffs.push(`only in first: ${k}`);
    else if (!v.equals(w)) diffs.push(`differs: ${k}`);
  }
  for (const k of y.keys()) if (!x.has(k)) diffs.push(`only in second: ${k}`);
  return diffs;
}
