/**
 * Plotly figures ({ data, layout }, plain JSON) for the benchmark's results: before/after latency per
 * query (log scale), the queried time series itself (like the original sample's plot), and the chunk
 * sweep. Rendering them (JupyterLab, classic notebook, nbconvert HTML) is the notebook helpers' job.
 */
import { decodeCF, type QueryResult } from "../bench/queries.js";
import { isoTime } from "../bench/coords.js";
import type { BenchReport, Source } from "../bench/run.js";
import type { SweepPoint } from "../bench/sweep.js";

export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const SOURCE_NAMES: Record<Source, string> = {
  netcdf: "NetCDF (byte ranges)", "netcdf-download": "NetCDF (whole-file download)", zarr: "Zarr",
};

/** Cold median per query and source, with p90 as the error bar; log scale. */
export function latencyChart(report: BenchReport): Figure {
  const queries = [...new Set(report.lines.map((l) => l.query))];
  const sources = [...new Set(report.lines.map((l) => l.source))];
  const data = sources.map((source) => {
    const lines = queries.map((q) => report.lines.find((l) => l.query === q && l.source === source));
    return {
      type: "bar", name: SOURCE_NAMES[source], x: queries,
      y: lines.map((l) => l?.cold.medianMs ?? null),
      error_y: { type: "data", symmetric: false, array: lines.map((l) => (l ? l.cold.p90Ms - l.cold.medianMs : 0)), arrayminus: lines.map(() => 0) },
      text: lines.map((l) => (l ? `${l.requests} requests` : "")),
    };
  });
  return {
    data,
    layout: {
      title: { text: `Query latency before and after conversion — ${report.profile.name}${report.simulated ? " (simulated)" : ""}` },
      barmode: "group", yaxis: { type: "log", title: { text: "cold median, ms (log)" } }, xaxis: { title: { text: "query" } },
    },
  };
}

/** The point query's time series, CF-decoded (packed values scaled, fill values as gaps). */
export function timeSeriesChart(result: QueryResult): Figure {
  const q = result.query;
  const time = q.time;
  const t = time ? q.coords[time.dim] ?? [] : [];
  const x = time?.units ? t.map((v) => isoTime(v, time.units!)) : t;
  const y = Array.from(decodeCF(result.values, q.array.attrs), (v) => (Number.isNaN(v) ? null : v));
  const units = q.array.attrs["units"] ? ` (${String(q.array.attrs["units"])})` : "";
  return {
    // simplify: false keeps every point in the drawn path (plotly drops collinear ones by default).
    data: [{ type: "scatter", mode: "lines", name: q.array.path.slice(1), x, y, line: { simplify: false } }],
    layout: { title: { text: q.describe }, xaxis: { title: { text: time?.dim ?? "index" } }, yaxis: { title: { text: `${q.array.path.slice(1)}${units}` } } },
  };
}

/** Per chunking: each query's cold latency (bars, log) and the conversion time (line, right axis). */
export function sweepChart(points: readonly SweepPoint[]): Figure {
  const labels = points.map((p) => p.label);
  const queries = [...new Set(points.flatMap((p) => p.queries.map((l) => l.query)))];
  const bars = queries.map((q) => ({
    type: "bar", name: `${q} query`, x: labels,
    y: points.map((p) => p.queries.find((l) => l.query === q)?.cold.medianMs ?? null),
    text: points.map((p) => `${p.objects} objects`),
  }));
  const conversion = { type: "scatter", mode: "lines+markers", name: "conversion (s)", x: labels, y: points.map((p) => p.convertSeconds), yaxis: "y2" };
  return {
    data: [...bars, conversion],
    layout: {
      title: { text: "Chunk shape trade-off" }, barmode: "group",
      xaxis: { title: { text: "target chunks" } }, yaxis: { type: "log", title: { text: "query, cold median ms (log)" } },
      yaxis2: { overlaying: "y", side: "right", title: { text: "conversion, s" } },
    },
  };
}
