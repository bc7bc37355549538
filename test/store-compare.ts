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

/** The differences between two key → bytes maps, as readable lines (empty when byte-identical). */
export function differences(a: Map<string, Buffer>, b: Map<string, Buffer>): string[] {
  const d: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w) d.push(`only in first: ${k}`);
    else if (!v.equals(w)) d.push(`differs: ${k}`);
  }
  for (const k of b.keys()) if (!a.has(k)) d.push(`only in second: ${k}`);
  return d;
}

/** The differences between two store directories (empty when byte-identical). */
export function storeDifferences(a: string, b: string): string[] {
  return differences(snapshot(a), snapshot(b));
}
