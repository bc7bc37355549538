/** One cold measurement for bench/remote-open.ts: open a remote NetCDF-4 file, read one chunk. */
import { setRemoteMode, type RemoteMode } from "../lib/io/open.js";
import { openSource } from "../lib/source/open.js";
import { loadH5wasm } from "../lib/source/netcdf4.js";
import { storageMetrics, totalsOf } from "../lib/store/metrics.js";

const [url, mode, variable, index] = process.argv.slice(2) as [string, RemoteMode, string, string];
setRemoteMode(mode);
const s0 = performance.now();
await loadH5wasm(); // start-up cost, the same for both modes: reported apart
const t0 = performance.now();
const f = await openSource(url);
const opened = performance.now();
const afterOpen = totalsOf(storageMetrics.summary());
const v = f.dataset.root.variables.find((x) => x.path === variable)!;
const start = v.shape.map((_, i) => (i === 0 ? Number(index) : 0));
const count = v.shape.map((n, i) => (i === 0 ? 1 : n));
const data = f.read(variable, start, count) as Float32Array;
const read = performance.now();
const total = totalsOf(storageMetrics.summary());
f.close();
process.stdout.write(JSON.stringify({
  loadMs: t0 - s0, openMs: opened - t0, readMs: read - opened, openRequests: afterOpen.requests, requests: total.requests, bytes: total.bytesIn,
  values: data.length, first: data[0],
}) + "\n");
