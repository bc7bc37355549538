/**
 * Runs queries against NetCDF and Zarr and measures them: cold (fresh clients, connections and
 * caches, as a new user's first query) and warm (the same open dataset again), repeated; time,
 * requests, bytes transferred, bytes decoded, and the storage's lower bound; and it fails loudly if
 * the two formats return different values.
 */
import { ConvertError } from "../errors.js";
import { localReads } from "../io/byte-source.js";
import { setRemoteMode, type RemoteMode } from "../io/open.js";
import { clearBlockCache } from "../io/remote.js";
import { resetS3Bridge } from "../io/s3-bridge.js";
import type { ArrayData } from "../model.js";
import { PROFILES, type LatencyProfile } from "../s3local/proxy.js";
import { recordSpans, storageMetrics, totalsOf, type RequestSpan } from "../store/metrics.js";
import { resetS3Clients } from "../store/s3.js";
import { isS3Url } from "../store/s3-url.js";
import { decodedBytes, firstDifference, runQuery, type QueryResult, type QuerySpec } from "./queries.js";
import { openNetcdfDataset, openZarrDataset, type QueryDataset } from "./readers.js";
import { lowerBoundFromSpans, stats, type Stats } from "./stats.js";

export type Source = "netcdf" | "netcdf-download" | "zarr";

export interface Measurement {
  ms: number;
  requests: number;
  bytes: number;
  /** Every storage request's span, for the lower bound. */
  spans: RequestSpan[];
}

export interface BenchLine {
  source: Source;
  query: QuerySpec["kind"];
  /** The selection, in words. */
  describe: string;
  cold: Stats;
  warm: Stats;
  /** Per cold run (they are the same every run). */
  requests: number;
  bytesTransferred: number;
  bytesDecoded: number;
  /** The least time the storage allows for the cold run's requests and bytes. */
  lowerBoundMs: number;
}

export interface BenchReport {
  profile: LatencyProfile;
  /** True when latency was added by the proxy: results are simulated, not measured on S3. */
  simulated: boolean;
  netcdf: string;
  zarr: string;
  repeats: number;
  lines: BenchLine[];
  /** The queried values, per query, for plots (the Zarr side; equal to the NetCDF side by check). */
  results: Record<string, QueryResult>;
}

export interface BenchOptions {
  netcdf: readonly string[];
  zarr: string;
  queries: readonly QuerySpec[];
  repeats?: number;
  /** The profile requests go through (applied by a proxy the caller started); for the bound and labels. */
  profile?: LatencyProfile;
  /** Also time the NetCDF side with whole-file downloads (remote inputs only). */
  download?: boolean;
  /** Time the Zarr store only (chunk sweeps); no NetCDF comparison. */
  zarrOnly?: boolean;
  onLine?: (line: BenchLine) => void;
}

const ioNow = () => {
  const t = totalsOf(storageMetrics.summary());
  return { requests: t.requests + localReads.count, bytes: t.bytesIn + localReads.bytes };
};

/** Drops what a previous query left warm in this process: block cache, S3 clients, the reader thread. */
export function coldStart(): void {
  clearBlockCache();
  resetS3Clients();
  resetS3Bridge();
}

/** One query, timed from opening (unless `ds` is already open), with its storage requests, bytes and spans. */
export async function measure(open: () => Promise<QueryDataset>, spec: QuerySpec, ds?: QueryDataset): Promise<{ m: Measurement; result: QueryResult; ds: QueryDataset }> {
  const before = ioNow();
  recordSpans(true);
  const t0 = performance.now();
  const d = ds ?? (await open());
  const result = await runQuery(d, spec);
  const ms = performance.now() - t0;
  const after = ioNow();
  return { m: { ms, requests: after.requests - before.requests, bytes: after.bytes - before.bytes, spans: recordSpans(false) }, result, ds: d };
}

function assertSame(a: QueryResult, b: QueryResult, what: string): void {
  const i = firstDifference(a.values as ArrayData, b.values as ArrayData);
  if (i >= 0) {
    throw new ConvertError("VerifyFailed", `${what}: NetCDF and Zarr return different values at element ${i} of ${a.query.describe}`);
  }
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const repeats = Math.max(1, opts.repeats ?? 5);
  const profile = opts.profile ?? PROFILES.local;
  const remote = opts.netcdf.some(isS3Url) || isS3Url(opts.zarr);
  const all: { source: Source; open: () => Promise<QueryDataset>; mode?: RemoteMode }[] = [
    { source: "netcdf", open: () => openNetcdfDataset(opts.netcdf), mode: "ranged" },
    ...(opts.download && opts.netcdf.some(isS3Url) ? [{ source: "netcdf-download" as const, open: () => openNetcdfDataset(opts.netcdf), mode: "download" as const }] : []),
    { source: "zarr", open: () => openZarrDataset(opts.zarr) },
  ];
  const sources = opts.zarrOnly ? all.filter((s) => s.source === "zarr") : all;
  const report: BenchReport = {
    profile, simulated: profile.firstByteMs > 0 || profile.bytesPerSecond > 0, netcdf: opts.netcdf.join(" "), zarr: opts.zarr,
    repeats, lines: [], results: {},
  };
  for (const spec of opts.queries) {
    let reference: QueryResult | undefined;
    for (const s of sources) {
      setRemoteMode(s.mode ?? "ranged");
      const cold: Measurement[] = [];
      let last: Awaited<ReturnType<typeof measure>> | undefined;
      for (let i = 0; i < repeats; i++) {
        last?.ds.close();
        if (remote) coldStart();
        last = await measure(s.open, spec);
        cold.push(last.m);
      }
      const warm: Measurement[] = [];
      for (let i = 0; i < repeats; i++) warm.push((await measure(s.open, spec, last!.ds)).m);
      last!.ds.close();
      const result = last!.result;
      if (reference) assertSame(reference, result, spec.kind);
      else reference = result;
      if (s.source === "zarr") report.results[spec.kind] = result;
      const io = cold[cold.length - 1]!;
      const q = result.query;
      const line: BenchLine = {
        source: s.source, query: spec.kind, describe: q.describe, cold: stats(cold.map((m) => m.ms)), warm: stats(warm.map((m) => m.ms)),
        requests: io.requests, bytesTransferred: io.bytes,
        bytesDecoded: decodedBytes(q.array.cells, q.start, q.count, q.array.itemSize),
        lowerBoundMs: lowerBoundFromSpans(io.spans, profile),
      };
      report.lines.push(line);
      opts.onLine?.(line);
    }
  }
  setRemoteMode("ranged");
  return report;
}
