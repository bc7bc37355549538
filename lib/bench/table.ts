/** The benchmark report as a terminal table, with the before/after ratios. */
import { formatBytes } from "../format.js";
import type { BenchLine, BenchReport } from "./run.js";
import type { SweepPoint } from "./sweep.js";

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function formatBenchLine(l: BenchLine): string[] {
  return [l.query, l.source, ms(l.cold.medianMs), ms(l.cold.p90Ms), ms(l.warm.medianMs), String(l.requests),
    formatBytes(l.bytesTransferred), formatBytes(l.bytesDecoded), l.lowerBoundMs > 0 ? ms(l.lowerBoundMs) : "-"];
}

export const BENCH_HEAD = ["query", "source", "cold ms", "cold p90", "warm ms", "requests", "transferred", "decoded", "bound ms"];

export function table(rows: string[][], head: string[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  return [fmt(head), ...rows.map(fmt)].join("\n");
}

/** NetCDF time ÷ Zarr time per query (cold medians): how many times faster the converted store is. */
export function speedups(r: BenchReport): { query: string; source: string; ratio: number }[] {
  const out: { query: string; source: string; ratio: number }[] = [];
  for (const z of r.lines.filter((l) => l.source === "zarr")) {
    for (const n of r.lines.filter((l) => l.query === z.query && l.source !== "zarr")) {
      out.push({ query: z.query, source: n.source, ratio: n.cold.medianMs / z.cold.medianMs });
    }
  }
  return out;
}

export function formatBench(r: BenchReport): string {
  const head = `profile: ${r.profile.name}${r.simulated ? ` — SIMULATED latency (${r.profile.firstByteMs} ms + U[0, ${r.profile.jitterMs}) ms first byte, ${r.profile.bytesPerSecond / 1e6} MB/s per connection)` : ""}; ${r.repeats} cold and ${r.repeats} warm runs each, medians`;
  const lines = [head, table(r.lines.map(formatBenchLine), BENCH_HEAD)];
  for (const l of r.lines.filter((x) => x.source === "zarr")) lines.push(`${l.query}: ${l.describe}`);
  for (const s of speedups(r)) {
    lines.push(`${s.query}: Zarr is ${s.ratio >= 1 ? `${s.ratio.toFixed(1)}x faster` : `${(1 / s.ratio).toFixed(1)}x slower`} than ${s.source} (cold medians)`);
  }
  return lines.join("\n");
}

export function formatSweep(points: readonly SweepPoint[]): string {
  const queries = [...new Set(points.flatMap((p) => p.queries.map((q) => q.query)))];
  const head = ["chunks", "store", "convert s", "objects", "stored", ...queries.map((q) => `${q} ms`)];
  const rows = points.map((p) => [p.label, p.store, p.convertSeconds.toFixed(2), String(p.objects), formatBytes(p.storedBytes),
    ...queries.map((q) => ms(p.queries.find((l) => l.query === q)?.cold.medianMs ?? NaN))]);
  return table(rows, head);
}
