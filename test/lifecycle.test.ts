/**
 * A store's life: killed at any point and resumed, it ends byte-identical to an uninterrupted run;
 * a second writer is refused; appending files equals converting them all at once, and appending the
 * same files twice is refused.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT, PYTHON_MISSING, cli, dailyArchive, tempDir } from "./helpers.js";
import { storeDifferences } from "./store-compare.js";
import { encodeJson, parseJson } from "../lib/zarr/json.js";
import { unshuffle } from "../lib/zarr/shuffle.js";

const BIN = join(ROOT, "bin/convert-to-zarr");

/** Starts the CLI in the background. */
function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  return { child, done, stderr: () => stderr };
}

describe("store lifecycle", { skip: PYTHON_MISSING }, () => {
  const tmp = tempDir("lifecycle");
  let days: string[] = [];
  before(() => {
    days = dailyArchive(join(tmp.dir, "days"), ["--days", "8", "--nlat", "91", "--nlon", "144"]);
  });
  after(() => tmp.cleanup());

  // Small tasks (8 MiB budget) so a kill lands between many completion records; gzip -9 makes the
  // writing phase long next to process start-up, so most kill points land inside it.
  const BASE_OPTS = ["--chunks", "time=48,lat=30,lon=36", "--max-mem", "8MiB", "-q", "--codec", "gzip", "--level", "9"];
  const OPTS = [...BASE_OPTS, "--executor", "inline"];

  // v2 on worker threads: kills also land between a split task's read, encode and finish steps.
  for (const [format, executor] of [["3", "inline"], ["2", "threads"]] as const) {
    test(`SIGKILL at any point, then --resume: byte-identical to an uninterrupted run (v${format}, ${executor})`, async () => {
      const OPTS = [...BASE_OPTS, "--executor", executor, "--workers", "2"];
      const reference = join(tmp.dir, `reference.v${format}.zarr`);
      const t0 = performance.now();
      const r = cli(["convert", ...days, "-o", reference, "--zarr-format", format, ...OPTS]);
      const duration = performance.now() - t0;
      assert.equal(r.status, 0, r.stderr);
      let interrupted = 0;
      // Kill on observed progress (started; first task done; half done; all done, i.e. while finishing),
      // then at points spread over an uninterrupted run's duration, whatever this machine's speed.
      const progress = (out: string) => {
        const marker = existsSync(join(out, ".convert-to-zarr-in-progress"));
        const done = existsSync(join(out, ".convert-to-zarr", "done")) ? readdirSync(join(out, ".convert-to-zarr", "done")).length : 0;
        const job = join(out, ".convert-to-zarr", "job.json");
        const total = existsSync(job) ? (JSON.parse(readFileSync(job, "utf8")) as { tasks: unknown[] }).tasks.length : Infinity;
        return { marker, done, total };
      };
      const when: ((p: ReturnType<typeof progress>) => boolean)[] = [
        (p) => p.marker, (p) => p.done >= 1, (p) => p.done >= p.total / 2, (p) => p.done >= p.total,
      ];
      const points = [...when.map((w) => ({ w })), ...[0.3, 0.6, 0.9].map((f) => ({ ms: Math.round(f * duration) }))];
      for (const [n, point] of points.entries()) {
        const out = join(tmp.dir, `killed-${format}-${n}.zarr`);
        const run = start(["convert", ...days, "-o", out, "--zarr-format", format, ...OPTS]);
        if ("w" in point) {
          let ended = false;
          void run.done.then(() => (ended = true));
          while (!ended && !point.w(progress(out))) await sleep(2);
        } else await sleep(point.ms);
        run.child.kill("SIGKILL");
        await run.done;
        const delay = "w" in point ? `progress point ${n}` : `${point.ms} ms`;
        if (existsSync(join(out, ".convert-to-zarr-in-progress"))) {
          interrupted++;
          const refused = cli(["convert", ...days, "-o", out, "--zarr-format", format, ...OPTS]);
          assert.equal(refused.status, 1);
          assert.match(refused.stderr, /incomplete store from an interrupted run; use --resume to continue or --overwrite to start over/);
        }
        const resumed = cli(["convert", ...days, "-o", out, "--zarr-format", format, ...OPTS, "--resume"]);
        assert.equal(resumed.status, 0, `killed at ${delay}: ${resumed.stderr}`);
        assert.deepEqual(storeDifferences(reference, out), [], `killed at ${delay}`);
      }
      assert.ok(interrupted >= 3, `only ${interrupted} kills landed mid-run`);
    });
  }

  test("--resume with other options is refused; --resume on a complete store does nothing", () => {
    const out = join(tmp.dir, "resume-options.zarr");
    assert.equal(cli(["convert", ...days, "-o", out, ...OPTS]).status, 0);
    const again = cli(["convert", ...days, "-o", out, ...OPTS, "--resume"]);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /is already complete; nothing to do/);
  });

  test("a second writer is refused while the first holds the lock", async () => {
    const out = join(tmp.dir, "concurrent.zarr");
    // A bigger archive and gzip -9 keep the first writer busy (seconds) while the others try.
    const big = dailyArchive(join(tmp.dir, "big"), ["--days", "8", "--nlat", "181", "--nlon", "288"]);
    const slow = ["--chunks", "time=48,lat=30,lon=36", "--max-mem", "64MiB", "--executor", "inline", "-q", "--codec", "gzip", "--level", "9"];
    const first = start(["convert", ...big, "-o", out, ...slow]);
    let exited = false;
    void first.done.then(() => (exited = true));
    while (!existsSync(join(out, ".convert-to-zarr", "lock"))) {
      assert.ok(!exited, `the first writer ended before taking the lock: ${first.stderr()}`);
      await sleep(10);
    }
    const others = await Promise.all([[], ["--overwrite"], ["--resume"]].map(async (extra) => {
      const r = start(["convert", ...big, "-o", out, ...slow, ...extra]);
      return { code: await r.done, stderr: r.stderr() };
    }));
    for (const second of others) {
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`concurrent\\.zarr: store is being written by [^:]+:${first.child.pid} since \\d{4}-`));
    }
    assert.equal(await first.done, 0, first.stderr());
    assert.equal(cli(["verify", ...big, out]).status, 0);
  });

  test("two writers starting together: exactly one wins", async () => {
    const out = join(tmp.dir, "race.zarr");
    const a = start(["convert", ...days, "-o", out, ...OPTS]);
    const b = start(["convert", ...days, "-o", out, ...OPTS]);
    const codes = [await a.done, await b.done].sort();
    assert.deepEqual(codes, [0, 1], a.stderr() + b.stderr());
    assert.match(a.stderr() + b.stderr(), /store is being written by|output already exists/);
    assert.equal(cli(["verify", ...days, out]).status, 0);
  });

  // Each format with its default (v2: byte shuffle, v3: none) and the other choice.
  for (const [format, shuffle] of [["3", ""], ["3", "--shuffle"], ["2", ""], ["2", "--no-shuffle"]] as const) {
    test(`append equals converting all files at once, and the same files twice are refused (v${format} ${shuffle || "default"})`, () => {
      const chunks = ["--chunks", "time=36,lat=30,lon=36", "--zarr-format", format, "-q", ...(shuffle ? [shuffle] : [])];
      const name = `v${format}${shuffle}`;
      const shuffled = shuffle === "--shuffle" || (format === "2" && shuffle === "");
      const all = join(tmp.dir, `all.${name}.zarr`), grown = join(tmp.dir, `grown.${name}.zarr`);
      assert.equal(cli(["convert", ...days, "-o", all, ...chunks]).status, 0);
      assert.equal(cli(["convert", ...days.slice(0, 5), "-o", grown, ...chunks]).status, 0); // 120 rows: a partial chunk
      // On worker threads: the prefilled partial chunk row travels in a split task's shared block.
      const app = cli(["convert", ...days.slice(5), "-o", grown, "--append", "-q", "--executor", "threads", "--workers", "2"]);
      assert.equal(app.status, 0, app.stderr);
      assert.match(app.stdout, new RegExp(`^appended to .*grown\\.${name}\\.zarr \\(Zarr v${format}, ${shuffled ? "shuffle \\+ " : ""}zstd\\)`));
      assert.deepEqual(storeDifferences(all, grown), []);
      assert.equal(cli(["verify", ...days, grown]).status, 0);
      // The append kept the store's shuffle choice (storeDifferences compared the metadata too).
      const meta = readFileSync(join(grown, format === "2" ? "T2M/.zarray" : "T2M/zarr.json"), "utf8");
      assert.equal(/"shuffle"|numcodecs\.shuffle/.test(meta), shuffled, meta);

      const twice = cli(["convert", ...days.slice(5), "-o", grown, "--append"]);
      assert.equal(twice.status, 1);
      assert.match(twice.stderr, /does not match the store .*: time starts at 120, not after the store's last time 191 \(already appended\?\)$/m);
      assert.deepEqual(storeDifferences(all, grown), [], "a refused append changes nothing");
    });
  }

  test("an append that would shuffle an array the store keeps unshuffled is refused", () => {
    const out = join(tmp.dir, "shuffle-mismatch.zarr");
    assert.equal(cli(["convert", ...days.slice(0, 2), "-o", out, "--zarr-format", "2", "--codec", "gzip", "-q"]).status, 0);
    // As another tool might write it: every array shuffled but time (its chunks rewritten to match).
    const dir = join(out, "time");
    const zarray = parseJson(readFileSync(join(dir, ".zarray"), "utf8")) as { filters: { elementsize: number }[] };
    for (const chunk of readdirSync(dir).filter((f) => !f.startsWith("."))) {
      writeFileSync(join(dir, chunk), gzipSync(unshuffle(gunzipSync(readFileSync(join(dir, chunk))), zarray.filters[0]!.elementsize)));
    }
    writeFileSync(join(dir, ".zarray"), encodeJson({ ...zarray, filters: null }));
    // In the consolidated metadata, edited as text: parsed and written again, 10.0 would become 10.
    const text = readFileSync(join(out, ".zmetadata"), "utf8"), at = text.indexOf('"time/.zarray"');
    const from = text.indexOf('"filters": [', at), to = text.indexOf("]", from) + 1;
    assert.ok(at > 0 && from > at && to > from);
    writeFileSync(join(out, ".zmetadata"), `${text.slice(0, from)}"filters": null${text.slice(to)}`);
    assert.equal(cli(["verify", ...days.slice(0, 2), out]).status, 0, "the edited store is valid");
    const r = cli(["convert", days[2]!, "-o", out, "--append"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /does not match the store .*: variable \/time is stored without byte shuffle; this append would shuffle it$/m);
  });

  test("an append whose files do not match the store is refused, naming the difference", () => {
    const out = join(tmp.dir, "mismatch.zarr");
    assert.equal(cli(["convert", ...days.slice(0, 2), "-o", out, "-q"]).status, 0);
    const [other] = dailyArchive(join(tmp.dir, "other"), ["--days", "1", "--nlat", "91", "--nlon", "144", "--start", "2021-01-03", "--lat0", "-89", "--units", "hours since 2021-01-01 00:00:00"]);
    const r = cli(["convert", other!, "-o", out, "--append"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /does not match the store .*mismatch\.zarr: variable \/lat: value differs at \[0\]: file -89, store -90$/m);
    // A day in time units of its own ("hours since 2021-01-02") is re-expressed in the store's (its 0 is
    // the store's 24), so appending a day the store has is still caught.
    const [units] = dailyArchive(join(tmp.dir, "units"), ["--days", "1", "--nlat", "91", "--nlon", "144", "--start", "2021-01-02"]);
    const u = cli(["convert", units!, "-o", out, "--append"]);
    assert.equal(u.status, 1);
    assert.match(u.stderr, /does not match the store .*: time starts at 24, not after the store's last time 47 \(already appended\?\)$/m);
  });
});
