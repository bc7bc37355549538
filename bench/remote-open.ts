/**
 * bench:remote — what it costs to open a NetCDF-4 file on object storage and read one chunk, by
 * ranged reads (our default) and by downloading the whole file first, on the local S3 endpoint with
 * and without the simulated S3 Standard latency profile (lib/s3local/proxy.ts). Each measurement is
 * a fresh process (cold caches, as a new user's first query). Prints medians and the ratios.
 *
 *   npm run bench:remote -- [--repeats 5]
 *
 * The file: 400 x 360 x 360 float32, chunks (1, 360, 360), deflate + shuffle (132 MB; made by
 * bench/peers/make_single_file.py).
 */
import { spawnSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startLocalS3 } from "../lib/s3local/start.js";
import { PROFILES, startProxy } from "../lib/s3local/proxy.js";
import { S3Store } from "../lib/store/s3.js";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const { values: a } = parseArgs({ options: { repeats: { type: "string", default: "5" } } });
const repeats = Number(a.repeats);
const work = join(ROOT, ".bench");
const file = join(work, "single-400x360x360.nc");
if (!existsSync(file)) {
  mkdirSync(work, { recursive: true });
  console.log(`generating ${file} …`);
  const g = spawnSync("/usr/bin/python3", [join(ROOT, "bench/peers/make_single_file.py"), file], { encoding: "utf8" });
  if (g.status !== 0) throw new Error(g.stderr);
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

interface Sample { loadMs: number; openMs: number; readMs: number; openRequests: number; requests: number; bytes: number; values: number; first: number }
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** Async spawn: this process serves the proxy, so it must not block. */
function child(env: Record<string, string>, mode: string): Promise<Sample> {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, [join(ROOT, "dist/bench/remote-open-child.js"), "s3://c2z-bench/single.nc", mode, "/sst", "200"], {
      env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    let out = "", err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("close", (code) => (code === 0 ? ok(JSON.parse(out) as Sample) : fail(new Error(err))));
  });
}

const s3 = await startLocalS3({ dataDir: join(work, "s3-data"), buckets: ["c2z-bench"] });
try {
  await new S3Store("s3://c2z-bench", { settings: s3.settings }).set("/single.nc", readFileSync(file));
  console.log(`file: ${file} (${(readFileSync(file).byteLength / 1e6).toFixed(0)} MB); one chunk = sst[200, :, :]; ${repeats} cold runs each, medians`);
  console.log("profile                     mode      open ms  read ms  total ms  requests  MB transferred  (h5wasm load ms)");
  const results: Record<string, number> = {};
  for (const profile of [PROFILES.local, PROFILES.s3]) {
    const proxy = await startProxy({ upstream: s3.endpoint, profile });
    try {
      for (const mode of ["ranged", "download"]) {
        const samples: Sample[] = [];
        for (let i = 0; i < repeats; i++) samples.push(await child({ ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint }, mode));
        if (new Set(samples.map((s) => s.first)).size !== 1 || samples[0]!.values !== 360 * 360) throw new Error("runs disagree on the chunk's values");
        const open = median(samples.map((s) => s.openMs)), read = median(samples.map((s) => s.readMs));
        results[`${profile.name}/${mode}`] = open + read;
        console.log(`${profile.name.padEnd(27)} ${mode.padEnd(8)} ${open.toFixed(0).padStart(8)} ${read.toFixed(0).padStart(8)} ${(open + read).toFixed(0).padStart(9)} ${String(median(samples.map((s) => s.requests))).padStart(9)} ${(median(samples.map((s) => s.bytes)) / 1e6).toFixed(2).padStart(15)}  (${median(samples.map((s) => s.loadMs)).toFixed(0)})`);
      }
    } finally {
      await proxy.stop();
    }
  }
  for (const p of [PROFILES.local, PROFILES.s3]) {
    console.log(`${p.name}: download / ranged = ${(results[`${p.name}/download`]! / results[`${p.name}/ranged`]!).toFixed(1)}x`);
  }
  console.log(`(S3 profile: ${PROFILES.s3.firstByteMs} ms + U[0, ${PROFILES.s3.jitterMs}) ms first byte, ${PROFILES.s3.bytesPerSecond / 1e6} MB/s per connection; simulated — ${PROFILES.s3.source})`);
} finally {
  await s3.stop();
}
