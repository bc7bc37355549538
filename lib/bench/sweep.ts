/**
 * The chunk-size trade-off, measured: the same data converted with several target chunkings, and for
 * each the conversion time, object count, bytes stored and every query's latency from the store.
 */
import { convert, type ConvertOptions } from "../convert.js";
import { ConvertError } from "../errors.js";
import { expandInputs } from "../io/inputs.js";
import { openStore } from "../store/open.js";
import { isS3Url } from "../store/s3-url.js";
import { join } from "node:path";
import type { LatencyProfile } from "../s3local/proxy.js";
import { openNetcdfDataset } from "./readers.js";
import { defaultVariable, type QuerySpec } from "./queries.js";
import { runBench, type BenchLine } from "./run.js";

export interface SweepOptions {
  netcdf: readonly string[];
  /** Where the stores go: a directory or an s3:// prefix; one store per chunking below it. */
  out: string;
  /** Target chunks in the variable's dimension order, e.g. [[24, 361, 576], [1080, 90, 90]]. */
  chunkings: readonly number[][];
  /** Default: the first variable (by name) with lat/lon dimensions. Only it (and its coordinates) is converted. */
  variable?: string;
  queries: readonly QuerySpec[];
  /** Use only the first N input files (a subset keeps a sweep quick). */
  files?: number;
  repeats?: number;
  profile?: LatencyProfile;
  convert?: Partial<ConvertOptions>;
  onPoint?: (p: SweepPoint) => void;
}

export interface SweepPoint {
  chunks: number[];
  label: string;
  store: string;
  convertSeconds: number;
  objects: number;
  /** Compressed chunk bytes written (metadata documents not counted). */
  storedBytes: number;
  queries: BenchLine[];
}

export const chunkLabel = (c: readonly number[]) => c.join("x");

export async function chunkSweep(opts: SweepOptions): Promise<SweepPoint[]> {
  if (opts.chunkings.length === 0) throw new ConvertError("Usage", "a sweep needs at least one chunking");
  const inputs = (await expandInputs(opts.netcdf)).slice(0, opts.files ?? Infinity);
  const probe = await openNetcdfDataset(inputs);
  const variable = opts.variable ? (opts.variable.startsWith("/") ? opts.variable : `/${opts.variable}`) : defaultVariable(probe);
  const arr = await probe.array(variable);
  probe.close();
  const points: SweepPoint[] = [];
  for (const chunks of opts.chunkings) {
    if (chunks.length !== arr.dims.length) {
      throw new ConvertError("Usage", `chunking ${chunkLabel(chunks)} has ${chunks.length} sizes; ${variable} has ${arr.dims.length} dimensions (${arr.dims.join(", ")})`);
    }
    const label = chunkLabel(chunks);
    const store = isS3Url(opts.out) ? `${opts.out.replace(/\/+$/, "")}/chunks-${label}.zarr` : join(opts.out, `chunks-${label}.zarr`);
    const summary = await convert(inputs, {
      ...opts.convert, out: store, overwrite: true, variables: [variable.slice(1)],
      chunks: Object.fromEntries(arr.dims.map((d, i) => [d, Math.min(chunks[i]!, arr.shape[i]!)])),
    });
    let objects = 0;
    for await (const _ of openStore(store).list("/")) objects++;
    const bench = await runBench({ netcdf: inputs, zarr: store, queries: opts.queries.map((q) => ({ ...q, variable })), repeats: opts.repeats ?? 3, zarrOnly: true, ...(opts.profile && { profile: opts.profile }) });
    const point: SweepPoint = { chunks, label, store, convertSeconds: summary.seconds, objects, storedBytes: summary.bytesWritten, queries: bench.lines };
    points.push(point);
    opts.onPoint?.(point);
  }
  return points;
}
